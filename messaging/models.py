from __future__ import annotations

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from healthcare.db import UUIDModel

MESSAGE_MAX_LENGTH = 5000


class Message(UUIDModel):
    # No single-column foreign-key indexes: the seed's two indexes lead with
    # sender and with receiver, so they serve every lookup by either, and a
    # narrower index beside them would only tempt the planner away from them.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sent_messages",
        db_index=False,
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="received_messages",
        db_index=False,
    )
    content = models.TextField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    read = models.BooleanField(_("read"), default=False)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        db_table = "messages"
        verbose_name = _("message")
        ordering = ["sent_at"]
        indexes = [
            models.Index(
                fields=["sender", "receiver", "sent_at"], name="messages_conversation_idx"
            ),
            models.Index(fields=["receiver", "read"], name="messages_receiver_read_idx"),
        ]
        constraints = [
            # read_at is set exactly when the message has been read.
            models.CheckConstraint(
                condition=models.Q(read=True, read_at__isnull=False)
                | models.Q(read=False, read_at__isnull=True),
                name="messages_read_at_matches_read",
            ),
            models.CheckConstraint(
                condition=~models.Q(sender=models.F("receiver")), name="messages_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sender} → {self.receiver} at {self.sent_at:%Y-%m-%d %H:%M}"


auditlog.register(Message, serialize_data=True)


class Conversation(models.Model):
    """One person's side of their exchange with another: the inbox row, kept up to date on write.

    Why a table and not an aggregate of `messages`: an inbox grouped from the
    messages reads every message of the user on each visit (7,000 rows for a
    busy provider at 1M messages, ten times that at 10M), and its paginator
    runs it twice. Here each user has one row per person they have exchanged
    messages with, so the inbox is an index range scan of `(owner, last_at)`
    that reads one page of rows, whatever the number of messages. The rows
    are written by messaging.services in the same transaction as the message
    (send, mark read), so they cannot drift from it; `conversations_rebuild`
    recomputes them from the messages (the data migration and bulk imports).
    Two rows per pair (one per side) keep each side's unread count and keep
    every inbox read to a single-column range. The seed's `messages` table is
    left as it is.
    """

    id = models.BigAutoField(primary_key=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="conversations",
        db_index=False,  # the unique (owner, partner) and the inbox index lead with it
    )
    partner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    last_at = models.DateTimeField(_("last message at"))
    total = models.PositiveIntegerField(_("messages"), default=0)
    unread = models.PositiveIntegerField(_("unread"), default=0)

    class Meta:
        db_table = "conversations"
        verbose_name = _("conversation")
        constraints = [
            models.UniqueConstraint(fields=["owner", "partner"], name="conversations_one_per_pair"),
            models.CheckConstraint(
                condition=models.Q(unread__lte=models.F("total")),
                name="conversations_unread_within_total",
            ),
            models.CheckConstraint(
                condition=~models.Q(owner=models.F("partner")), name="conversations_not_with_self"
            ),
        ]
        indexes = [
            # The inbox: one user's conversations, newest first.
            models.Index(fields=["owner", "-last_at", "partner"], name="conversations_inbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.owner} ↔ {self.partner}"
