"""The SLA report's compliance rollup (sla.rollup): its tables, triggers and first count."""

from django.db import migrations, models


def install(apps, schema_editor):
    """The triggers that keep the rollup, then the first count of the existing tickets
    (batched by id; at 1,000,000 tickets a few minutes on PostgreSQL)."""
    from svardesk.sla import rollup

    rollup.install_triggers()
    rollup.rebuild()


def uninstall(apps, schema_editor):
    from svardesk.sla import rollup

    rollup.uninstall_triggers()


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupRebuild",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("below", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="ComplianceDay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("start", models.DateTimeField()),
                ("goal", models.CharField(max_length=16)),
                ("status", models.CharField(max_length=10)),
                ("team_id", models.BigIntegerField()),
                ("pipeline_id", models.BigIntegerField()),
                ("priority", models.CharField(max_length=10)),
                ("tickets", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("goal", "start", "status", "team_id", "pipeline_id", "priority"),
                        name="sla_compliance_day_key",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="ComplianceHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("start", models.DateTimeField()),
                ("goal", models.CharField(max_length=16)),
                ("status", models.CharField(max_length=10)),
                ("team_id", models.BigIntegerField()),
                ("pipeline_id", models.BigIntegerField()),
                ("priority", models.CharField(max_length=10)),
                ("tickets", models.IntegerField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("goal", "start", "status", "team_id", "pipeline_id", "priority"),
                        name="sla_compliance_hour_key",
                    )
                ],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
