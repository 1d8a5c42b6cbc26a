from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "svardesk.tickets"
    label = "tickets"
