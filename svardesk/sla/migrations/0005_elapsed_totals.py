"""The histogram of times gains rows over every team, pipeline and priority (team -1,
pipeline -1, priority "*") and an index of its own for them: the triggers are replaced and
the histogram recounted."""

from django.db import migrations, models


def reinstall(apps, schema_editor):
    from svardesk.sla import durations

    durations.install_triggers()
    durations.rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0004_elapsed_week_key_order"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="elapsedweek",
            index=models.Index(
                condition=models.Q(("team_id", -1)),
                fields=["goal", "start", "bin"],
                include=("tickets",),
                name="sla_elapsed_week_all",
            ),
        ),
        migrations.RunPython(reinstall, migrations.RunPython.noop),
    ]
