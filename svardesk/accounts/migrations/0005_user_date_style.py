from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_ticket_sidebar_layout")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="date_style",
            field=models.CharField(
                choices=[
                    ("auto", "Automatic (from your language and time zone)"),
                    ("se", "Sweden (2026-12-06 06:03)"),
                    ("gb", "UK (06/12/2026 06:03)"),
                    ("us", "US (12/06/2026 6:03 AM)"),
                ],
                default="auto",
                max_length=4,
                verbose_name="date and time format",
            ),
        ),
    ]
