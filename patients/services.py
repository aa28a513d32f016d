"""Writes to patient profiles."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.services import user_create
from patients.crypto import keyed_hash, reencrypt
from patients.models import (
    DuplicateSource,
    DuplicateStatus,
    EmergencyAccess,
    PatientProfile,
    PHIAccess,
    PossibleDuplicate,
)
from patients.ssn import normalize_ssn
from patients.timezones import zone_named
from providers.models import ProviderProfile

if TYPE_CHECKING:
    from patients.policy import VisiblePatients

logger = logging.getLogger(__name__)

EMERGENCY_ACCESS_DURATION = dt.timedelta(hours=1)
EMERGENCY_REASON_MIN_LENGTH = 20


class DuplicateSSN(ValidationError):
    """Another patient already has this SSN on file."""


def patient_ssn_check(raw_ssn: str, *, exclude_pk: object | None = None) -> tuple[str, str]:
    """Canonical SSN and its keyed hash; ValidationError when malformed, DuplicateSSN when
    already on another profile. Only for staff (the admin form): a patient is never told."""
    if not raw_ssn:
        return "", ""
    ssn, digest = _ssn_and_hash(raw_ssn)
    clash = PatientProfile.objects.filter(ssn_hash=digest)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise DuplicateSSN(
            _("This Social Security number is already on file for another patient."), code="duplicate"
        )
    return ssn, digest


def _ssn_and_hash(raw_ssn: str) -> tuple[str, str]:
    """Canonical SSN and its keyed hash ("", "" for none); ValidationError when malformed."""
    if not raw_ssn:
        return "", ""
    ssn = normalize_ssn(raw_ssn)
    return ssn, keyed_hash(ssn)


def _flag_possible_duplicates(*, profile: PatientProfile, source: DuplicateSource | str) -> int:
    """Record a review for staff for every other profile holding the profile's SSN.

    Called after the number is stored, so the person who typed it gets the
    same answer whether or not it was already on file. Returns the number of
    pairs newly flagged (already open pairs are not repeated).
    """
    if not profile.ssn_hash:
        return 0
    holders = (
        PatientProfile.objects.filter(ssn_hash=profile.ssn_hash)
        .exclude(pk=profile.pk)
        .values_list("pk", flat=True)
    )
    already_open = set(
        PossibleDuplicate.objects.filter(
            patient=profile, status=DuplicateStatus.OPEN
        ).values_list("existing_id", flat=True)
    )
    flagged = 0
    for holder_pk in holders:
        if holder_pk in already_open:
            continue
        PossibleDuplicate.objects.create(patient=profile, existing_id=holder_pk, source=source)
        flagged += 1
    if flagged:
        # The profile's id only: never the number, nor whose it is.
        logger.warning("Patient %s entered an SSN already on file; flagged for staff review.", profile.pk)
    return flagged


@transaction.atomic
def possible_duplicate_resolve(
    *, duplicate: PossibleDuplicate, status: DuplicateStatus | str, by: User
) -> PossibleDuplicate:
    """Staff close a review: "not a duplicate" (two people) or "resolved" (handled)."""
    if status not in {DuplicateStatus.NOT_DUPLICATE, DuplicateStatus.RESOLVED}:
        raise ValidationError({"status": _("Choose “not a duplicate” or “resolved”.")})
    locked = PossibleDuplicate.objects.select_for_update().get(pk=duplicate.pk)
    if locked.status != DuplicateStatus.OPEN:
        return locked
    locked.status = status
    locked.resolved_at = timezone.now()
    locked.resolved_by = by
    locked.save(update_fields=["status", "resolved_at", "resolved_by"])
    return locked


@transaction.atomic
def patient_create(
    *,
    email: str,
    full_name: str,
    date_of_birth: dt.date,
    password: str | None = None,
    phone_number: str = "",
    address: str = "",
    emergency_contact: str = "",
    emergency_contact_phone: str = "",
    insurance_number: str = "",
    ssn: str = "",
    is_active: bool = True,
    email_verified: bool = False,
    password_hash: str | None = None,
    ssn_source: DuplicateSource | str = DuplicateSource.STAFF,
    time_zone: str = "",
) -> PatientProfile:
    """Create a patient account together with its profile.

    `password_hash` is an already hashed password (registration hashes before
    it knows whether it will create anything). An SSN already on another
    profile is stored all the same and the pair is flagged for staff.
    """
    ssn_value, ssn_hash = _ssn_and_hash(ssn)
    user = user_create(
        email=email,
        full_name=full_name,
        role=Role.PATIENT,
        password=password,
        phone_number=phone_number,
        is_active=is_active,
        email_verified=email_verified,
    )
    profile = PatientProfile(
        user=user,
        date_of_birth=date_of_birth,
        address=address.strip(),
        emergency_contact=emergency_contact.strip(),
        emergency_contact_phone=emergency_contact_phone.strip(),
        insurance_number=insurance_number.strip(),
        time_zone=time_zone if zone_named(time_zone) else "",
        ssn=ssn_value,
        ssn_hash=ssn_hash,
    )
    profile.full_clean(exclude=["user"])
    profile.save()
    if password_hash is not None:
        user.password = password_hash
        user.save(update_fields=["password"])
    _flag_possible_duplicates(profile=profile, source=ssn_source)
    return profile


@transaction.atomic
def patient_set_ssn(
    *, profile: PatientProfile, ssn: str, source: DuplicateSource | str = DuplicateSource.STAFF
) -> PatientProfile:
    """Store (or clear, with "") the patient's SSN in canonical form, with its hash.

    A number another profile already holds is stored too, and the pair is
    flagged for staff review (PossibleDuplicate).
    """
    had_ssn = bool(profile.ssn_hash)
    profile.ssn, profile.ssn_hash = _ssn_and_hash(ssn)
    profile.save(update_fields=["ssn", "ssn_hash", "updated_at"])
    _flag_possible_duplicates(profile=profile, source=source)
    # The SSN is excluded from the audit trail, so record that it changed (and
    # who changed it, via auditlog's actor context) without any of its digits.
    change = "removed" if not profile.ssn_hash else ("replaced" if had_ssn else "added")
    LogEntry.objects.log_create(
        profile, action=LogEntry.Action.UPDATE, changes={"ssn_changed": ["", change]}, force_log=True
    )
    return profile


def patient_ssn_reencrypt_all(*, batch_size: int = 500) -> int:
    """Re-encrypt every stored SSN under the newest key; returns the number of rows rewritten.

    Works on the raw column, so tokens go from old key to new without the
    plaintext ever reaching a model instance, and each batch commits on its own
    so a large table is not held in one long transaction.
    """
    rewritten = 0
    last_pk: object | None = None
    while rows := _raw_ssn_page(last_pk, batch_size):
        with transaction.atomic():
            for pk, token in rows:
                if token:
                    _write_raw_ssn(pk, reencrypt(token))
                    rewritten += 1
        last_pk = rows[-1][0]
    return rewritten


def _raw_ssn_page(after_pk: object | None, size: int) -> list[tuple[object, str]]:
    table = connection.ops.quote_name(PatientProfile._meta.db_table)
    pk_col = connection.ops.quote_name("id")
    ssn_col = connection.ops.quote_name("ssn")
    where, params = "", []
    if after_pk is not None:
        where = f"WHERE {pk_col} > %s"
        params.append(PatientProfile._meta.pk.get_db_prep_value(after_pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk_col}, {ssn_col} FROM {table} {where} ORDER BY {pk_col} LIMIT %s",  # noqa: S608
            [*params, size],
        )
        return [(PatientProfile._meta.pk.to_python(pk), token) for pk, token in cursor.fetchall()]


def _write_raw_ssn(pk: object, token: str) -> None:
    # The token is already encrypted, so it bypasses the field's own encryption.
    table = connection.ops.quote_name(PatientProfile._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name('ssn')} = %s "  # noqa: S608
            f"WHERE {connection.ops.quote_name('id')} = %s",
            [token, PatientProfile._meta.pk.get_db_prep_value(pk, connection)],
        )


@transaction.atomic
def patient_register(
    *,
    email: str,
    password: str,
    full_name: str,
    date_of_birth: dt.date,
    phone_number: str,
    address: str,
    emergency_contact: str,
    emergency_contact_phone: str,
    insurance_number: str = "",
    ssn: str = "",
    time_zone: str = "",
    base_url: str,
) -> PatientProfile | None:
    """Self-registration: an unverified patient account and a confirmation email.

    When the address already has an account, nothing is created and its owner
    is told by email; the caller shows the same page either way, so the form
    cannot be used to find out who is registered. Both ways do the same slow
    work (the password hash) and only queue one email, so the time taken does
    not tell them apart either. An SSN already on file is kept and flagged for
    staff, never refused. Returns the new profile, or None.
    """
    from accounts.emails import send_already_registered_email, send_verification_email

    # First, whatever the address: the hash is nearly all of the time a
    # registration takes, so a taken address must pay for it too.
    password_hash = make_password(password)
    existing = User.objects.filter(email=User.objects.normalize_email(email)).first()
    # A taken address still writes an account, in a savepoint that is rolled back: the
    # inserts (account, profile, audit entries) would otherwise be the time difference
    # left once both paths hash. The throwaway address is unique and never committed.
    savepoint = transaction.savepoint() if existing is not None else None
    profile = patient_create(
        email=f"{uuid.uuid4().hex}@register.invalid" if existing is not None else email,
        password_hash=password_hash,  # hashed above: once, not twice
        full_name=full_name,
        date_of_birth=date_of_birth,
        phone_number=phone_number,
        address=address,
        emergency_contact=emergency_contact,
        emergency_contact_phone=emergency_contact_phone,
        insurance_number=insurance_number,
        ssn=ssn,
        email_verified=False,
        ssn_source=DuplicateSource.REGISTRATION,
        time_zone=time_zone,
    )
    if existing is not None:
        transaction.savepoint_rollback(savepoint)
        send_already_registered_email(user=existing, base_url=base_url)
        return None
    send_verification_email(user=profile.user, base_url=base_url)
    return profile


def phi_access_record(
    *,
    accessor: User,
    patient: PatientProfile,
    resource: str,
    object_id: object = "",
    ip_address: str | None = None,
    in_care: bool | None = None,
) -> PHIAccess | None:
    """Log that someone other than the patient opened the patient's PHI.

    Patients reading their own data are not logged (it is theirs); everyone
    else is, including under emergency access, which is flagged. `in_care`:
    whether the accessor has an active care relationship with the patient,
    when the caller read it already (with the patient); else it is read here.
    """
    if accessor.pk == patient.user_id:
        return None
    from patients.policy import emergency_access_active, has_care_relationship

    if in_care is None:
        in_care = accessor.is_provider and has_care_relationship(accessor, patient)
    emergency = accessor.is_provider and not in_care and emergency_access_active(accessor, patient)
    return PHIAccess.objects.create(
        accessor=accessor,
        patient=patient,
        resource=resource,
        object_id=str(object_id or ""),
        ip_address=ip_address,
        emergency=emergency,
    )


def phi_accesses_record_bulk(
    *,
    accessor: User,
    patient_ids: Iterable[object],
    resource: str,
    object_id: object = "",
    ip_address: str | None = None,
) -> int:
    """Log one opening per patient shown to staff (admin pages), in one insert.

    Patients appear once however many of their rows a page shows; the
    accessor's own profile is not logged (as in phi_access_record).
    Returns the number of rows written.
    """
    own = getattr(accessor, "patient_profile", None) if accessor.is_patient else None
    unique = [pk for pk in dict.fromkeys(patient_ids) if own is None or pk != own.pk]
    now = timezone.now()
    rows = [
        PHIAccess(
            accessor=accessor,
            patient_id=pk,
            resource=resource,
            object_id=str(object_id or ""),
            accessed_at=now,
            ip_address=ip_address,
        )
        for pk in unique
    ]
    PHIAccess.objects.bulk_create(rows)
    return len(rows)


def phi_access_record_many(
    *,
    accessor: User,
    patients: list[PatientProfile],
    resource: str,
    ip_address: str | None = None,
    access: VisiblePatients | None = None,
) -> list[PHIAccess]:
    """Log one opening of each of these patients' PHI in one INSERT (a page showing many patients).

    Same rules as `phi_access_record`: the patient's own reading is not
    logged, emergency access is flagged. A fixed number of queries however
    many patients: which have a care relationship, which an emergency grant.
    `access` is the accessor's `visible_patient_access`, when the page already read it
    to choose the rows: the same split, so neither lookup is asked again.
    """
    from patients.policy import (
        patients_in_care_of,
        patients_under_emergency_access,
    )

    others = [p for p in patients if p.user_id != accessor.pk]
    if not others:
        return []
    ids = [p.pk for p in others]
    emergency: set[object] = set()
    if accessor.is_provider and access is not None:
        emergency = (set(ids) - access.cared) & access.granted
    elif accessor.is_provider:
        uncared = set(ids) - patients_in_care_of(accessor, ids)
        if uncared:
            emergency = patients_under_emergency_access(accessor, uncared)
    now = timezone.now()
    return PHIAccess.objects.bulk_create(
        [
            PHIAccess(
                accessor=accessor,
                patient=patient,
                resource=resource,
                object_id="",
                ip_address=ip_address,
                emergency=patient.pk in emergency,
                accessed_at=now,
            )
            for patient in others
        ]
    )


@transaction.atomic
def emergency_access_grant(
    *, provider: ProviderProfile, patient: PatientProfile, reason: str, ip_address: str | None = None
) -> EmergencyAccess:
    """Break the glass: one hour of access to a patient's chart, for a written reason."""
    reason = reason.strip()
    if len(reason) < EMERGENCY_REASON_MIN_LENGTH:
        raise ValidationError(
            {"reason": _("Describe the emergency in at least %(n)d characters.") % {"n": EMERGENCY_REASON_MIN_LENGTH}}
        )
    now = timezone.now()
    return EmergencyAccess.objects.create(
        provider=provider,
        patient=patient,
        reason=reason,
        granted_at=now,
        expires_at=now + EMERGENCY_ACCESS_DURATION,
        ip_address=ip_address,
    )


@transaction.atomic
def emergency_access_mark_reviewed(*, access: EmergencyAccess, reviewer: User) -> EmergencyAccess:
    """Staff sign off an emergency access after reviewing its reason."""
    if access.reviewed_at is None:
        access.reviewed_at = timezone.now()
        access.reviewed_by = reviewer
        access.save(update_fields=["reviewed_at", "reviewed_by"])
    return access


@transaction.atomic
def patient_update_profile(
    *,
    profile: PatientProfile,
    full_name: str | None = None,
    phone_number: str | None = None,
    date_of_birth: dt.date | None = None,
    address: str | None = None,
    emergency_contact: str | None = None,
    emergency_contact_phone: str | None = None,
    insurance_number: str | None = None,
    ssn: str = "",
    time_zone: str | None = None,
) -> PatientProfile:
    """The patient's own details: name and phone on the account, the rest on the profile.

    A field left as None keeps its value; a blank `ssn` keeps the SSN on file,
    any other value replaces it through `patient_set_ssn` (one already on
    another profile is kept too, and flagged for staff: the patient is never
    told). Raises ValidationError for an invalid value, and then nothing is
    saved. The rows are re-read under a
    lock and the updated profile is returned, so the caller's objects are never
    left holding values the database refused.
    """
    locked = PatientProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
    user = locked.user
    if date_of_birth is not None and date_of_birth > timezone.localdate():
        raise ValidationError({"date_of_birth": _("The date of birth cannot be in the future.")})
    if time_zone and zone_named(time_zone) is None:
        raise ValidationError({"time_zone": _("Choose a time zone from the list.")})

    user_changed = _assign_changes(user, full_name=full_name, phone_number=phone_number)
    profile_changed = _assign_changes(
        locked,
        date_of_birth=date_of_birth,
        address=address,
        emergency_contact=emergency_contact,
        emergency_contact_phone=emergency_contact_phone,
        insurance_number=insurance_number,
        time_zone=time_zone,
    )
    if user_changed:
        user.full_clean()
        user.save(update_fields=[*user_changed, "updated_at"])
    if profile_changed:
        locked.full_clean(exclude=["user"])
        locked.save(update_fields=[*profile_changed, "updated_at"])
    if ssn and keyed_hash(normalize_ssn(ssn)) != locked.ssn_hash:
        patient_set_ssn(profile=locked, ssn=ssn, source=DuplicateSource.PROFILE)
    return locked


def _assign_changes(instance: User | PatientProfile, **values: object) -> list[str]:
    """Set the given non-None values on `instance`; the names of those that differ."""
    changed = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed
