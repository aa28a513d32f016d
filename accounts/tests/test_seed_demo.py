from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.management.commands.seed_demo import ADMIN_EMAIL, DEMO_PASSWORD, PATIENTS, PROVIDERS
from accounts.models import User
from assistant.models import AIInteraction
from messaging.models import Message
from patients.models import PatientProfile
from prescriptions.models import Prescription
from providers.models import ProviderPatient, ProviderProfile
from records.models import MedicalRecord
from scheduling.models import Appointment, AppointmentStatus

MODELS = [User, PatientProfile, ProviderProfile, ProviderPatient, Appointment, MedicalRecord, Prescription, Message, AIInteraction]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_loads_every_table_and_prints_the_logins() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    counts = _counts()
    assert counts["ProviderProfile"] == len(PROVIDERS)
    assert counts["PatientProfile"] == len(PATIENTS)
    assert all(counts[name] > 0 for name in counts), counts
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).exists()
    assert Appointment.objects.filter(status=AppointmentStatus.COMPLETED).exists()
    assert Message.objects.filter(read=False).exists()
    assert all(p.working_hours.get("weekly") for p in ProviderProfile.objects.all())
    assert ADMIN_EMAIL in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert admin.is_staff and admin.is_superuser


@pytest.mark.django_db
def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _counts()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert _counts() == first
    assert "already loaded" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_if_empty_leaves_a_database_with_accounts_alone(patient) -> None:
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert User.objects.count() == 2  # the patient and their provider, nothing more
    assert "not loaded" in out.getvalue()


@pytest.mark.django_db
def test_demo_provider_signs_in_with_the_published_authenticator_key(client) -> None:
    import base64

    from django_otp.oath import totp

    from accounts.management.commands.seed_demo import DEMO_TOTP_KEY_HEX

    call_command("seed_demo", stdout=StringIO())
    client.post("/accounts/login/", {"username": PROVIDERS[0]["email"], "password": DEMO_PASSWORD})
    code = f"{totp(bytes.fromhex(DEMO_TOTP_KEY_HEX)):06d}"
    response = client.post("/accounts/login/code/", {"code": code})
    assert response["Location"] == "/"
    assert client.get("/provider/").status_code == 200
    assert base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode() == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
