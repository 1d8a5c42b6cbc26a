from django.apps import AppConfig


class TicketViewsConfig(AppConfig):
    name = "svardesk.ticket_views"
    label = "ticket_views"
