"""svardesk_fold (PostgreSQL) with common ASCII characters first in translate()'s table,
mapped to themselves: the same results, several times faster on text with any non-ASCII
letter (search.postgres.fold_function_sql). Indexes over it stay valid: no value changes."""

from django.db import migrations


def replace(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    from svardesk.search import postgres

    with connection.cursor() as cursor:
        cursor.execute(postgres.fold_function_sql(ascii_shortcut=True))


class Migration(migrations.Migration):
    dependencies = [("search", "0003_record_indexes")]

    operations = [migrations.RunPython(replace, migrations.RunPython.noop, elidable=False)]
