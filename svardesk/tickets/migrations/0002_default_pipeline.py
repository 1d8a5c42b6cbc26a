from django.db import migrations

STAGES = [("New", False), ("Waiting on contact", False), ("Waiting on us", False), ("Closed", True)]
CREATE_FORM = ["contact", "description", "owner", "priority", "category", "team"]


def create_defaults(apps, schema_editor):
    Pipeline = apps.get_model("tickets", "Pipeline")
    Stage = apps.get_model("tickets", "Stage")
    CreateFormField = apps.get_model("tickets", "CreateFormField")
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Support pipeline", display_order=0)
        for order, (name, is_closed) in enumerate(STAGES):
            Stage.objects.create(
                pipeline=pipeline, name=name, is_closed=is_closed, display_order=order
            )
    if not CreateFormField.objects.exists():
        for order, name in enumerate(CREATE_FORM):
            CreateFormField.objects.create(property_name=name, display_order=order)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
