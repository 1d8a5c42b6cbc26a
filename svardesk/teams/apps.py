from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "svardesk.teams"
    label = "teams"
