"""Matching an inbound sender to a contact looks up lower(email). PostgreSQL has that index
from the search app (search_contact_email); SQLite gets its own here."""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS crm_contact_email_lower ON crm_contact (lower(email))"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP INDEX IF EXISTS crm_contact_email_lower")


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
