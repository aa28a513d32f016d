"""A page of a queryset and its total in one query (healthcare.paging)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from healthcare.paging import counted_page
from providers.tests.factories import make_patients

pytestmark = pytest.mark.django_db


def _patients(provider):
    from providers.selectors import patients_of_provider_matching

    return patients_of_provider_matching(provider)


def test_a_page_with_rows_and_its_total_take_one_query(provider) -> None:
    make_patients(provider, 7)

    with CaptureQueriesContext(connection) as queries:
        page = counted_page(_patients(provider), "2", 3)
        names = [p.full_name for p in page.object_list]
        shown = (page.paginator.count, page.paginator.num_pages, page.has_next())

    assert len(queries) == 1
    assert names == ["Patient Number003", "Patient Number004", "Patient Number005"]
    assert shown == (7, 3, True)


def test_a_missing_or_bad_number_is_the_first_page(provider) -> None:
    make_patients(provider, 4)

    for number in (None, "", "abc"):
        page = counted_page(_patients(provider), number, 3)
        assert page.number == 1
        assert [p.full_name for p in page.object_list][0] == "Patient Number000"


def test_a_number_past_the_end_is_the_last_page_as_paginator_answers(provider) -> None:
    make_patients(provider, 4)

    for number in ("9", "-1", "0"):
        page = counted_page(_patients(provider), number, 3)
        assert page.number == 2
        assert [p.full_name for p in page.object_list] == ["Patient Number003"]
        assert page.paginator.count == 4


def test_an_empty_list_is_one_empty_first_page(provider) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = counted_page(_patients(provider), 1, 3)
        rows = list(page.object_list)

    assert len(queries) == 1
    assert rows == [] and page.paginator.count == 0 and not page.has_other_pages()
