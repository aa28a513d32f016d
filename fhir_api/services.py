"""Writes of the FHIR API: the PHI access log of API reads, and disconnecting apps."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from accounts.models import User
from fhir_api.models import ApiAccess
from patients.models import PHIAccess


@transaction.atomic
def api_reads_record(
    *,
    accessor: User,
    application: object | None,
    patient_ids: Iterable[object],
    resource: str,
    ip_address: str | None = None,
) -> int:
    """Log that an app read these patients' data: one log row per patient, two INSERTs in all.

    Unlike the portal's own pages (phi_access_record), a patient's own reads are
    logged too: it is the app, not the patient, that holds the data now, and the
    patient wants to see which apps read their record and when.
    API reads never count as emergency access: the API reaches only patients
    in an active care relationship.
    """
    unique = list(dict.fromkeys(patient_ids))
    if not unique:
        return 0
    now = timezone.now()
    rows = PHIAccess.objects.bulk_create(
        [
            PHIAccess(
                accessor=accessor,
                patient_id=pk,
                resource=resource,
                accessed_at=now,
                ip_address=ip_address,
            )
            for pk in unique
        ]
    )
    name = getattr(application, "name", "") or "?"
    ApiAccess.objects.bulk_create(
        [ApiAccess(phi_access=row, application=application, app_name=name) for row in rows]
    )
    return len(rows)


@transaction.atomic
def connected_app_revoke(*, user: User, application_id: object) -> bool:
    """Disconnect an app from the user: every token and refresh token it holds for them ends now.

    Returns False when the user had not connected that app (the view answers 404).
    """
    tokens = AccessToken.objects.filter(user=user, application_id=application_id)
    refresh = RefreshToken.objects.filter(
        user=user, application_id=application_id, revoked__isnull=True
    )
    if not tokens.exists() and not refresh.exists():
        return False
    for token in refresh:
        token.revoke()
    AccessToken.objects.filter(user=user, application_id=application_id).delete()
    return True
