from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "svardesk.core"
    label = "core"

    def ready(self) -> None:
        from svardesk.core.postgres_loaders import install_fast_timestamp_loader

        install_fast_timestamp_loader()
