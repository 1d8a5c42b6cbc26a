"""Built-in pipelines and statuses get a key, so their names read in each reader's language.

The defaults already made (migration 0002, or `ensure_default_pipeline`) are keyed where they
still carry the name Svardesk gave them; a name an admin typed keeps no key and shows as typed.
"""

from django.db import migrations, models

DEFAULT_PIPELINE = ("Support pipeline", "support")
DEFAULT_STAGES = {
    "New": "new",
    "Waiting on contact": "waiting_on_contact",
    "Waiting on us": "waiting_on_us",
    "Closed": "closed",
}


def key_builtins(apps, schema_editor):
    Pipeline = apps.get_model("tickets", "Pipeline")
    Stage = apps.get_model("tickets", "Stage")
    name, key = DEFAULT_PIPELINE
    Pipeline.objects.filter(name=name, builtin_key="").update(builtin_key=key)
    # Every pipeline is created with the default statuses; those still named so are ours.
    for stage_name, stage_key in DEFAULT_STAGES.items():
        Stage.objects.filter(name=stage_name, builtin_key="").update(builtin_key=stage_key)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0005_drop_duplicate_stage_index")]

    operations = [
        migrations.AddField(
            model_name="pipeline",
            name="builtin_key",
            field=models.CharField(
                blank=True, choices=[("support", "Support pipeline")], default="", max_length=32
            ),
        ),
        migrations.AddField(
            model_name="stage",
            name="builtin_key",
            field=models.CharField(
                blank=True,
                choices=[
                    ("new", "New"),
                    ("waiting_on_contact", "Waiting on contact"),
                    ("waiting_on_us", "Waiting on us"),
                    ("closed", "Closed"),
                ],
                default="",
                max_length=32,
            ),
        ),
        migrations.RunPython(key_builtins, migrations.RunPython.noop),
    ]
