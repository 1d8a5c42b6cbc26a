from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks out: subscriptions to ticket, contact and conversation events, delivered as
    HubSpot's webhook payloads with HubSpot's v3 signature, retried by the task queue."""

    name = "svardesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from svardesk.conversations.signals import message_created
        from svardesk.crm.signals import (
            companies_merged,
            contacts_merged,
            record_changed,
            record_created,
            record_deleted,
        )
        from svardesk.tickets.signals import (
            ticket_updated,
            tickets_created,
            tickets_deleted,
            tickets_merged,
            tickets_moved,
        )
        from svardesk.webhooks import receivers

        connections = (
            (tickets_created, receivers.tickets_created),
            (ticket_updated, receivers.ticket_updated),
            (tickets_moved, receivers.tickets_moved),
            (tickets_deleted, receivers.tickets_deleted),
            (tickets_merged, receivers.tickets_merged),
            (record_created, receivers.record_created),
            (record_changed, receivers.record_changed),
            (record_deleted, receivers.record_deleted),
            (contacts_merged, receivers.contacts_merged),
            (companies_merged, receivers.companies_merged),
            (message_created, receivers.message_created),
        )
        for signal, receiver in connections:
            signal.connect(receiver, dispatch_uid=f"webhooks-{receiver.__name__}")
