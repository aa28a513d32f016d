"""A page of a queryset and its total in one query.

Django's Paginator asks the database twice for each page: COUNT(*), then the
rows. Where the page shows "Page 2 of 7" or a total, the count can ride along
with the rows as a window (COUNT(*) OVER ()), which the database works out
from the same filtered rows it sorts for the page anyway.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window

_TOTAL = "paging_total"


def counted_page(queryset: QuerySet[Any], number: object, size: int) -> Page:
    """The page `number` (as given in the URL) of `queryset`, as Paginator.get_page answers it.

    One query for a page that has rows (the rows and the total); a missing or
    bad number is the first page. A number past the end or below one falls
    back to Paginator, which answers with the last page (two queries, as before).
    An empty first page costs one query and has a count of 0.
    """
    paginator = Paginator(queryset, size)
    try:
        wanted = int(str(number)) if number is not None else 1
    except ValueError:
        wanted = 1
    if wanted < 1:
        return paginator.get_page(number)
    offset = (wanted - 1) * size
    rows = list(queryset.annotate(**{_TOTAL: Window(Count("pk"))})[offset : offset + size])
    if not rows and wanted > 1:
        return paginator.get_page(wanted)
    total = 0
    if rows:
        first = rows[0]
        total = first[_TOTAL] if isinstance(first, dict) else getattr(first, _TOTAL)
    # Paginator.count is a cached property: the total known, it never counts again.
    paginator.count = total
    return Page(rows, wanted, paginator)
