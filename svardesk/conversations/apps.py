from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ConversationsConfig(AppConfig):
    name = "svardesk.conversations"
    label = "conversations"

    def ready(self) -> None:
        from svardesk.conversations import merging, migration_tasks  # noqa: F401 (huey finds tasks.py only)
        from svardesk.conversations.models import HelpDeskSettings
        from svardesk.core.local_cache import clear_local_cache
        from svardesk.tickets.signals import tickets_merging

        tickets_merging.connect(merging.tickets_merging, dispatch_uid="conversations-merging")

        for signal in (post_save, post_delete):
            signal.connect(clear_local_cache, sender=HelpDeskSettings, weak=False)
