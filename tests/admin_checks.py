"""Shared checks for the admin tests of every app."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def query_count(client: Client, url: str) -> tuple[int, str]:
    """How many queries a GET of `url` runs, and the page it returns (which must be a 200)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()
