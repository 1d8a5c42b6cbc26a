from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0009_merge_redirects"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticketevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("property_changed", "Property changed"),
                    ("sla", "SLA"),
                    ("merged", "Merged"),
                ],
                max_length=32,
            ),
        ),
    ]
