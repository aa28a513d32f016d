"""The provider pages' row values are what the template filters they replace would show."""

from __future__ import annotations

import pytest
from django.utils.text import Truncator

from providers.display import _shortened


@pytest.mark.parametrize(
    "text",
    ["", "Cough", "a" * 80, "a" * 81, "e\u0301" * 50, "e\u0301" * 90, "x " * 100, "Café <b>"],
)
@pytest.mark.parametrize("length", [80, 90, 160])
def test_shortened_text_is_truncators(text: str, length: int) -> None:
    assert _shortened(text, length) == Truncator(text).chars(length)
