"""Sending and reading: the rules, what is stored, what is audited and what is pushed."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from auditlog.models import LogEntry
from channels.layers import get_channel_layer
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messaging.models import MESSAGE_MAX_LENGTH, Message
from messaging.push import user_group
from messaging.services import (
    MessageNotAllowed,
    conversation_mark_read,
    message_create,
    message_send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def listen():
    """Join a user's group on the in-memory layer; returns a function that reads what arrived."""
    layer = get_channel_layer()

    def join(user):
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(user_group(user.pk), channel)

        def received() -> list[dict]:
            events = []
            while True:
                try:
                    events.append(async_to_sync(_receive_now)(layer, channel))
                except TimeoutError:
                    return events

        return received

    return join


async def _receive_now(layer, channel):
    async with asyncio.timeout(0.2):
        return await layer.receive(channel)


def test_patient_sends_to_their_provider(patient, provider) -> None:
    message = message_send(
        sender=patient.user, receiver=provider.user, content="  Hello\r\ndoctor  "
    )
    stored = Message.objects.get(pk=message.pk)
    assert (stored.sender, stored.receiver, stored.content, stored.read) == (
        patient.user,
        provider.user,
        "Hello\ndoctor",
        False,
    )


@pytest.mark.parametrize(
    ("sender", "receiver", "reason"),
    [
        (
            "patient",
            "other_provider",
            "You can only message providers who are currently caring for you.",
        ),
        (
            "patient",
            "other_patient",
            "You can only message providers who are currently caring for you.",
        ),
        (
            "provider",
            "other_patient",
            "You can only message your own patients and other providers.",
        ),
        ("provider", "provider", "You cannot send a message to yourself."),
    ],
)
def test_a_message_to_anyone_else_is_refused_with_the_reason(
    request, sender, receiver, reason
) -> None:
    sender_user = request.getfixturevalue(sender).user
    receiver_user = request.getfixturevalue(receiver).user
    with pytest.raises(MessageNotAllowed) as refusal:
        message_send(sender=sender_user, receiver=receiver_user, content="Hi")
    assert str(refusal.value) == reason
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("   \n ", "Write a message before sending."),
        (
            "x" * (MESSAGE_MAX_LENGTH + 1),
            f"A message can be at most {MESSAGE_MAX_LENGTH} characters (this one has {MESSAGE_MAX_LENGTH + 1}).",
        ),
        ("nul\x00byte", "The message contains a character that cannot be sent."),
    ],
    ids=["empty", "too-long", "nul"],
)
def test_bad_content_is_refused_and_nothing_is_stored(patient, provider, content, error) -> None:
    with pytest.raises(ValidationError) as refused:
        message_send(sender=patient.user, receiver=provider.user, content=content)
    assert refused.value.message_dict == {"content": [error]}
    assert not Message.objects.exists()


def test_the_limit_counts_a_line_break_once(patient, provider) -> None:
    content = ("a" * 99 + "\r\n") * (MESSAGE_MAX_LENGTH // 100)
    message = message_send(sender=patient.user, receiver=provider.user, content=content)
    assert len(Message.objects.get(pk=message.pk).content) == MESSAGE_MAX_LENGTH - 1


def test_the_push_goes_out_only_after_commit_to_both_peoples_tabs(
    patient, provider, other_patient, listen, django_capture_on_commit_callbacks
) -> None:
    provider_tabs, patient_tabs, stranger_tabs = (
        listen(provider.user),
        listen(patient.user),
        listen(other_patient.user),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = message_send(sender=patient.user, receiver=provider.user, content="Is it ready?")
    # Saved, but not yet pushed: the transaction has not committed.
    assert provider_tabs() == []
    for callback in callbacks:
        callback()

    [to_provider] = provider_tabs()
    assert to_provider["type"] == "messaging.event"
    assert to_provider["payload"]["type"] == "message.new"
    assert to_provider["payload"]["unread"] == 1
    assert to_provider["payload"]["message"]["id"] == str(message.pk)
    assert to_provider["payload"]["message"]["content"] == "Is it ready?"
    assert to_provider["payload"]["message"]["sender_name"] == "Pat Jones"
    [to_patient] = patient_tabs()
    assert to_patient["payload"]["message"]["id"] == str(message.pk)
    assert stranger_tabs() == []


def test_opening_a_conversation_marks_the_other_sides_messages_read_and_tells_them(
    patient, provider, listen, django_capture_on_commit_callbacks
) -> None:
    theirs = [
        message_create(sender=patient.user, receiver=provider.user, content=f"q{n}")
        for n in range(3)
    ]
    mine = message_create(sender=provider.user, receiver=patient.user, content="answer")
    patient_tabs, provider_tabs = listen(patient.user), listen(provider.user)

    with django_capture_on_commit_callbacks(execute=True):
        marked = conversation_mark_read(
            reader=provider.user, partner=patient.user, ip_address="10.1.2.3"
        )

    assert sorted(marked) == sorted(m.pk for m in theirs)
    assert (
        Message.objects.filter(receiver=provider.user, read=True, read_at__isnull=False).count()
        == 3
    )
    assert Message.objects.get(pk=mine.pk).read is False
    [receipt] = patient_tabs()
    assert receipt["payload"]["type"] == "message.read"
    assert sorted(receipt["payload"]["ids"]) == sorted(str(m.pk) for m in theirs)
    assert receipt["payload"]["reader_id"] == str(provider.user.pk)
    [count] = provider_tabs()
    assert count["payload"] == {"type": "unread", "count": 0, "partner_id": str(patient.user.pk)}


def test_marking_read_is_audited_per_message_with_the_reader(patient, provider) -> None:
    theirs = [
        message_create(sender=patient.user, receiver=provider.user, content=f"q{n}")
        for n in range(2)
    ]
    conversation_mark_read(reader=provider.user, partner=patient.user, ip_address="10.1.2.3")
    entries = LogEntry.objects.filter(
        object_pk__in=[str(m.pk) for m in theirs], action=LogEntry.Action.UPDATE
    )
    assert entries.count() == 2
    by_pk = {str(m.pk): m for m in theirs}
    for entry in entries:
        assert entry.actor == provider.user
        assert entry.actor_email == provider.user.email
        assert entry.remote_addr == "10.1.2.3"
        assert entry.changes["read"] == ["False", "True"]
        # The entry names the message as auditlog would for a save() of it.
        message = by_pk[entry.object_pk]
        message.refresh_from_db()
        assert entry.object_repr == str(message)
        assert entry.changes["read_at"] == [
            "None",
            str(timezone.make_naive(message.read_at, dt.UTC)),
        ]
        assert entry.content_type.model_class() is Message


def test_nothing_to_mark_writes_nothing(patient, provider) -> None:
    with CaptureQueriesContext(connection) as captured:
        assert conversation_mark_read(reader=provider.user, partner=patient.user) == []
    writes = [q["sql"] for q in captured if q["sql"].split()[0].upper() in {"UPDATE", "INSERT"}]
    assert writes == []


def test_marking_read_costs_the_same_for_two_or_forty_messages(patient, provider) -> None:
    def queries_for(count: int) -> int:
        for n in range(count):
            message_create(sender=patient.user, receiver=provider.user, content=f"q{n}")
        with CaptureQueriesContext(connection) as captured:
            assert len(conversation_mark_read(reader=provider.user, partner=patient.user)) == count
        return len(captured)

    assert queries_for(2) == queries_for(40)
