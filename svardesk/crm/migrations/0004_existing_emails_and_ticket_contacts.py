"""Existing contacts' addresses become ContactEmail rows, and each ticket's contact an
association (unlabelled and primary). Set-based: one statement per table, fine at 1,000,000
tickets."""

from django.db import migrations

EMAILS = (
    "INSERT INTO crm_contactemail (contact_id, email, email_key, is_primary) "
    "SELECT id, email, lower(email), %s FROM crm_contact WHERE email <> '' "
    "ORDER BY id ON CONFLICT (email_key) DO NOTHING"
)
TICKET_CONTACTS = (
    "INSERT INTO crm_association (from_type, from_id, to_type, to_id, label, created_at) "
    "SELECT 'ticket', id, 'contact', contact_id, %s, created_at FROM tickets_ticket "
    "WHERE contact_id IS NOT NULL ON CONFLICT DO NOTHING"
)


def forwards(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(EMAILS, [True])
        for label in ("", "primary"):
            cursor.execute(TICKET_CONTACTS, [label])


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0003_companies_deals_associations"),
        ("tickets", "0008_property_object_type_external_id"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
