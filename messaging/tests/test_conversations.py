"""The conversations table follows every write to the messages, and a rebuild agrees with it."""

from __future__ import annotations

import datetime as dt

import pytest

from messaging.models import Conversation
from messaging.services import (
    conversation_mark_read,
    conversations_rebuild,
    message_create,
    message_mark_read,
)

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


def _sides() -> dict[tuple, tuple]:
    return {
        (c.owner_id, c.partner_id): (c.last_at, c.total, c.unread)
        for c in Conversation.objects.all()
    }


def test_sending_counts_on_both_sides_and_unread_only_for_the_receiver(patient, provider) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="a", sent_at=T0)
    message_create(
        sender=provider.user,
        receiver=patient.user,
        content="b",
        sent_at=T0 + dt.timedelta(minutes=5),
    )
    message_create(
        sender=patient.user,
        receiver=provider.user,
        content="c",
        sent_at=T0 + dt.timedelta(minutes=9),
    )
    # An imported older message does not move the conversation back in time.
    message_create(
        sender=patient.user,
        receiver=provider.user,
        content="old",
        sent_at=T0 - dt.timedelta(days=1),
    )
    last = T0 + dt.timedelta(minutes=9)
    assert _sides() == {
        (provider.user.pk, patient.user.pk): (last, 4, 3),
        (patient.user.pk, provider.user.pk): (last, 4, 1),
    }


def test_reading_lowers_only_the_readers_unread_count(patient, provider) -> None:
    first = message_create(sender=patient.user, receiver=provider.user, content="a", sent_at=T0)
    message_create(sender=patient.user, receiver=provider.user, content="b", sent_at=T0)
    message_create(sender=provider.user, receiver=patient.user, content="c", sent_at=T0)
    message_mark_read(message=first)
    message_mark_read(message=first)  # already read: counted once
    assert _sides()[(provider.user.pk, patient.user.pk)][1:] == (3, 1)
    conversation_mark_read(reader=provider.user, partner=patient.user)
    assert _sides()[(provider.user.pk, patient.user.pk)][1:] == (3, 0)
    assert _sides()[(patient.user.pk, provider.user.pk)][1:] == (3, 1)


def test_rebuild_from_the_messages_matches_the_rows_kept_on_write(
    patient, provider, other_provider
) -> None:
    for n in range(5):
        message_create(
            sender=patient.user,
            receiver=provider.user,
            content=f"q{n}",
            sent_at=T0 + dt.timedelta(minutes=n),
        )
    message_create(sender=provider.user, receiver=other_provider.user, content="x", sent_at=T0)
    conversation_mark_read(reader=provider.user, partner=patient.user)
    message_create(sender=patient.user, receiver=provider.user, content="late", sent_at=T0)
    kept = _sides()
    assert conversations_rebuild() == 4
    assert _sides() == kept
