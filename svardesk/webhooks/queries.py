"""Every read the webhooks pages make."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet

from svardesk.core.crypto import decrypt_secret
from svardesk.webhooks.models import DeliveryStatus, WebhookDelivery, WebhookSubscription

DELIVERY_LOG_SIZE = 50


def list_subscriptions() -> QuerySet[WebhookSubscription]:
    """Every subscription with its count of failed deliveries and its last delivery time."""
    return WebhookSubscription.objects.annotate(
        failed_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
        last_delivery_at=Max("deliveries__created_at"),
    ).order_by("name", "id")


def get_subscription(pk: int) -> WebhookSubscription | None:
    return WebhookSubscription.objects.filter(pk=pk).first()


def get_delivery(subscription: WebhookSubscription, pk: int) -> WebhookDelivery | None:
    return WebhookDelivery.objects.filter(subscription=subscription, pk=pk).first()


def delivery_log(subscription: WebhookSubscription) -> list[WebhookDelivery]:
    """The subscription's latest deliveries, newest first."""
    return list(
        WebhookDelivery.objects.filter(subscription=subscription).order_by("-created_at", "-id")[
            :DELIVERY_LOG_SIZE
        ]
    )


def subscription_secret(subscription: WebhookSubscription) -> str:
    """The signing secret in clear, for the Settings page (super admins only)."""
    return decrypt_secret(subscription.secret_encrypted)
