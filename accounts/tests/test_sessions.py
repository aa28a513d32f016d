"""Session lifetime: idle timeout, absolute limit, sign-out everywhere, password change."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from django.urls import reverse

from accounts.middleware import LOGIN_AT_SESSION_KEY
from conftest import PASSWORD


@pytest.mark.django_db
def test_session_expires_after_the_idle_timeout(patient, settings) -> None:
    settings.SESSION_COOKIE_AGE = 1
    client = Client()
    client.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
    assert client.get("/patient/").status_code == 200
    time.sleep(2.2)
    response = client.get("/patient/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_activity_keeps_the_session_alive_until_the_absolute_limit(patient_client) -> None:
    assert patient_client.get("/patient/").status_code == 200
    session = patient_client.session
    session[LOGIN_AT_SESSION_KEY] = time.time() - 12 * 3600 - 1
    session.save()
    response = patient_client.get("/patient/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert patient_client.get("/patient/").status_code == 302


@pytest.mark.django_db
def test_sign_out_everywhere_ends_every_session(patient) -> None:
    phone, laptop = Client(), Client()
    for device in (phone, laptop):
        device.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
        assert device.get("/patient/").status_code == 200
    laptop.post(reverse("accounts:sign-out-everywhere"))
    assert phone.get("/patient/").status_code == 302
    assert laptop.get("/patient/").status_code == 302
    fresh = Client()
    fresh.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
    assert fresh.get("/patient/").status_code == 200


@pytest.mark.django_db
def test_password_change_keeps_this_session_and_ends_the_others(patient) -> None:
    here, elsewhere = Client(), Client()
    for device in (here, elsewhere):
        device.post("/accounts/login/", {"username": patient.user.email, "password": PASSWORD})
    # The password again (the re-authentication every sign-in change asks for), then the new one.
    here.post(reverse("accounts:reauth"), {"password": PASSWORD})
    response = here.post(
        reverse("accounts:password-change"),
        {"new_password1": "Harbor-lantern-quiet-99", "new_password2": "Harbor-lantern-quiet-99"},
    )
    assert response["Location"] == reverse("accounts:password-change-done")
    assert here.get("/patient/").status_code == 200
    assert elsewhere.get("/patient/").status_code == 302


@pytest.mark.django_db
def test_sign_out_requires_post(patient_client) -> None:
    assert patient_client.get(reverse("accounts:logout")).status_code == 405
    patient_client.post(reverse("accounts:logout"))
    assert patient_client.get("/patient/").status_code == 302
