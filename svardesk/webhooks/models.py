"""Webhook subscriptions and their delivery log."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """HubSpot's subscription types, as they appear in the payload's `subscriptionType`."""

    TICKET_CREATION = "ticket.creation", _("Ticket created")
    TICKET_PROPERTY_CHANGE = "ticket.propertyChange", _("Ticket property changed")
    TICKET_DELETION = "ticket.deletion", _("Ticket deleted")
    TICKET_MERGE = "ticket.merge", _("Tickets merged")
    CONTACT_CREATION = "contact.creation", _("Contact created")
    CONTACT_PROPERTY_CHANGE = "contact.propertyChange", _("Contact property changed")
    CONTACT_DELETION = "contact.deletion", _("Contact deleted")
    CONTACT_MERGE = "contact.merge", _("Contacts merged")
    COMPANY_CREATION = "company.creation", _("Company created")
    COMPANY_PROPERTY_CHANGE = "company.propertyChange", _("Company property changed")
    COMPANY_DELETION = "company.deletion", _("Company deleted")
    COMPANY_MERGE = "company.merge", _("Companies merged")
    DEAL_CREATION = "deal.creation", _("Deal created")
    DEAL_PROPERTY_CHANGE = "deal.propertyChange", _("Deal property changed")
    DEAL_DELETION = "deal.deletion", _("Deal deleted")
    CONVERSATION_NEW_MESSAGE = "conversation.newMessage", _("New conversation message")


class WebhookSubscription(models.Model):
    """Where events are POSTed, and which. The secret signs every request (HubSpot's v3
    signature) so the receiver can tell it came from this help desk; it is stored encrypted
    (core.crypto) because it must be shown again and used to sign, never hashed."""

    name = models.CharField(_("name"), max_length=100)
    target_url = models.URLField(_("target URL"), max_length=2000)
    event_types = models.JSONField(default=list)
    # For property-change events: only changes of this property (HubSpot's API name); "" = any.
    property_name = models.CharField(_("property"), max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    secret_encrypted = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One POST of a batch of events to one subscription, with its attempts so far. A
    succeeded delivery is never sent again; a pending one waits for `next_attempt_at`; a
    failed one gave up (Retry now sends it again)."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    events = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # The lease of the worker sending it: while it lies ahead, no other worker sends the
    # delivery (a lease rather than a row lock, so no transaction stays open during the POST).
    locked_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="webhooks_delivery_log"),
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}: {len(self.events)} events ({self.status})"
