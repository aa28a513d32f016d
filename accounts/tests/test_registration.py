"""Self-registration, email verification, provider invitations, password reset."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.emails import send_provider_invitation
from accounts.models import Role, User
from conftest import PASSWORD
from patients.models import PatientProfile

FORM = {
    "full_name": "Jordan Rivera",
    "email": "Jordan.Rivera@Example.org",
    "phone_number": "555-0199",
    "date_of_birth": "1985-04-12",
    "address": "9 Oak Lane, Springfield",
    "emergency_contact": "Casey Rivera",
    "emergency_contact_phone": "555-0198",
    "insurance_number": "",
    "ssn": "345 67 8901",
    "password1": "Granite-willow-orbit-55",
    "password2": "Granite-willow-orbit-55",
}


def _without_tokens(page: str, email: str) -> str:
    """The page without what differs on every response (CSRF token, nonces) or the address typed."""
    page = re.sub(r'(value|nonce|content)="[A-Za-z0-9+/=_-]{20,}"', "", page)
    return page.replace(email, "EMAIL").replace(email.lower(), "EMAIL")


def _link(body: str) -> str:
    return re.search(r"https?://\S+", body).group(0)


@pytest.mark.django_db(transaction=True)
def test_patient_registers_verifies_and_signs_in(client) -> None:
    response = client.post("/accounts/register/", FORM)
    assert response.status_code == 200
    assert "Check your email" in response.content.decode()
    user = User.objects.get(email="jordan.rivera@example.org")
    assert user.role == Role.PATIENT and user.email_verified_at is None
    profile = PatientProfile.objects.get(user=user)
    assert profile.ssn == "345-67-8901"
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0].body)

    blocked = client.post(
        "/accounts/login/", {"username": user.email, "password": FORM["password1"]}
    )
    assert "_auth_user_id" not in client.session
    assert "confirm your email" in blocked.content.decode()

    verified = client.get(link.replace("http://testserver", ""), follow=True)
    assert "Your email address is confirmed" in verified.content.decode()
    # The link is spent once used.
    again = client.get(link.replace("http://testserver", ""), follow=True)
    assert "invalid or has expired" in again.content.decode()

    signed_in = client.post(
        "/accounts/login/", {"username": user.email, "password": FORM["password1"]}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == "/patient/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("password1", "short-pw1", "too short"),
        ("password1", "password1234", "too common"),
        ("password1", "jordan.rivera@example", "too similar"),
        ("email", "not-an-email", "valid email"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("ssn", "000-12-3456", "not a valid Social Security number"),
        ("full_name", "", "This field is required"),
    ],
)
def test_registration_rejects_bad_input_with_a_message_and_creates_nothing(
    client, field, value, message
) -> None:
    data = {**FORM, field: value}
    if field == "password1":
        data["password2"] = value
    response = client.post("/accounts/register/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db(transaction=True)
def test_registering_an_existing_address_reveals_nothing_and_tells_the_owner(
    client, patient
) -> None:
    response = client.post("/accounts/register/", {**FORM, "email": patient.user.email})
    assert "Check your email" in response.content.decode()
    assert User.objects.filter(email=patient.user.email).count() == 1
    assert len(mail.outbox) == 1
    assert "already has an account" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_registering_with_an_ssn_on_file_does_not_reveal_it(client, patient) -> None:
    from patients.models import DuplicateSource, PossibleDuplicate

    response = client.post("/accounts/register/", {**FORM, "ssn": "123-45-6789"})
    unused = client.post(
        "/accounts/register/", {**FORM, "email": "someone.else@example.org", "ssn": "345 67 8901"}
    )

    # The same page as with an unused number, but for the address typed.
    page = response.content.decode()
    assert "Check your email" in page
    assert _without_tokens(page, FORM["email"]) == _without_tokens(
        unused.content.decode(), "someone.else@example.org"
    )
    new = PatientProfile.objects.get(user__email="jordan.rivera@example.org")
    assert new.ssn == "123-45-6789"  # kept, for staff to reconcile
    flag = PossibleDuplicate.objects.get()
    assert (flag.patient, flag.existing, flag.source) == (
        new,
        patient,
        DuplicateSource.REGISTRATION,
    )


@pytest.mark.django_db(transaction=True)
def test_invited_provider_sets_a_password_with_a_one_time_link(client) -> None:
    from providers.services import provider_create

    profile = provider_create(email="new.doc@example.org", full_name="New Doctor")
    assert not profile.user.has_usable_password()
    send_provider_invitation(user=profile.user, base_url="http://testserver/")
    link = _link(mail.outbox[0].body).replace("http://testserver", "")
    weak = client.post(link, {"password1": "short", "password2": "short"})
    assert "too short" in weak.content.decode()
    done = client.post(link, {"password1": PASSWORD, "password2": PASSWORD}, follow=True)
    assert "Your password is set" in done.content.decode()
    profile.user.refresh_from_db()
    assert profile.user.check_password(PASSWORD)
    assert profile.user.email_verified_at is not None
    reused = client.get(link, follow=True)
    assert "invalid, expired or already used" in reused.content.decode()


@pytest.mark.django_db
def test_providers_cannot_self_register(client) -> None:
    client.post("/accounts/register/", {**FORM, "role": "provider"})
    assert not User.objects.filter(role=Role.PROVIDER).exists()


@pytest.mark.django_db(transaction=True)
def test_password_reset_by_email(client, patient) -> None:
    client.post(reverse("accounts:password-reset"), {"email": patient.user.email})
    assert len(mail.outbox) == 1
    link = _link(mail.outbox[0].body).replace("http://testserver", "")
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Fresh-meadow-comet-81", "new_password2": "Fresh-meadow-comet-81"},
    )
    patient.user.refresh_from_db()
    assert patient.user.check_password("Fresh-meadow-comet-81")


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_looks_the_same(client) -> None:
    response = client.post(
        reverse("accounts:password-reset"), {"email": "nobody@example.org"}, follow=True
    )
    assert "If an account uses that address" in response.content.decode()
    assert not mail.outbox
