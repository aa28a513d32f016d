"""Tell PostgreSQL's planner that a message's sender and receiver go together.

Without it the planner multiplies the two columns' selectivities and expects
one message between two people (1,000 at clinic scale). Expecting one row, it
reads a conversation's newest messages by fetching the whole pair through
messages_conversation_idx and sorting it (2,000 rows for a long conversation,
growing with it), instead of walking the index backwards and stopping after
one page (about 20 rows, whatever the length). Statistics only: nothing is
written per message. Other databases have no such object; there it does nothing.
"""

from django.db import migrations

CREATE = """
CREATE STATISTICS IF NOT EXISTS messages_pair_stats (ndistinct, dependencies)
ON sender_id, receiver_id FROM messages
"""
DROP = "DROP STATISTICS IF EXISTS messages_pair_stats"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM messages)")
            (has_messages,) = cursor.fetchone()
        if has_messages:
            # Gathered now: autovacuum would analyze a big table again only
            # after a tenth of it has changed. An empty table (a new database)
            # has nothing to gather; autovacuum analyzes it as it fills.
            schema_editor.execute("ANALYZE messages")


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0004_backfill_conversations"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
