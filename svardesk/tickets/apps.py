from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class TicketsConfig(AppConfig):
    name = "svardesk.tickets"
    label = "tickets"

    def ready(self) -> None:
        from svardesk.core.local_cache import clear_local_cache
        from svardesk.tickets.models import Pipeline, PropertyDefinition, PropertyGroup, Stage

        # Ingest and the list pages keep these for a few seconds (core.local_cache).
        for signal in (post_save, post_delete):
            for model in (Pipeline, Stage, PropertyDefinition, PropertyGroup):
                signal.connect(clear_local_cache, sender=model, weak=False)

        from svardesk.accounts.models import User
        from svardesk.tickets.page import forget_assignable_users

        # The ticket page keeps the owner choices for a few seconds (tickets.page).
        for signal in (post_save, post_delete):
            signal.connect(forget_assignable_users, sender=User, weak=False)

        from svardesk.crm import associations
        from svardesk.crm.signals import contacts_merged
        from svardesk.tickets.models import Ticket
        from svardesk.tickets.services import announce_merged_contact_tickets

        contacts_merged.connect(announce_merged_contact_tickets, dispatch_uid="tickets-merged")

        from svardesk.core.jinja import register_filters
        from svardesk.tickets.templatetags.call_readings import call_reading
        from svardesk.tickets.templatetags.ticket_names import change_reading, sla_reading

        # The thread's events (Jinja2) read their rows with the same filters as Django's.
        register_filters(
            change_reading=change_reading, sla_reading=sla_reading, call_reading=call_reading
        )

        # crm knows no ticket model: it asks this which ticket ids exist (associations).
        associations.register_record_type(
            associations.TICKET,
            lambda ids: set(Ticket.objects.filter(pk__in=ids).values_list("pk", flat=True)),
        )
