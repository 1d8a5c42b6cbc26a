from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Webhooks out: subscriptions to ticket, contact and conversation events, delivered as
    HubSpot's webhook payloads with HubSpot's v3 signature, retried by the task queue."""

    name = "svardesk.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"
