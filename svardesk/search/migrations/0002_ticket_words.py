"""Tickets' words stored (PostgreSQL): search_ticket_words holds each ticket's folded name
and name-and-description words as tsvectors, with GIN indexes, kept current by triggers on
tickets_ticket; the expression indexes over svardesk_fold() on tickets go. A search walking
the newest tickets then compares stored words instead of folding every ticket's text again.
svardesk_fold gets its ASCII shortcut (same results, far cheaper on ASCII text).
SQLite is unchanged: its FTS5 tables already store the words."""

from django.db import migrations


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from svardesk.search import postgres

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(postgres.fold_function_sql(ascii_shortcut=True))
        cursor.execute(postgres.WORDS_FUNCTION)
        for statement in postgres.WORDS_CREATE:
            cursor.execute(statement)
        cursor.execute(postgres.WORDS_FILL)
        for statement in postgres.WORDS_INDEXES:
            cursor.execute(statement)
        cursor.execute("DROP INDEX IF EXISTS search_ticket_name")
        cursor.execute("DROP INDEX IF EXISTS search_ticket_text")
        cursor.execute(f"ANALYZE {postgres.WORDS_TABLE}")


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from svardesk.search import postgres

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in postgres.OLD_TICKET_INDEXES:
            cursor.execute(statement)
        for statement in postgres.WORDS_DROP:
            cursor.execute(statement)
        cursor.execute(postgres.fold_function_sql())


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
