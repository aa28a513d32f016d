"""FHIR search parameters: parsing and applying them to querysets. Bad input raises SearchError (400)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Parameters every search accepts; _format=json is all this server speaks.
COMMON = ("_count", "_offset", "_format", "_lastUpdated", "_id")

_DATE = re.compile(
    r"^(?P<prefix>eq|ge|le|gt|lt)?(?P<value>\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)


class SearchError(ValueError):
    """A search parameter this server does not know or cannot read."""


@dataclass(frozen=True)
class DateField:
    name: str  # model field (or annotation)
    is_date: bool  # a DateField (compared by day) rather than a DateTimeField


def _bounds(value: str) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) range a FHIR date of any precision stands for (UTC when no offset is given)."""
    try:
        if len(value) == 4:
            start = dt.datetime(int(value), 1, 1, tzinfo=dt.UTC)
            return start, start.replace(year=start.year + 1)
        if len(value) == 7:
            year, month = int(value[:4]), int(value[5:7])
            start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
            return start, (
                start.replace(year=year + 1, month=1)
                if month == 12
                else start.replace(month=month + 1)
            )
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return start, start + dt.timedelta(days=1)
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise SearchError(_("“%(value)s” is not a valid date.") % {"value": value}) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    precision = dt.timedelta(seconds=1) if value.count(":") >= 2 else dt.timedelta(minutes=1)
    return moment, moment + precision


def _day_ceiling(moment: dt.datetime) -> dt.date:
    day = moment.astimezone(dt.UTC)
    return day.date() if day.time() == dt.time(0) else day.date() + dt.timedelta(days=1)


def date_filter(field: DateField, raw: str) -> Q:
    """A Q for one `date=ge2024-01-01`-style value against `field`."""
    match = _DATE.match(raw)
    if match is None:
        raise SearchError(
            _(
                "“%(value)s” is not a date search this server supports (use eq, ge, le, gt or lt and a date)."
            )
            % {"value": raw}
        )
    prefix = match["prefix"] or "eq"
    start, end = _bounds(match["value"])
    low: object = start.astimezone(dt.UTC).date() if field.is_date else start
    high: object = _day_ceiling(end) if field.is_date else end
    if field.is_date and prefix in ("ge", "lt"):
        low = _day_ceiling(start)
    f = field.name
    return {
        "eq": Q(**{f"{f}__gte": low, f"{f}__lt": high}),
        "ge": Q(**{f"{f}__gte": low}),
        "gt": Q(**{f"{f}__gte": high}),
        "le": Q(**{f"{f}__lt": high}),
        "lt": Q(**{f"{f}__lt": low}),
    }[prefix]


def reference_id(raw: str, resource_type: str) -> uuid.UUID:
    """The id of `Patient/<id>` or `<id>`; anything else is a bad search."""
    value = raw.removeprefix(f"{resource_type}/")
    try:
        return uuid.UUID(value)
    except ValueError as error:
        raise SearchError(
            _("“%(value)s” is not a %(type)s reference.") % {"value": raw, "type": resource_type}
        ) from error


def token_values(raw: str, allowed: dict[str, object]) -> list[object]:
    """A comma-separated token search (status=booked,fulfilled) mapped to stored values."""
    values = []
    for code in raw.split(","):
        code = code.split("|")[-1]
        if code not in allowed:
            raise SearchError(
                _("“%(value)s” is not a known status; use one of %(known)s.")
                % {"value": code, "known": ", ".join(sorted(allowed))}
            )
        values.append(allowed[code])
    return values


Handler = Callable[[QuerySet, str], QuerySet]


@dataclass(frozen=True)
class SearchSpec:
    """What one resource type can be searched by."""

    params: dict[str, Handler]
    last_updated: DateField
    order_by: tuple[str, ...]


@dataclass(frozen=True)
class Paging:
    count: int
    offset: int


def paging_of(query: QueryDict) -> Paging:
    try:
        count = int(query.get("_count", DEFAULT_COUNT))
        offset = int(query.get("_offset", 0))
    except ValueError as error:
        raise SearchError(_("_count and _offset must be whole numbers.")) from error
    if count < 0 or offset < 0:
        raise SearchError(_("_count and _offset cannot be negative."))
    return Paging(count=min(count, MAX_COUNT), offset=offset)


def apply_search(queryset: QuerySet, query: QueryDict, spec: SearchSpec) -> QuerySet:
    """Apply every parameter of `query` (ANDed; repeated parameters ANDed too); unknown ones are a 400."""
    unknown = sorted(set(query) - set(spec.params) - set(COMMON))
    if unknown:
        raise SearchError(
            _("Unsupported search parameter: %(names)s.") % {"names": ", ".join(unknown)}
        )
    if query.get("_format", "json") not in ("json", "application/fhir+json", "application/json"):
        raise SearchError(_("Only JSON is supported (_format=json)."))
    for name in query:
        for raw in query.getlist(name):
            if not raw:
                raise SearchError(_("Search parameter %(name)s has no value.") % {"name": name})
            if name == "_lastUpdated":
                queryset = queryset.filter(date_filter(spec.last_updated, raw))
            elif name == "_id":
                ids = [reference_id(part, "") for part in raw.split(",")]
                queryset = queryset.filter(pk__in=ids)
            elif name in spec.params:
                queryset = spec.params[name](queryset, raw)
    return queryset.order_by(*spec.order_by)
