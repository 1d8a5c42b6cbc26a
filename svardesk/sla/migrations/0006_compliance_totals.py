"""The compliance rollup gains, per team, rows over every pipeline and priority (pipeline
-1, priority "*"), which the report reads when it filters by neither: the triggers are
replaced and the rollup recounted (batched by id, like `svardesk sla_rollup --rebuild`; a few
minutes at 1,000,000 tickets)."""

from django.db import migrations


def reinstall(apps, schema_editor):
    from svardesk.sla import rollup

    rollup.install_triggers()
    rollup.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0005_elapsed_totals"),
    ]

    operations = [
        migrations.RunPython(reinstall, migrations.RunPython.noop),
    ]
