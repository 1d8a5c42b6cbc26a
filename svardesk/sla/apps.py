from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "svardesk.sla"
    label = "sla"
    verbose_name = "SLA"
