"""Social Security numbers: one canonical form, validation and masking."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_SSN_DIGITS = re.compile(r"^\d{9}$")


def normalize_ssn(raw: str) -> str:
    """Canonical `AAA-GG-SSSS`, or ValidationError for anything that is not a valid SSN.

    Spaces, dashes and dots are accepted on input; the SSA never issues area
    000, 666 or 900-999, group 00 or serial 0000.
    """
    digits = re.sub(r"[\s.\-]", "", raw or "")
    if not _SSN_DIGITS.match(digits):
        raise ValidationError(_("Enter a Social Security number as 9 digits, in the form ###-##-####."), code="ssn_format")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in {"000", "666"} or area.startswith("9") or group == "00" or serial == "0000":
        raise ValidationError(_("This is not a valid Social Security number."), code="ssn_invalid")
    return f"{area}-{group}-{serial}"


def mask_ssn(ssn: str | None) -> str:
    """`***-**-1234`; empty when no SSN is on file."""
    if not ssn:
        return ""
    return f"***-**-{ssn[-4:]}"
