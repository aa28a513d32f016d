"""Fill the conversations table from the messages already stored."""

from django.db import migrations

# The same statement as messaging.services.conversations_rebuild, frozen here as it was
# when the table was introduced: each message counts once on each side.
FILL = """
INSERT INTO conversations (owner_id, partner_id, last_at, total, unread)
SELECT owner_id, partner_id, MAX(sent_at), COUNT(*), SUM(unread_to_owner)
FROM (
    SELECT sender_id AS owner_id, receiver_id AS partner_id, sent_at, 0 AS unread_to_owner
    FROM messages
    UNION ALL
    SELECT receiver_id, sender_id, sent_at, CASE WHEN read THEN 0 ELSE 1 END
    FROM messages
) AS sides
GROUP BY owner_id, partner_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0003_conversations"),
    ]

    operations = [
        migrations.RunSQL(FILL, reverse_sql="DELETE FROM conversations"),
    ]
