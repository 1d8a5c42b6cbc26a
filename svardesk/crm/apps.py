from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CrmConfig(AppConfig):
    name = "svardesk.crm"
    label = "crm"

    def ready(self) -> None:
        from svardesk.core.local_cache import clear_local_cache
        from svardesk.crm.models import CrmSettings

        # crm.queries.crm_settings() keeps the row for a few seconds (core.local_cache).
        for signal in (post_save, post_delete):
            signal.connect(clear_local_cache, sender=CrmSettings, weak=False)
