"""Who may write to whom, whose conversation may be opened, and the inbox aggregation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accounts.models import Role
from accounts.services import user_create
from messaging.models import Message
from messaging.selectors import (
    conversation_messages,
    conversation_page,
    conversation_partner,
    conversation_summaries,
    inbox_page,
    may_message,
    messageable_users,
    messages_after,
    refusal_reason,
    unread_count,
)
from messaging.services import message_create, message_mark_read
from patients.models import EmergencyAccess
from providers.services import relationship_deactivate

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)


def _at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


# --- Who may write to whom ----------------------------------------------------------


def test_patient_may_write_only_to_their_providers(
    patient, provider, other_provider, other_patient
) -> None:
    assert list(messageable_users(patient.user)) == [provider.user]
    assert may_message(patient.user, provider.user)
    assert not may_message(patient.user, other_provider.user)
    assert not may_message(patient.user, other_patient.user)


def test_provider_may_write_to_their_patients_and_other_providers(
    provider, patient, other_provider, other_patient, admin_user
) -> None:
    allowed = set(messageable_users(provider.user))
    assert allowed == {patient.user, other_provider.user}
    assert not may_message(provider.user, other_patient.user)
    # Staff without a provider profile are not "other providers".
    assert not may_message(provider.user, admin_user)


def test_nobody_may_write_to_themselves_or_staff_to_anyone(patient, provider, admin_user) -> None:
    assert not may_message(provider.user, provider.user)
    assert refusal_reason(provider.user, provider.user) == "You cannot send a message to yourself."
    assert list(messageable_users(admin_user)) == []
    assert not may_message(admin_user, patient.user)


def test_ended_care_ends_messaging_both_ways(patient, provider) -> None:
    relationship_deactivate(link=provider.patient_links.get(patient=patient))
    assert not may_message(patient.user, provider.user)
    assert not may_message(provider.user, patient.user)
    assert refusal_reason(patient.user, provider.user) == (
        "You can only message providers who are currently caring for you."
    )
    assert refusal_reason(provider.user, patient.user) == (
        "You can only message your own patients and other providers."
    )


def test_an_inactive_account_receives_nothing(patient, provider) -> None:
    provider.user.is_active = False
    provider.user.save(update_fields=["is_active"])
    assert not may_message(patient.user, provider.user)
    assert (
        refusal_reason(patient.user, provider.user) == "This account no longer receives messages."
    )


# --- Whose conversation may be opened ------------------------------------------------------


def test_strangers_conversations_are_not_found(
    patient, provider, other_patient, other_provider
) -> None:
    message_create(sender=other_patient.user, receiver=other_provider.user, content="Private")
    assert conversation_partner(patient.user, other_provider.user.pk) is None
    assert conversation_partner(provider.user, other_patient.user.pk) is None
    assert conversation_partner(patient.user, other_patient.user.pk) is None
    assert conversation_partner(patient.user, patient.user.pk) is None


def test_patient_keeps_their_history_after_care_ends(patient, provider) -> None:
    message_create(sender=provider.user, receiver=patient.user, content="Take care")
    relationship_deactivate(link=provider.patient_links.get(patient=patient))
    assert conversation_partner(patient.user, provider.user.pk) == provider.user
    # ...but the provider no longer sees the patient's messages.
    assert conversation_partner(provider.user, patient.user.pk) is None


def test_provider_reads_history_under_emergency_access_but_cannot_write(
    patient, other_provider
) -> None:
    message_create(sender=patient.user, receiver=other_provider.user, content="Earlier question")
    assert conversation_partner(other_provider.user, patient.user.pk) is None
    EmergencyAccess.objects.create(
        provider=other_provider,
        patient=patient,
        reason="Unconscious in the emergency room",
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
    )
    assert conversation_partner(other_provider.user, patient.user.pk) == patient.user
    assert not may_message(other_provider.user, patient.user)


# --- Inbox ------------------------------------------------------------------------------------


def test_inbox_groups_by_person_newest_first_with_unread_counts(
    patient, provider, other_provider, make_patient_of
) -> None:
    second = make_patient_of(provider, name="Sam Second")
    message_create(sender=patient.user, receiver=provider.user, content="1", sent_at=_at(1))
    message_create(sender=provider.user, receiver=patient.user, content="2", sent_at=_at(2))
    message_create(sender=patient.user, receiver=provider.user, content="3", sent_at=_at(3))
    read = message_create(sender=second.user, receiver=provider.user, content="4", sent_at=_at(5))
    message_mark_read(message=read, at=_at(6))
    message_create(sender=other_provider.user, receiver=provider.user, content="5", sent_at=_at(4))

    conversations = inbox_page(provider.user, size=25).conversations

    assert [(c.partner_name, c.unread, c.total, c.last_at) for c in conversations] == [
        ("Sam Second", 0, 1, _at(5)),
        ("Omar Other", 1, 1, _at(4)),
        ("Pat Jones", 2, 3, _at(3)),
    ]


def test_inbox_leaves_out_patients_whose_care_ended(patient, provider) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="Hello")
    relationship_deactivate(link=provider.patient_links.get(patient=patient))
    assert list(conversation_summaries(provider.user)) == []
    # The patient still has it.
    assert [row["partner_id"] for row in conversation_summaries(patient.user)] == [provider.user.pk]


def test_unread_count_counts_only_unread_messages_to_the_user(patient, provider) -> None:
    message_create(sender=patient.user, receiver=provider.user, content="a")
    message_mark_read(
        message=message_create(sender=patient.user, receiver=provider.user, content="b")
    )
    message_create(sender=provider.user, receiver=patient.user, content="c")
    assert unread_count(provider.user) == 1
    assert unread_count(patient.user) == 1


# --- One conversation ------------------------------------------------------------------------


def test_conversation_page_is_the_latest_messages_oldest_first(patient, provider) -> None:
    sent = [
        message_create(sender=patient.user, receiver=provider.user, content=f"m{n}", sent_at=_at(n))
        for n in range(7)
    ]
    page = conversation_page(provider.user, patient.user, size=3)
    assert [m.content for m in page.messages] == ["m4", "m5", "m6"]
    assert page.has_earlier
    earlier = conversation_page(provider.user, patient.user, before=sent[4].pk, size=3)
    assert [m.content for m in earlier.messages] == ["m1", "m2", "m3"]


def test_messages_after_returns_what_was_missed(patient, provider) -> None:
    sent = [
        message_create(sender=patient.user, receiver=provider.user, content=f"m{n}", sent_at=_at(n))
        for n in range(4)
    ]
    # Same second: ties are broken by id, so nothing is skipped or repeated.
    twin = message_create(
        sender=provider.user, receiver=patient.user, content="twin", sent_at=_at(3)
    )
    after_second = messages_after(provider.user, patient.user, after=sent[1].pk)
    assert sorted(m.content for m in after_second.messages) == ["m2", "m3", "twin"]
    anchor = max([sent[3], twin], key=lambda m: m.pk)
    assert messages_after(provider.user, patient.user, after=anchor.pk).messages == []
    by_time = messages_after(provider.user, patient.user, after=_at(2))
    assert sorted(m.content for m in by_time.messages) == ["m3", "twin"]
    capped = messages_after(provider.user, patient.user, after=None, limit=2)
    assert not capped.complete


def test_messages_after_an_id_from_another_conversation_returns_nothing(
    patient, provider, other_patient, other_provider
) -> None:
    foreign = message_create(sender=other_patient.user, receiver=other_provider.user, content="x")
    message_create(sender=patient.user, receiver=provider.user, content="y")
    missed = messages_after(provider.user, patient.user, after=foreign.pk)
    assert missed.messages == []
    assert not missed.complete


# --- The seed's indexes serve these queries ---------------------------------------------------------


def _plan(queryset) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Small test tables would be scanned whole; forbid that to see which index the planner takes.
            cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()
    if connection.vendor == "sqlite":
        return queryset.explain()
    pytest.skip(f"no plan check for {connection.vendor}")


def _fill(patient, provider, other_provider) -> None:
    for n in range(30):
        message_create(sender=patient.user, receiver=provider.user, content=f"q{n}", sent_at=_at(n))
        message_create(
            sender=provider.user, receiver=other_provider.user, content=f"r{n}", sent_at=_at(n)
        )


def test_unread_count_uses_the_receiver_read_index(patient, provider, other_provider) -> None:
    _fill(patient, provider, other_provider)
    plan = _plan(Message.objects.filter(receiver=provider.user, read=False))
    assert "messages_receiver_read_idx" in plan, plan


def test_inbox_reads_one_range_of_the_conversations_index(
    patient, provider, other_provider
) -> None:
    _fill(patient, provider, other_provider)
    plan = _plan(conversation_summaries(provider.user))
    # One user's rows through an index on (owner, ...): the inbox index, or on a table
    # this small PostgreSQL may prefer the (owner, partner) one and sort a handful of rows.
    assert "conversations_inbox_idx" in plan or "conversations_one_per_pair" in plan, plan
    # The messages themselves are not read at all: the inbox costs the same at 10M messages.
    assert "messages" not in plan.replace("conversations", ""), plan


def test_conversation_uses_the_conversation_index(patient, provider, other_provider) -> None:
    _fill(patient, provider, other_provider)
    plan = _plan(conversation_messages(provider.user, patient.user))
    assert "messages_conversation_idx" in plan, plan
    assert "Seq Scan" not in plan and "SCAN messages" not in plan, plan


def test_an_account_without_a_portal_profile_has_no_conversations(db) -> None:
    staff = user_create(email="clerk@example.org", full_name="Clara Clerk", role=Role.PROVIDER)
    assert conversation_partner(staff, staff.pk) is None
    assert list(conversation_summaries(staff)) == []
