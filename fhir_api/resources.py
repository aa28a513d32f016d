"""Seed tables -> FHIR R4 resources (dicts ready for JSON), following US Core where the data allows.

Pure functions of model instances (fetched with their relations by
fhir.selectors): no queries here. What the seed does not record is left out
rather than guessed: no gender (not collected), no clinical status on a
diagnosis (a visit's diagnosis says nothing of whether it has resolved). The
SSN never appears: the Patient's identifiers are the portal's record number
and the insurance number.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from messaging.models import Message
from patients.models import PatientProfile
from prescriptions.models import Prescription
from providers.models import ProviderProfile
from records.models import MedicalRecord
from scheduling.models import Appointment

Resource = dict[str, Any]

# Identifier systems of this portal (URNs: stable, and no host name baked into stored data).
PATIENT_ID_SYSTEM = "urn:healthcare-portal:patient"
LICENSE_SYSTEM = "urn:healthcare-portal:provider-license"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"
V2_0276 = "http://terminology.hl7.org/CodeSystem/v2-0276"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"

# appointments.status -> http://hl7.org/fhir/appointmentstatus
APPOINTMENT_STATUS = {
    "scheduled": "booked",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no-show": "noshow",
}
# appointments.type -> v2 table 0276 (appointment reason codes)
APPOINTMENT_TYPE = {
    "regular": ("ROUTINE", "Routine appointment - default if not valued"),
    "follow-up": ("FOLLOWUP", "A follow up visit from a previous appointment"),
    "emergency": ("EMERGENCY", "Emergency appointment"),
}
# prescriptions.status -> http://hl7.org/fhir/CodeSystem/medicationrequest-status
MEDICATION_REQUEST_STATUS = {"active": "active", "completed": "completed", "cancelled": "cancelled"}


def instant(value: dt.datetime) -> str:
    """An aware datetime as a FHIR instant, in UTC."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _meta(updated: dt.datetime | None, profile: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"lastUpdated": instant(updated or timezone.now())}
    if profile:
        meta["profile"] = [f"{US_CORE}/{profile}"]
    return meta


def _human_name(full_name: str) -> dict[str, Any]:
    # The seed keeps one full name; the last word is offered as family name, the rest as given.
    words = full_name.split()
    name: dict[str, Any] = {"use": "official", "text": full_name}
    if words:
        name["family"] = words[-1]
    if len(words) > 1:
        name["given"] = words[:-1]
    return name


def patient_reference(patient: PatientProfile) -> dict[str, str]:
    return {"reference": f"Patient/{patient.pk}", "display": patient.user.full_name}


def practitioner_reference(provider: ProviderProfile) -> dict[str, str]:
    return {"reference": f"Practitioner/{provider.pk}", "display": provider.user.full_name}


def patient_resource(patient: PatientProfile) -> Resource:
    user = patient.user
    identifiers: list[dict[str, Any]] = [
        {
            "use": "usual",
            "type": {
                "coding": [{"system": V2_0203, "code": "MR", "display": "Medical record number"}]
            },
            "system": PATIENT_ID_SYSTEM,
            "value": str(patient.pk),
        }
    ]
    if patient.insurance_number:
        identifiers.append(
            {
                "type": {"coding": [{"system": V2_0203, "code": "MB", "display": "Member Number"}]},
                "value": patient.insurance_number,
            }
        )
    telecom = [{"system": "email", "value": user.email, "use": "home"}]
    if user.phone_number:
        telecom.append({"system": "phone", "value": user.phone_number, "use": "mobile"})
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": _meta(max(patient.updated_at, user.updated_at), "us-core-patient"),
        "identifier": identifiers,
        "active": user.is_active,
        "name": [_human_name(user.full_name)],
        "telecom": telecom,
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if patient.address:
        resource["address"] = [{"use": "home", "text": patient.address}]
    if patient.emergency_contact or patient.emergency_contact_phone:
        contact: dict[str, Any] = {
            "relationship": [
                {"coding": [{"system": V2_0131, "code": "C", "display": "Emergency Contact"}]}
            ]
        }
        if patient.emergency_contact:
            contact["name"] = {"text": patient.emergency_contact}
        if patient.emergency_contact_phone:
            contact["telecom"] = [{"system": "phone", "value": patient.emergency_contact_phone}]
        resource["contact"] = [contact]
    return resource


def practitioner_resource(provider: ProviderProfile) -> Resource:
    user = provider.user
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": str(provider.pk),
        "meta": _meta(provider.updated_at, "us-core-practitioner"),
        "active": user.is_active,
        "name": [_human_name(user.full_name)],
        "telecom": [{"system": "email", "value": user.email, "use": "work"}],
    }
    if provider.license_number:
        resource["identifier"] = [{"system": LICENSE_SYSTEM, "value": provider.license_number}]
    if provider.credentials:
        resource["qualification"] = [{"code": {"text": provider.credentials}}]
    return resource


def practitioner_role_resource(provider: ProviderProfile) -> Resource:
    """One role per provider, with the same id as the Practitioner."""
    resource: Resource = {
        "resourceType": "PractitionerRole",
        "id": str(provider.pk),
        "meta": _meta(provider.updated_at),
        "active": provider.user.is_active,
        "practitioner": practitioner_reference(provider),
    }
    if provider.specialization:
        resource["specialty"] = [{"text": provider.specialization}]
    if provider.department:
        # No Organization resource is served: a display-only reference names the department.
        resource["organization"] = {"display": provider.department}
    if provider.office_location:
        resource["location"] = [{"display": provider.office_location}]
    return resource


def appointment_resource(appointment: Appointment) -> Resource:
    code, display = APPOINTMENT_TYPE.get(appointment.type, APPOINTMENT_TYPE["regular"])
    end = appointment.date_time + dt.timedelta(minutes=appointment.duration_minutes)
    status = APPOINTMENT_STATUS.get(appointment.status, "booked")
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "meta": _meta(appointment.updated_at),
        "status": status,
        "appointmentType": {"coding": [{"system": V2_0276, "code": code, "display": display}]},
        "start": instant(appointment.date_time),
        "end": instant(end),
        "minutesDuration": appointment.duration_minutes,
        "created": appointment.created_at.date().isoformat(),
        "participant": [
            {"actor": patient_reference(appointment.patient), "status": "accepted"},
            {"actor": practitioner_reference(appointment.provider), "status": "accepted"},
        ],
    }
    if appointment.reason:
        resource["description"] = appointment.reason
        resource["reasonCode"] = [{"text": appointment.reason}]
    if status == "cancelled" and appointment.cancellation_reason:
        resource["cancelationReason"] = {"text": appointment.cancellation_reason}
    if appointment.notes:
        resource["comment"] = appointment.notes
    return resource


def encounter_resource(record: MedicalRecord) -> Resource:
    """The visit a medical record documents. Its diagnosis is the Condition of the same id."""
    resource: Resource = {
        "resourceType": "Encounter",
        "id": str(record.pk),
        "meta": _meta(record.updated_at, "us-core-encounter"),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": "Office visit"}],
        "subject": patient_reference(record.patient),
        "participant": [{"individual": practitioner_reference(record.provider)}],
        "period": {"start": record.record_date.isoformat()},
    }
    if record.appointment_id:
        resource["appointment"] = [{"reference": f"Appointment/{record.appointment_id}"}]
    if record.symptoms:
        # What brought the patient in, as the clinician wrote it.
        resource["reasonCode"] = [{"text": record.symptoms}]
    if record.diagnosis:
        resource["diagnosis"] = [{"condition": {"reference": f"Condition/{record.pk}"}}]
    return resource


def has_condition(record: MedicalRecord) -> bool:
    return bool(record.diagnosis.strip())


def condition_resource(record: MedicalRecord) -> Resource:
    """The diagnosis of one visit (US Core encounter diagnosis); treatment and notes as annotations."""
    notes = [
        {"text": f"{label}: {text}"}
        for label, text in (
            ("Symptoms", record.symptoms),
            ("Treatment", record.treatment),
            ("Notes", record.notes),
        )
        if text
    ]
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(record.pk),
        "meta": _meta(record.updated_at, "us-core-condition-encounter-diagnosis"),
        "category": [
            {
                "coding": [
                    {
                        "system": CONDITION_CATEGORY,
                        "code": "encounter-diagnosis",
                        "display": "Encounter Diagnosis",
                    }
                ]
            }
        ],
        "code": {"text": record.diagnosis},
        "subject": patient_reference(record.patient),
        "encounter": {"reference": f"Encounter/{record.pk}"},
        "recordedDate": record.record_date.isoformat(),
        "recorder": practitioner_reference(record.provider),
    }
    if notes:
        resource["note"] = notes
    return resource


def medication_request_resource(prescription: Prescription) -> Resource:
    dosage = ", ".join(
        part
        for part in (prescription.dosage, prescription.frequency, prescription.duration)
        if part
    )
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "id": str(prescription.pk),
        "meta": _meta(prescription.updated_at, "us-core-medicationrequest"),
        "status": MEDICATION_REQUEST_STATUS.get(prescription.status, "unknown"),
        "intent": "order",
        "medicationCodeableConcept": {"text": prescription.medication_name},
        "subject": patient_reference(prescription.patient),
        "authoredOn": instant(prescription.created_at),
        "requester": practitioner_reference(prescription.provider),
        "dosageInstruction": [{"text": dosage}],
        "dispenseRequest": {
            "validityPeriod": {
                "start": prescription.start_date.isoformat(),
                "end": prescription.end_date.isoformat(),
            },
            "numberOfRepeatsAllowed": max(prescription.refills, 0),
        },
    }
    if prescription.medical_record_id:
        resource["encounter"] = {"reference": f"Encounter/{prescription.medical_record_id}"}
    if prescription.notes:
        resource["note"] = [{"text": prescription.notes}]
    return resource


def _party_reference(user: Any) -> dict[str, str]:
    if user.is_patient and hasattr(user, "patient_profile"):
        return patient_reference(user.patient_profile)
    if user.is_provider and hasattr(user, "provider_profile"):
        return practitioner_reference(user.provider_profile)
    return {"display": user.full_name}


def communication_resource(message: Message, patient: PatientProfile) -> Resource:
    """One message between the patient and a member of their care team."""
    resource: Resource = {
        "resourceType": "Communication",
        "id": str(message.pk),
        "meta": _meta(message.read_at or message.sent_at),
        "status": "completed",
        "subject": patient_reference(patient),
        "sent": instant(message.sent_at),
        "sender": _party_reference(message.sender),
        "recipient": [_party_reference(message.receiver)],
        "payload": [{"contentString": message.content}],
    }
    if message.read_at:
        resource["received"] = instant(message.read_at)
    return resource
