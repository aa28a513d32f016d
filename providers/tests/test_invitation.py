"""Administrators invite providers; providers never self-register."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Role, User
from conftest import PASSWORD

INVITE_URL = "/admin/providers/providerprofile/invite/"


@pytest.mark.django_db(transaction=True)
def test_admin_invites_a_provider_who_sets_a_password_and_enrols(staff_client, client) -> None:
    response = staff_client.post(
        INVITE_URL,
        {"full_name": "Grace Hopper", "email": "Grace.Hopper@Example.org", "specialization": "Neurology"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="grace.hopper@example.org")
    assert user.role == Role.PROVIDER
    assert user.provider_profile.specialization == "Neurology"
    assert not user.has_usable_password()
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+", mail.outbox[0].body).group(0).replace("http://testserver", "")

    client.post(link, {"password1": PASSWORD, "password2": PASSWORD})
    signed = client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    # A provider's first sign-in continues with authenticator enrolment.
    assert signed["Location"] == reverse("accounts:mfa-setup")


@pytest.mark.django_db
def test_invitation_to_an_existing_address_is_refused_and_creates_nothing(staff_client, patient) -> None:
    response = staff_client.post(INVITE_URL, {"full_name": "X", "email": patient.user.email})
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email=patient.user.email).count() == 1
    assert not mail.outbox


@pytest.mark.django_db
def test_only_staff_reach_the_invitation_page(patient_client, provider_client) -> None:
    for client in (patient_client, provider_client):
        assert client.get(INVITE_URL).status_code == 302  # to the admin sign-in


@pytest.mark.django_db(transaction=True)
def test_resend_skips_providers_who_already_set_a_password(staff_client, provider) -> None:
    from providers.services import provider_create

    pending = provider_create(email="pending@example.org", full_name="Pending Doctor")
    staff_client.post(
        "/admin/providers/providerprofile/",
        {"action": "resend_invitation", "_selected_action": [str(pending.pk), str(provider.pk)]},
    )
    assert [m.to for m in mail.outbox] == [["pending@example.org"]]
