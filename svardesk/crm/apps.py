from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "svardesk.crm"
    label = "crm"
