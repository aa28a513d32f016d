"""Sign-in: password, lockout, second factor, landing page per role."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from conftest import PASSWORD

LOGIN = "/accounts/login/"


def _current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


@pytest.mark.django_db
def test_patient_signs_in_with_password_and_lands_on_patient_portal(client, patient) -> None:
    response = client.post(LOGIN, {"username": "Pat.Jones@Example.org", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/patient/"
    assert response.status_code == 200
    assert "Pat Jones" in response.content.decode()


@pytest.mark.django_db
def test_sign_in_issues_a_new_session_key(client, patient) -> None:
    client.get(LOGIN)
    client.cookies["sessionid"] = "attacker-chosen-session-key"
    client.post(LOGIN, {"username": patient.user.email, "password": PASSWORD})
    assert client.cookies["sessionid"].value != "attacker-chosen-session-key"


@pytest.mark.django_db
def test_wrong_password_and_unknown_email_get_the_same_message(client, patient) -> None:
    wrong = client.post(LOGIN, {"username": patient.user.email, "password": "not-the-password-123"})
    unknown = client.post(LOGIN, {"username": "nobody@example.org", "password": "not-the-password-123"})
    assert wrong.status_code == unknown.status_code == 200
    assert "The email or password is not right." in wrong.content.decode()
    assert "The email or password is not right." in unknown.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_unverified_patient_cannot_sign_in(client) -> None:
    import datetime as dt

    from patients.services import patient_create

    patient_create(email="new@example.org", full_name="New Person", password=PASSWORD, date_of_birth=dt.date(1990, 1, 1))
    response = client.post(LOGIN, {"username": "new@example.org", "password": PASSWORD})
    assert "Please confirm your email address first" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
@pytest.mark.parametrize("existing", [True, False])
def test_five_failures_lock_the_account_for_fifteen_minutes_whether_or_not_it_exists(client, patient, existing) -> None:
    email = patient.user.email if existing else "ghost@example.org"
    for n in range(5):
        # A different, spoofed X-Forwarded-For each time must not reset the count.
        client.post(LOGIN, {"username": email, "password": "wrong-password-xyz"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    locked = client.post(LOGIN, {"username": email, "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert locked.status_code == 429
    body = locked.content.decode()
    assert "Sign-in is blocked for 15 minutes" in body
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_applies_from_any_address(patient) -> None:
    for n in range(5):
        Client(REMOTE_ADDR=f"192.0.2.{n}").post(LOGIN, {"username": patient.user.email, "password": "wrong-password-xyz"})
    fresh = Client(REMOTE_ADDR="192.0.2.200")
    response = fresh.post(LOGIN, {"username": patient.user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in fresh.session


@pytest.mark.django_db
def test_lockout_ends_after_the_cool_off(client, patient, settings) -> None:
    import datetime as dt

    from axes.models import AccessAttempt

    for _n in range(5):
        client.post(LOGIN, {"username": patient.user.email, "password": "wrong-password-xyz"})
    AccessAttempt.objects.update(attempt_time=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    response = client.post(LOGIN, {"username": patient.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(patient.user.pk)


@pytest.mark.django_db
def test_provider_without_authenticator_must_enrol_before_the_portal(client, provider) -> None:
    response = client.post(LOGIN, {"username": provider.user.email, "password": PASSWORD})
    assert response["Location"] == reverse("accounts:mfa-setup")
    assert "_auth_user_id" not in client.session  # not signed in until the second factor
    page = client.get(reverse("accounts:mfa-setup"))
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=provider.user, confirmed=False)
    wrong = client.post(reverse("accounts:mfa-setup"), {"code": "000000" if _current_code(device) != "000000" else "111111"})
    assert "That code is not right" in wrong.content.decode()
    done = client.post(reverse("accounts:mfa-setup"), {"code": _current_code(device)})
    assert done["Location"] == reverse("accounts:mfa-recovery-codes")
    codes_page = client.get(reverse("accounts:mfa-recovery-codes")).content.decode()
    codes = list(StaticToken.objects.filter(device__user=provider.user).values_list("token", flat=True))
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert all(code in codes_page for code in codes)
    assert client.get("/provider/").status_code == 200
    # Shown once only.
    assert client.get(reverse("accounts:mfa-recovery-codes"))["Location"] == reverse("accounts:security")


@pytest.fixture
def enrolled_provider(provider):
    device = TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    codes = services.mfa_recovery_codes_regenerate(user=provider.user)
    return provider, device, codes


@pytest.mark.django_db
def test_provider_signs_in_with_a_totp_code(client, enrolled_provider) -> None:
    provider, device, _codes = enrolled_provider
    first = client.post(LOGIN, {"username": provider.user.email, "password": PASSWORD})
    assert first["Location"] == reverse("accounts:login-otp")
    assert client.get("/provider/")["Location"].startswith("/accounts/login/")
    second = client.post(reverse("accounts:login-otp"), {"code": _current_code(device)})
    assert second["Location"] == "/"
    assert client.get("/provider/").status_code == 200


@pytest.mark.django_db
def test_recovery_code_works_once(client, enrolled_provider) -> None:
    provider, _device, codes = enrolled_provider
    client.post(LOGIN, {"username": provider.user.email, "password": PASSWORD})
    assert client.post(reverse("accounts:login-otp"), {"code": codes[0]})["Location"] == "/"
    client.post(reverse("accounts:logout"))
    client.post(LOGIN, {"username": provider.user.email, "password": PASSWORD})
    reused = client.post(reverse("accounts:login-otp"), {"code": codes[0]})
    assert reused.status_code == 200
    assert "already used" in reused.content.decode()


@pytest.mark.django_db
def test_wrong_codes_count_towards_the_lockout(client, enrolled_provider) -> None:
    provider, device, _codes = enrolled_provider
    client.post(LOGIN, {"username": provider.user.email, "password": PASSWORD})
    wrong = "123456" if _current_code(device) != "123456" else "654321"
    statuses = [client.post(reverse("accounts:login-otp"), {"code": wrong}).status_code for _n in range(5)]
    assert statuses[-1] == 429
    blocked = client.post(reverse("accounts:login-otp"), {"code": _current_code(device)})
    assert blocked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_provider_session_without_second_factor_is_not_trusted(client, provider) -> None:
    client.force_login(provider.user)
    response = client.get("/provider/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_admin_requires_the_second_factor(client, staff_client, admin_user) -> None:
    client.force_login(admin_user)
    assert client.get("/admin/").status_code == 302
    assert staff_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_login_page_sends_staff_to_the_portal_sign_in(client) -> None:
    response = client.get("/admin/login/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert 'name="username"' in response.content.decode()


@pytest.mark.django_db
def test_patient_may_turn_two_step_sign_in_on_and_off(patient_client, patient) -> None:
    # Changes to how the account signs in ask for the password again first.
    assert patient_client.get(reverse("accounts:mfa-setup"))["Location"].startswith(reverse("accounts:reauth"))
    patient_client.post(reverse("accounts:reauth"), {"password": PASSWORD})
    page = patient_client.get(reverse("accounts:mfa-setup"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=patient.user, confirmed=False)
    patient_client.post(reverse("accounts:mfa-setup"), {"code": _current_code(device)})
    assert services.mfa_enabled(patient.user)
    patient_client.post(reverse("accounts:mfa-disable"))
    assert not services.mfa_enabled(patient.user)


@pytest.mark.django_db
def test_provider_may_not_turn_two_step_sign_in_off(provider_client, provider) -> None:
    device = TOTPDevice.objects.get(user=provider.user, confirmed=True)
    provider_client.post(reverse("accounts:reauth"), {"password": PASSWORD, "code": _current_code(device)})
    response = provider_client.post(reverse("accounts:mfa-disable"), follow=True)
    assert "required for your account" in response.content.decode()
    assert services.mfa_enabled(provider.user)


@pytest.mark.django_db
def test_portals_are_closed_to_the_other_role_and_to_visitors(client, patient_client, provider_client) -> None:
    assert patient_client.get("/provider/").status_code == 403
    assert provider_client.get("/patient/").status_code == 403
    for url in ("/patient/", "/provider/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.django_db
def test_home_sends_each_role_to_its_portal(client, patient_client, provider_client, staff_client) -> None:
    assert client.get("/")["Location"] == "/accounts/login/"
    assert patient_client.get("/")["Location"] == "/patient/"
    assert provider_client.get("/")["Location"] == "/provider/"
    assert staff_client.get("/")["Location"] == "/admin/"


@pytest.mark.django_db
def test_next_parameter_cannot_redirect_off_site(client, patient) -> None:
    response = client.post(LOGIN, {"username": patient.user.email, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_one_persons_failures_do_not_lock_out_others_behind_the_same_address(patient, other_patient) -> None:
    clinic_wifi = "192.0.2.50"
    for _n in range(5):
        Client(REMOTE_ADDR=clinic_wifi).post(LOGIN, {"username": patient.user.email, "password": "wrong-password-xyz"})
    neighbour = Client(REMOTE_ADDR=clinic_wifi)
    response = neighbour.post(LOGIN, {"username": other_patient.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert neighbour.session.get("_auth_user_id") == str(other_patient.user.pk)


@pytest.mark.django_db
def test_spraying_many_accounts_from_one_address_is_stopped(other_patient, settings) -> None:
    settings.AXES_ADDRESS_FAILURE_LIMIT = 12
    sprayer = "192.0.2.66"
    for n in range(12):
        Client(REMOTE_ADDR=sprayer).post(LOGIN, {"username": f"user{n}@example.org", "password": "Spring2026!!"})
    response = Client(REMOTE_ADDR=sprayer).post(LOGIN, {"username": other_patient.user.email, "password": PASSWORD})
    assert response.status_code == 429
    # The account itself is not locked: from elsewhere its owner signs in.
    elsewhere = Client(REMOTE_ADDR="198.51.100.9")
    assert elsewhere.post(LOGIN, {"username": other_patient.user.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_tries_left_are_shown_from_the_third_failure_and_the_email_stays(client, patient) -> None:
    bodies = [
        client.post(LOGIN, {"username": patient.user.email, "password": "wrong-password-xyz"}).content.decode()
        for _n in range(4)
    ]
    assert "tries left" not in bodies[0] and "tries left" not in bodies[1]
    assert "2 tries left before sign-in to this account is blocked for 15 minutes." in bodies[2]
    assert "1 try left before sign-in to this account is blocked for 15 minutes." in bodies[3]
    client.post(LOGIN, {"username": patient.user.email, "password": "wrong-password-xyz"})
    locked = client.post(LOGIN, {"username": patient.user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert f'value="{patient.user.email}"' in locked.content.decode()
