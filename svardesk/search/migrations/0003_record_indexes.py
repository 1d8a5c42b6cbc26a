"""The record pickers' indexes (search.records) on PostgreSQL: folded names in byte order and
as trigrams, addresses, domains and numbers as trigrams. SQLite reads the same statements
without them (and the contacts' FTS5 table for their words): correct, and fast enough at
demo sizes. Indexes only — no column changes, so SQLite's tables (and their search
triggers) stay as they are."""

from django.db import migrations


def create(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from svardesk.search import postgres

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for statement in postgres.RECORD_INDEXES:
            cursor.execute(statement)
        cursor.execute(
            "ANALYZE crm_contact, crm_company, crm_deal, crm_contactemail, crm_contactphone"
        )


def drop(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from svardesk.search import postgres

    with connection.cursor() as cursor:
        for statement in postgres.RECORD_DROP:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("search", "0002_ticket_words"), ("crm", "0003_companies_deals_associations")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
