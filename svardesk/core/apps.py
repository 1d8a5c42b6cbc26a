from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "svardesk.core"
    label = "core"
