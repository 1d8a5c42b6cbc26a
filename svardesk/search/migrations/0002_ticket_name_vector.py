"""PostgreSQL: the ticket name's search vector as a stored, generated column with its GIN
index, instead of an index on the expression. A search that finds thousands of tickets by a
common word in their names reads the newest tickets in order and checks each one: against
the expression that meant folding every name again (~50 µs a row, 60–110 ms for the 51
newest of 18,000 matches at a million tickets); against the stored vector it is a compare
(~18 ms). Costs ~25 bytes a ticket; adding the column rewrites the table once (5 minutes at a
million tickets, with the table locked), so plan it outside working hours on a large help
desk. The rewrite also forgets which pages are all-visible, and the sidebar's counts read
indexes alone only on such pages (without it they took 250–580 ms instead of 25–35), so the
migration vacuums the table afterwards, outside a transaction. SQLite's FTS5 tables already
store their terms."""

from django.db import migrations

FORWARD = [
    "SET maintenance_work_mem = '256MB'",
    "ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_name_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, svardesk_fold(name::text))) STORED",
    "CREATE INDEX IF NOT EXISTS search_ticket_name_vector ON tickets_ticket "
    "USING gin (search_name_vector)",
    "DROP INDEX IF EXISTS search_ticket_name",
    "RESET maintenance_work_mem",
    # VACUUM cannot run in a transaction: this migration is not atomic, and every statement
    # above can run again if it stopped halfway.
    "VACUUM (ANALYZE) tickets_ticket",
]
BACKWARD = [
    "CREATE INDEX IF NOT EXISTS search_ticket_name ON tickets_ticket USING gin "
    "(to_tsvector('simple'::regconfig, svardesk_fold(name)))",
    "DROP INDEX IF EXISTS search_ticket_name_vector",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_name_vector",
]


def _run(statements):  # type: ignore[no-untyped-def]
    def run(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    return run


class Migration(migrations.Migration):
    atomic = False
    dependencies = [
        ("search", "0001_initial"),
        ("tickets", "0005_drop_duplicate_stage_index"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
