"""SMART standalone launch with SMART's own Python client (fhirclient) against the running server.

Discovery, authorization with the consent approved in Chromium, the code
exchanged with PKCE, then reads through the client's FHIR models: a patient's
app reads her record; a provider's app reads a patient under their care and
gets 404 for anyone else.
"""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from fhirclient import client as smart_client
from fhirclient.models.appointment import Appointment
from fhirclient.models.condition import Condition
from fhirclient.models.medicationrequest import MedicationRequest
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRNotFoundException
from oauth2_provider.models import AccessToken, Application, RefreshToken
from playwright.sync_api import expect

from conftest import PASSWORD
from fhir_api.models import ApiAccess
from prescriptions.services import prescription_create
from records.services import medical_record_create
from scheduling.services import appointment_create

pytestmark = pytest.mark.browser

# The app's loopback callback (RFC 8252): nothing listens there, the browser test intercepts it.
REDIRECT = "http://127.0.0.1:{port}/callback"


def _register_app(name: str, port: int) -> Application:
    # As an administrator registers it in the admin: a public client (no secret), PKCE.
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT.format(port=port),
        algorithm=Application.RS256_ALGORITHM,
    )


def _sign_in(page, live_url: str, email: str, device: TOTPDevice | None = None) -> None:
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if device is not None:
        page.get_by_label("Code").fill(
            f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        )
        page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state()


def _launch(page, live_url: str, app: Application, scope: str) -> smart_client.FHIRClient:
    """Discovery, the authorize page approved in the browser, and the code exchange by fhirclient."""
    redirect = app.redirect_uris
    client = smart_client.FHIRClient(
        settings={
            "app_id": app.client_id,
            "api_base": f"{live_url}/fhir/r4/",
            "redirect_uri": redirect,
            "scope": scope,
        }
    )
    # The callback is the app's, not the server's: the browser hands it back without loading anything.
    page.route(f"{redirect}**", lambda route: route.fulfill(status=200, body="app callback"))
    page.goto(client.authorize_url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(app.name)
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{redirect}**")
    client.handle_callback(page.url)
    assert client.ready
    return client


def test_patient_app_reads_her_record_after_consent(live_url, new_page, patient, provider) -> None:
    port = 8765
    app = _register_app("Health Diary", port)
    visit = appointment_create(
        patient=patient,
        provider=provider,
        date_time=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
        reason="Cough",
    )
    record = medical_record_create(
        patient=patient,
        provider=provider,
        record_date=dt.date.today(),
        diagnosis="Acute bronchitis",
    )
    prescription_create(
        patient=patient,
        provider=provider,
        medication_name="Amoxicillin",
        dosage="500 mg",
        frequency="three times daily",
        start_date=dt.date.today(),
        end_date=dt.date.today() + dt.timedelta(days=7),
        refills=1,
    )

    # Discovery: the SMART configuration at the FHIR base.
    config = requests.get(f"{live_url}/fhir/r4/.well-known/smart-configuration", timeout=10).json()
    assert "S256" in config["code_challenge_methods_supported"]

    page = new_page()
    _sign_in(page, live_url, patient.user.email)
    client = _launch(page, live_url, app, "openid fhirUser launch/patient patient/*.read")

    assert client.patient_id == str(patient.pk)  # the token response's launch context
    assert client.patient.name[0].text == patient.user.full_name
    smart = client.server
    appointments = list(
        Appointment.where(struct={"patient": client.patient_id}).perform_resources_iter(smart)
    )
    assert [a.id for a in appointments] == [str(visit.pk)]
    assert appointments[0].status == "booked"
    conditions = list(
        Condition.where(struct={"patient": client.patient_id}).perform_resources_iter(smart)
    )
    assert [c.code.text for c in conditions] == ["Acute bronchitis"]
    assert Condition.read(str(record.pk), smart).encounter.reference == f"Encounter/{record.pk}"
    medications = list(
        MedicationRequest.where(struct={"patient": client.patient_id}).perform_resources_iter(smart)
    )
    assert medications[0].dispenseRequest.numberOfRepeatsAllowed == 1
    # Without offline_access there is no refresh token; the access token is kept only as a hash.
    assert not RefreshToken.objects.filter(application=app).exists()
    assert AccessToken.objects.get(application=app).token == ""
    assert ApiAccess.objects.filter(application=app, phi_access__patient=patient).exists()


def test_provider_app_reads_only_patients_under_care(
    live_url, new_page, patient, provider, other_patient
) -> None:
    app = _register_app("Clinic Dashboard", 8766)
    device = TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    page = new_page()
    _sign_in(page, live_url, provider.user.email, device)
    client = _launch(page, live_url, app, "openid fhirUser user/*.read offline_access")
    assert client.patient_id is None  # no patient context for a provider's standalone launch

    smart = client.server
    assert (
        Patient.read(str(patient.pk), smart).birthDate.isostring
        == patient.date_of_birth.isoformat()
    )
    with pytest.raises(FHIRNotFoundException):
        Patient.read(str(other_patient.pk), smart)
    # offline_access: a refresh token, stored hashed like the access token, that renews access once.
    first_refresh = client.server.auth.refresh_token
    assert first_refresh
    assert RefreshToken.objects.get(application=app).token == ""
    assert client.reauthorize()
    assert client.server.auth.refresh_token not in (None, first_refresh)  # rotated
    assert Patient.read(str(patient.pk), smart).id == str(patient.pk)


def test_consent_needs_a_verified_second_factor_for_providers(live_url, new_page, provider) -> None:
    app = _register_app("Clinic Dashboard", 8767)
    TOTPDevice.objects.create(user=provider.user, name="phone", confirmed=True)
    page = new_page()
    page.goto(f"{live_url}/accounts/login/")
    page.get_by_label("Email").fill(provider.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Password only: the authorize URL leads back to the code step, never to the consent.
    client = smart_client.FHIRClient(
        settings={
            "app_id": app.client_id,
            "api_base": f"{live_url}/fhir/r4/",
            "redirect_uri": app.redirect_uris,
            "scope": "openid user/*.read",
        }
    )
    page.goto(client.authorize_url)
    expect(page.get_by_label("Code")).to_be_visible()
    assert not page.get_by_role("button", name="Allow").count()
