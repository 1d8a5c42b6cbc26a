from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TeamsConfig(AppConfig):
    name = "svardesk.teams"
    label = "teams"

    def ready(self) -> None:
        from svardesk.core.local_cache import clear_local_cache
        from svardesk.teams.models import Team

        # The list pages keep the teams for a few seconds (core.local_cache).
        for signal in (post_save, post_delete):
            signal.connect(clear_local_cache, sender=Team, weak=False)
