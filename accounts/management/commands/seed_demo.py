"""Load a small, realistic practice so the portal can be tried at once.

Idempotent: the demo set is recognised by its administrator account and never
loaded twice. With --if-empty nothing is loaded into a database that already
has any user (so `make run` never mixes demo data into real data).
"""

from __future__ import annotations

import base64
import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from assistant.services import interaction_log
from messaging.services import message_create, message_mark_read
from patients.models import PatientProfile
from patients.services import patient_create
from prescriptions.models import Prescription, PrescriptionStatus
from prescriptions.services import prescription_create, refill_request_create
from providers.models import ProviderProfile
from providers.services import provider_create, relationship_activate
from records.services import medical_record_create
from scheduling.models import AppointmentStatus, AppointmentType
from scheduling.services import appointment_create

DEMO_PASSWORD = "Portal-demo-2026!"
ADMIN_EMAIL = "admin@demo.clinic"
# Providers and staff must pass a second factor. The demo accounts share one
# published authenticator secret so anyone can try them; real accounts enrol
# their own at first sign-in.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _hours(tz: str, *, start: str = "09:00", end: str = "17:00", lunch: bool = True) -> dict[str, Any]:
    day = [[start, "12:00"], ["13:00", end]] if lunch else [[start, end]]
    return {"timezone": tz, "slot_minutes": 30, "weekly": dict.fromkeys(_WEEKDAYS, day)}


PROVIDERS: list[dict[str, Any]] = [
    {
        "email": "anika.patel@demo.clinic",
        "full_name": "Anika Patel",
        "credentials": "MD",
        "specialization": "Family Medicine",
        "department": "Primary Care",
        "office_location": "Building A, Room 101",
        "license_number": "MD-481516",
        "working_hours": _hours("America/New_York"),
    },
    {
        "email": "marcus.chen@demo.clinic",
        "full_name": "Marcus Chen",
        "credentials": "MD, FACC",
        "specialization": "Cardiology",
        "department": "Cardiology",
        "office_location": "Building B, Suite 210",
        "license_number": "MD-234200",
        "working_hours": _hours("America/New_York", start="08:00", end="16:00"),
    },
    {
        "email": "sofia.alvarez@demo.clinic",
        "full_name": "Sofia Alvarez",
        "credentials": "MD",
        "specialization": "Pediatrics",
        "department": "Pediatrics",
        "office_location": "Building A, Room 204",
        "license_number": "MD-770021",
        "working_hours": _hours("America/Chicago", lunch=False),
    },
    {
        "email": "james.okafor@demo.clinic",
        "full_name": "James Okafor",
        "credentials": "NP",
        "specialization": "Dermatology",
        "department": "Dermatology",
        "office_location": "Building C, Room 12",
        "license_number": "NP-118833",
        "working_hours": _hours("America/Los_Angeles", start="10:00", end="18:00"),
    },
]

PATIENTS: list[dict[str, Any]] = [
    {"email": "maria.garcia@demo.clinic", "full_name": "Maria Garcia", "dob": dt.date(1978, 3, 14), "ssn": "219-09-9999", "providers": [0, 1]},
    {"email": "john.smith@demo.clinic", "full_name": "John Smith", "dob": dt.date(1965, 11, 2), "ssn": "078-05-1121", "providers": [0, 1]},
    {"email": "aisha.khan@demo.clinic", "full_name": "Aisha Khan", "dob": dt.date(1990, 7, 21), "ssn": "", "providers": [0, 3]},
    {"email": "liam.oconnor@demo.clinic", "full_name": "Liam O'Connor", "dob": dt.date(2015, 1, 30), "ssn": "", "providers": [2]},
    {"email": "emma.wilson@demo.clinic", "full_name": "Emma Wilson", "dob": dt.date(1988, 9, 9), "ssn": "321-54-9876", "providers": [0, 3]},
    {"email": "noah.brown@demo.clinic", "full_name": "Noah Brown", "dob": dt.date(1952, 4, 18), "ssn": "412-67-3001", "providers": [1]},
    {"email": "olivia.nguyen@demo.clinic", "full_name": "Olivia Nguyen", "dob": dt.date(2001, 12, 5), "ssn": "", "providers": [0]},
    {"email": "david.lee@demo.clinic", "full_name": "David Lee", "dob": dt.date(1973, 6, 27), "ssn": "523-18-4470", "providers": [2, 3]},
]

VISITS = [
    ("Seasonal allergies", "Sneezing, itchy eyes", "Allergic rhinitis", "Antihistamine daily during pollen season",
     ("Cetirizine", "10 mg", "Once daily", "90 days", 2)),
    ("Blood pressure check", "Occasional headaches", "Essential hypertension", "Low-sodium diet, daily walks, medication",
     ("Lisinopril", "10 mg", "Once daily", "6 months", 5)),
    ("Annual physical", "None", "Healthy adult; borderline LDL", "Diet advice, recheck lipids in 12 months", None),
    ("Rash on forearm", "Red, itchy patch for 2 weeks", "Contact dermatitis", "Topical steroid, avoid irritant",
     ("Hydrocortisone cream 1%", "Thin layer", "Twice daily", "14 days", 0)),
    ("Chest tightness on exertion", "Tightness climbing stairs", "Stable angina, under evaluation", "Stress test ordered",
     ("Aspirin", "81 mg", "Once daily", "12 months", 3)),
]


DEMO_INTERACTIONS = [
    ("when is my next appointment", "Your next appointment is on your dashboard.", "list_appointments", 0.93, False, False),
    ("i need to see doctor patel next tuesday afternoon", "Dr. Patel is free at 2:00 PM. Shall I book it?", "book_appointment", 0.88, True, False),
    ("i want to talk to my doctor", "I have passed your message to Dr. Patel.", "contact_provider", 0.86, False, True),
    ("can i get more of my allergy pills", "I can ask Dr. Patel for a refill of Cetirizine. Shall I?", "request_refill", 0.81, False, False),
    ("what time does the office open", "Dr. Patel sees patients weekdays from 9:00.", "office_info", 0.77, False, False),
    ("hmm the thing from last time", "Sorry, I did not catch that. Do you want to book, cancel or ask about a prescription?", "out_of_scope", 0.31, False, False),
]


def _slot(provider: ProviderProfile, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    tz = ZoneInfo(provider.working_hours["timezone"])
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz).astimezone(dt.UTC)


def _weekday_offset(today: dt.date, days: int) -> dt.date:
    day = today + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if days >= 0 else -1)
    return day


class Command(BaseCommand):
    help = "Load demo providers, patients, appointments, records, prescriptions and messages."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if the database already has users."
        )

    def handle(self, *args: Any, if_empty: bool, **options: Any) -> None:
        if User.objects.filter(email=ADMIN_EMAIL).exists():
            self.stdout.write("Demo data is already loaded.")
        elif if_empty and User.objects.exists():
            self.stdout.write("The database already has accounts; demo data not loaded.")
            return
        else:
            self._load()
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins()

    @transaction.atomic
    def _load(self) -> None:
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        today = timezone.localdate()
        admin = User.objects.create_superuser(email=ADMIN_EMAIL, password=DEMO_PASSWORD, full_name="Practice Administrator")
        providers = [provider_create(password=DEMO_PASSWORD, **spec) for spec in PROVIDERS]
        for user in [admin, *(p.user for p in providers)]:
            TOTPDevice.objects.create(user=user, name="Demo authenticator", key=DEMO_TOTP_KEY_HEX, confirmed=True)
        patients: list[PatientProfile] = []
        for n, spec in enumerate(PATIENTS):
            profile = patient_create(
                email=spec["email"],
                full_name=spec["full_name"],
                password=DEMO_PASSWORD,
                date_of_birth=spec["dob"],
                phone_number=f"555-01{n:02d}",
                address=f"{100 + n * 7} Maple Avenue, Springfield",
                emergency_contact=f"Contact of {spec['full_name'].split()[0]}",
                emergency_contact_phone=f"555-02{n:02d}",
                insurance_number=f"INS-{400000 + n * 1117}",
                ssn=spec["ssn"],
                email_verified=True,
                # Patients live where the practice is, but one is a few zones west.
                time_zone="America/Denver" if n == 1 else "America/New_York",
            )
            patients.append(profile)
            for index in spec["providers"]:
                relationship_activate(
                    provider=providers[index], patient=profile, start_date=today - dt.timedelta(days=400 - n * 20)
                )

        for n, (profile, spec) in enumerate(zip(patients, PATIENTS, strict=True)):
            provider = providers[spec["providers"][0]]
            self._past_visit(profile, provider, VISITS[n % len(VISITS)], _weekday_offset(today, -(14 + n * 9)))
            if n % 2 == 0:
                self._past_visit(profile, provider, VISITS[(n + 2) % len(VISITS)], _weekday_offset(today, -(90 + n * 5)))
            upcoming = _weekday_offset(today, 2 + n)
            appointment_create(
                patient=profile,
                provider=provider,
                date_time=_slot(provider, upcoming, 9 + n % 3, 30 * (n % 2)),
                type=AppointmentType.FOLLOW_UP if n % 2 else AppointmentType.REGULAR,
                reason=rng.choice(["Follow-up visit", "Medication review", "Check-up", "Lab results"]),
            )
            self._conversation(profile, provider, today, unread=n % 3 == 0)

        # One refill waiting for a decision, so the provider's queue is not empty.
        for prescription in Prescription.objects.filter(
            status=PrescriptionStatus.ACTIVE, refills__gt=0, end_date__gte=today
        ).select_related("patient__user")[:2]:
            refill_request_create(
                prescription=prescription,
                requested_by=prescription.patient.user,
                note="Running low, please renew before my trip.",
            )

        # A few weeks of assistant use, so the analytics page has something to show.
        now = timezone.now()
        for n, (text, reply, intent, confidence, booked, transferred) in enumerate(DEMO_INTERACTIONS * 3):
            interaction_log(
                user=patients[n % len(patients)].user,
                input_text=text,
                response_text=reply,
                detected_intent=intent,
                confidence_score=confidence,
                resulted_in_appointment=booked,
                resulted_in_provider_transfer=transferred,
                at=now - dt.timedelta(days=(n * 2) % 27, hours=n % 7),
            )

    def _past_visit(
        self, patient: PatientProfile, provider: ProviderProfile, visit: tuple, day: dt.date
    ) -> None:
        reason, symptoms, diagnosis, treatment, drug = visit
        appointment = appointment_create(
            patient=patient,
            provider=provider,
            date_time=_slot(provider, day, 10),
            reason=reason,
            status=AppointmentStatus.COMPLETED,
        )
        record = medical_record_create(
            patient=patient,
            provider=provider,
            appointment=appointment,
            record_date=day,
            symptoms=symptoms,
            diagnosis=diagnosis,
            treatment=treatment,
        )
        if drug:
            name, dosage, frequency, duration, refills = drug
            days = {"14 days": 14, "90 days": 90, "6 months": 182, "12 months": 365}[duration]
            end = day + dt.timedelta(days=days)
            prescription_create(
                patient=patient,
                provider=provider,
                medical_record=record,
                medication_name=name,
                dosage=dosage,
                frequency=frequency,
                duration=duration,
                start_date=day,
                end_date=end,
                refills=refills,
                status=PrescriptionStatus.ACTIVE if end >= timezone.localdate() else PrescriptionStatus.COMPLETED,
            )

    def _conversation(
        self, patient: PatientProfile, provider: ProviderProfile, today: dt.date, *, unread: bool
    ) -> None:
        start = timezone.now() - dt.timedelta(days=3)
        question = message_create(
            sender=patient.user,
            receiver=provider.user,
            content="Hello doctor, should I keep taking my medication before the next visit?",
            sent_at=start,
        )
        message_mark_read(message=question, at=start + dt.timedelta(hours=2))
        answer = message_create(
            sender=provider.user,
            receiver=patient.user,
            content="Yes, please continue as prescribed. We will review it at your appointment.",
            sent_at=start + dt.timedelta(hours=3),
        )
        if not unread:
            message_mark_read(message=answer, at=start + dt.timedelta(hours=5))

    def _print_logins(self) -> None:
        self.stdout.write("")
        secret = base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode()
        self.stdout.write(f"Demo sign-ins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(
            f"Providers and the administrator also need a code from an authenticator app with the key {secret}"
            " (for example: oathtool --totp -b " + secret + ")."
        )
        self.stdout.write(f"  administrator  {ADMIN_EMAIL}   -> http://127.0.0.1:8000/admin/")
        for spec in PROVIDERS[:2]:
            self.stdout.write(f"  provider       {spec['email']}")
        for spec in PATIENTS[:2]:
            self.stdout.write(f"  patient        {spec['email']}")
