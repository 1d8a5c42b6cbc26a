from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TicketsConfig(AppConfig):
    name = "svardesk.tickets"
    label = "tickets"

    def ready(self) -> None:
        from svardesk.core.local_cache import clear_local_cache
        from svardesk.tickets.models import Pipeline, Stage

        # Ingest keeps pipelines and stages for a few seconds (core.local_cache).
        for signal in (post_save, post_delete):
            signal.connect(clear_local_cache, sender=Stage, weak=False)
            signal.connect(clear_local_cache, sender=Pipeline, weak=False)
