"""Search indexes: PostgreSQL gets its normalisation functions and GIN / trigram expression
indexes; SQLite gets FTS5 tables, the triggers that keep them current, and their first fill."""

from django.db import migrations


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        from svardesk.search import postgres

        # Straight to the cursor, without parameters: the SQL holds literal % signs.
        with connection.cursor() as cursor:
            # GIN builds over a million descriptions are much faster with room to sort.
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(postgres.fold_function_sql())
            cursor.execute(postgres.PHONE_FUNCTION)
            for statement in postgres.INDEXES:
                cursor.execute(statement)
            # Statistics on the indexed expressions, for the planner's estimates.
            cursor.execute("ANALYZE tickets_ticket, crm_contact")
    elif connection.vendor == "sqlite":
        from svardesk.search import services, sqlite

        connection.ensure_connection()
        sqlite.register_functions(connection.connection)
        for statement in sqlite.CREATE + sqlite.TRIGGERS:
            schema_editor.execute(statement)
        services.fill_sqlite_index()
        schema_editor.execute("ANALYZE tickets_ticket")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        from svardesk.search import postgres

        with connection.cursor() as cursor:
            for statement in postgres.DROP:
                cursor.execute(statement)
    elif connection.vendor == "sqlite":
        from svardesk.search import sqlite

        for statement in sqlite.DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0003_ticket_merged_into"),
        ("crm", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
