"""Changing how an account signs in: password (and code) again, a few minutes' grace, an email each time."""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import User
from accounts.reauth import REAUTH_AT_KEY
from conftest import PASSWORD

REAUTH = "/accounts/security/confirm/"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _wrong(device: TOTPDevice) -> str:
    return "000000" if _code(device) != "000000" else "111111"


@pytest.fixture
def mfa_patient(patient, patient_client):
    """Patient A with two-step sign-in on, signed in with it."""
    from django_otp import DEVICE_ID_SESSION_KEY

    device = TOTPDevice.objects.create(user=patient.user, name="phone", confirmed=True)
    services.mfa_recovery_codes_regenerate(user=patient.user)
    session = patient_client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return patient_client, device


def _reauth(client: Client, device: TOTPDevice | None = None) -> None:
    data = {"password": PASSWORD}
    if device is not None:
        # A code not used before (a TOTP code works once); step the device back if needed.
        data["code"] = _code(device)
    response = client.post(REAUTH, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert REAUTH_AT_KEY in client.session


SENSITIVE = [
    ("get", "accounts:mfa-setup"),
    ("post", "accounts:mfa-setup"),
    ("post", "accounts:mfa-disable"),
    ("post", "accounts:mfa-recovery-codes-regenerate"),
    ("get", "accounts:email-change"),
    ("post", "accounts:email-change"),
    ("get", "accounts:password-change"),
    ("post", "accounts:password-change"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "name"), SENSITIVE)
def test_security_changes_ask_for_the_password_again(mfa_patient, patient, method, name) -> None:
    client, device = mfa_patient
    before = (
        list(TOTPDevice.objects.filter(user=patient.user).values()),
        sorted(
            StaticToken.objects.filter(device__user=patient.user).values_list("token", flat=True)
        ),
        User.objects.filter(pk=patient.user.pk).values("email", "password").get(),
    )
    data = {
        "code": _code(device),
        "email": "new@example.org",
        "new_password1": "Harbor-lantern-quiet-99",
        "new_password2": "Harbor-lantern-quiet-99",
    }
    response = getattr(client, method)(reverse(name), data if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH + "?next=")
    after = (
        list(TOTPDevice.objects.filter(user=patient.user).values()),
        sorted(
            StaticToken.objects.filter(device__user=patient.user).values_list("token", flat=True)
        ),
        User.objects.filter(pk=patient.user.pk).values("email", "password").get(),
    )
    assert after == before


@pytest.mark.django_db
def test_reauthentication_needs_the_code_when_two_step_sign_in_is_on(mfa_patient) -> None:
    client, device = mfa_patient
    page = client.get(REAUTH + "?next=/accounts/security/email/").content.decode()
    assert 'name="password"' in page and 'name="code"' in page
    password_only = client.post(REAUTH, {"password": PASSWORD, "next": "/accounts/security/email/"})
    assert password_only.status_code == 200
    assert REAUTH_AT_KEY not in client.session
    wrong_code = client.post(REAUTH, {"password": PASSWORD, "code": _wrong(device)})
    assert "not right" in wrong_code.content.decode()
    assert REAUTH_AT_KEY not in client.session
    # django-otp slows down guessing after a wrong code; a person would wait a second.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    wrong_password = client.post(REAUTH, {"password": "not-the-password-1", "code": _code(device)})
    assert wrong_password.status_code == 200
    assert REAUTH_AT_KEY not in client.session
    ok = client.post(
        REAUTH, {"password": PASSWORD, "code": _code(device), "next": "/accounts/security/email/"}
    )
    assert ok["Location"] == "/accounts/security/email/"
    assert client.get("/accounts/security/email/").status_code == 200


@pytest.mark.django_db
def test_reauthentication_without_two_step_sign_in_is_the_password(patient_client) -> None:
    page = patient_client.get(REAUTH).content.decode()
    assert 'name="code"' not in page
    assert patient_client.post(REAUTH, {"password": "wrong-password-123"}).status_code == 200
    _reauth(patient_client)
    assert patient_client.get(reverse("accounts:password-change")).status_code == 200


@pytest.mark.django_db
def test_reauthentication_never_redirects_off_site(patient_client) -> None:
    response = patient_client.post(REAUTH, {"password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


@pytest.mark.django_db
def test_reauthentication_lasts_only_a_few_minutes(patient_client, settings) -> None:
    settings.REAUTH_VALID_SECONDS = 300
    _reauth(patient_client)
    assert patient_client.get(reverse("accounts:email-change")).status_code == 200
    session = patient_client.session
    session[REAUTH_AT_KEY] = time.time() - 301
    session.save()
    assert patient_client.get(reverse("accounts:email-change"))["Location"].startswith(REAUTH)


@pytest.mark.django_db
def test_guessing_at_reauthentication_locks_the_account_and_ends_the_session(
    patient_client, patient
) -> None:
    statuses = [
        patient_client.post(REAUTH, {"password": f"wrong-password-{n}"}).status_code
        for n in range(5)
    ]
    assert statuses[-1] == 429
    assert "_auth_user_id" not in patient_client.session
    fresh = Client()
    assert (
        fresh.post(
            "/accounts/login/", {"username": patient.user.email, "password": PASSWORD}
        ).status_code
        == 429
    )


@pytest.mark.django_db
def test_new_authenticator_replaces_the_old_one_only_once_confirmed(
    mfa_patient, patient, django_capture_on_commit_callbacks
) -> None:
    client, old = mfa_patient
    elsewhere = Client()
    elsewhere.force_login(patient.user)
    _reauth(client, old)
    assert client.get(reverse("accounts:mfa-setup")).status_code == 200
    new = TOTPDevice.objects.get(user=patient.user, confirmed=False)
    # Enrolment started: the old authenticator still works and is still there.
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()
    client.post(reverse("accounts:mfa-setup"), {"code": _wrong(new)})
    assert TOTPDevice.objects.filter(pk=old.pk, confirmed=True).exists()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("accounts:mfa-setup"), {"code": _code(new)})
    assert done["Location"] == reverse("accounts:mfa-recovery-codes")
    assert list(TOTPDevice.objects.filter(user=patient.user)) == [TOTPDevice.objects.get(pk=new.pk)]
    assert [m.to for m in mail.outbox] == [[patient.user.email]]
    assert "new authenticator app" in mail.outbox[0].subject
    # This session carries on with the new authenticator; sessions elsewhere end.
    assert client.get("/patient/").status_code == 200
    assert elsewhere.get("/patient/").status_code == 302


@pytest.mark.django_db
def test_turning_two_step_sign_in_off_and_new_codes_are_emailed(
    mfa_patient, patient, django_capture_on_commit_callbacks
) -> None:
    client, device = mfa_patient
    _reauth(client, device)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:mfa-recovery-codes-regenerate"))
        client.post(reverse("accounts:mfa-disable"))
    assert not services.mfa_enabled(patient.user)
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "New recovery codes were made for your account",
        "Two-step sign-in was turned off",
    ]
    assert all(m.to == [patient.user.email] for m in mail.outbox)


@pytest.mark.django_db
def test_password_change_after_reauthentication_ends_other_sessions_and_emails(
    patient, django_capture_on_commit_callbacks
) -> None:
    here, elsewhere = Client(), Client()
    for device in (here, elsewhere):
        device.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
    _reauth(here)
    with django_capture_on_commit_callbacks(execute=True):
        response = here.post(
            reverse("accounts:password-change"),
            {
                "new_password1": "Harbor-lantern-quiet-99",
                "new_password2": "Harbor-lantern-quiet-99",
            },
        )
    assert response["Location"] == reverse("accounts:password-change-done")
    assert here.get("/patient/").status_code == 200
    assert elsewhere.get("/patient/").status_code == 302
    assert [m.subject for m in mail.outbox] == ["Your password was changed"]


@pytest.mark.django_db
def test_password_change_refuses_a_weak_password(patient_client, patient) -> None:
    _reauth(patient_client)
    response = patient_client.post(
        reverse("accounts:password-change"),
        {"new_password1": "password", "new_password2": "password"},
    )
    assert response.status_code == 200
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)


def _link_path(body: str) -> str:
    import re

    return re.search(r"https?://[^/\s]+(/\S+)", body).group(1)


@pytest.mark.django_db
def test_email_change_is_confirmed_from_the_new_address_and_both_are_told(
    patient, django_capture_on_commit_callbacks
) -> None:
    here, elsewhere = Client(), Client()
    for device in (here, elsewhere):
        device.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
    _reauth(here)
    with django_capture_on_commit_callbacks(execute=True):
        here.post(reverse("accounts:email-change"), {"email": "Pat.New@Example.org"})
    assert [m.to for m in mail.outbox] == [["pat.new@example.org"]]
    patient.user.refresh_from_db()
    assert patient.user.email == "pat.jones@example.org"  # not until the link is opened
    link = _link_path(mail.outbox[0].body)
    mail.outbox.clear()
    # Opening the link asks; it does not change anything by itself (mail scanners open links).
    assert "pat.new@example.org" in here.get(link).content.decode()
    patient.user.refresh_from_db()
    assert patient.user.email == "pat.jones@example.org"
    with django_capture_on_commit_callbacks(execute=True):
        here.post(link)
    patient.user.refresh_from_db()
    assert patient.user.email == "pat.new@example.org"
    assert sorted(m.to[0] for m in mail.outbox) == ["pat.jones@example.org", "pat.new@example.org"]
    assert all("email address of your account was changed" in m.subject for m in mail.outbox)
    assert here.get("/patient/").status_code == 200
    assert elsewhere.get("/patient/").status_code == 302
    # The link is spent.
    here.post(link)
    assert User.objects.filter(email="pat.new@example.org").count() == 1
    assert (
        Client()
        .post("/accounts/login/", {"username": "pat.new@example.org", "password": PASSWORD})
        .status_code
        == 302
    )


@pytest.mark.django_db
def test_email_change_to_a_taken_address_sends_no_link_and_says_the_same(
    patient, other_patient, patient_client, django_capture_on_commit_callbacks
) -> None:
    _reauth(patient_client)
    with django_capture_on_commit_callbacks(execute=True):
        taken = patient_client.post(
            reverse("accounts:email-change"), {"email": other_patient.user.email}, follow=True
        )
        free = patient_client.post(
            reverse("accounts:email-change"), {"email": "free@example.org"}, follow=True
        )
    assert [m.to for m in mail.outbox] == [["free@example.org"]]
    assert "We sent a link to" in taken.content.decode()
    assert "We sent a link to" in free.content.decode()


@pytest.mark.django_db
def test_forged_email_change_link_changes_nothing(patient_client, patient) -> None:
    response = patient_client.post("/accounts/email/confirm/not-a-real-token/")
    assert response.status_code == 302
    patient.user.refresh_from_db()
    assert patient.user.email == "pat.jones@example.org"


@pytest.mark.django_db
def test_recovery_codes_can_be_downloaded_and_printed(patient_client, patient) -> None:
    _reauth(patient_client)
    patient_client.get(reverse("accounts:mfa-setup"))
    device = TOTPDevice.objects.get(user=patient.user, confirmed=False)
    patient_client.post(reverse("accounts:mfa-setup"), {"code": _code(device)})
    page = patient_client.get(reverse("accounts:mfa-recovery-codes")).content.decode()
    codes = list(
        StaticToken.objects.filter(device__user=patient.user).values_list("token", flat=True)
    )
    import re

    href = re.search(
        r'href="data:text/plain;charset=utf-8,([^"]+)" download="recovery-codes.txt"', page
    )
    assert href is not None
    text = unquote(href.group(1))
    assert all(code in text.splitlines() for code in codes)
    assert "data-print-page" in page
    assert "js/print-page.js" in page


@pytest.mark.django_db
def test_setup_page_does_not_mention_recovery_codes_before_any_exist(patient_client) -> None:
    _reauth(patient_client)
    page = patient_client.get(reverse("accounts:mfa-setup")).content.decode()
    assert "recovery code" not in page.lower()


@pytest.mark.django_db
def test_explicit_sign_out_does_not_also_say_the_session_ran_out(patient_client) -> None:
    patient_client.post(reverse("accounts:logout"))
    # Another tab of the portal, told its session ended, lands here at the same moment.
    page = patient_client.get("/accounts/login/?expired=1").content.decode()
    assert "You have signed out." in page
    assert "period of inactivity" not in page
    # Without an explicit sign-out, the idle notice shows.
    assert "period of inactivity" in Client().get("/accounts/login/?expired=1").content.decode()


@pytest.mark.django_db
def test_keep_alive_renews_the_session_for_signed_in_users_only(client, patient_client) -> None:
    url = reverse("accounts:session-keep-alive")
    assert client.post(url)["Location"].startswith("/accounts/login/")
    assert patient_client.get(url).status_code == 405
    response = patient_client.post(url)
    assert response.status_code == 200
    assert response.json()["idle_seconds"] > 0
