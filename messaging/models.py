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
