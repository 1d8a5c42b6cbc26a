from django.db import migrations


def create_inboxes(apps, schema_editor):
    Inbox = apps.get_model("conversations", "Inbox")
    if not Inbox.objects.filter(kind="help_desk").exists():
        Inbox.objects.create(name="Help desk", kind="help_desk")
    if not Inbox.objects.filter(kind="conversations").exists():
        Inbox.objects.create(name="Conversations inbox", kind="conversations")


class Migration(migrations.Migration):
    dependencies = [("conversations", "0001_initial")]
    operations = [migrations.RunPython(create_inboxes, migrations.RunPython.noop)]
