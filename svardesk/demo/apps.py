from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "svardesk.demo"
    label = "demo"
