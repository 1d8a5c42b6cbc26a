from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "svardesk.demo"
    label = "demo"

    def ready(self) -> None:
        from django.core import checks

        from svardesk.demo.checks import check_pending_indexes

        checks.register(check_pending_indexes, checks.Tags.database)
