"""The Messenger channel: a connected Facebook Page, the raw webhook deliveries as they
arrived, and the people (page-scoped ids) who wrote to the Page."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


def new_url_key() -> str:
    """The webhook path's key: public (it is in Meta's app settings), unguessable."""
    return secrets.token_urlsafe(16)


class MessengerPage(TimestampedModel):
    """A Facebook Page connected as a channel. The page access token, the app secret (the
    webhook's signing key) and the verify token are stored encrypted (core.crypto)."""

    channel = models.OneToOneField(
        "conversations.Channel", on_delete=models.CASCADE, related_name="messenger"
    )
    page_id = models.CharField(_("page id"), max_length=64, unique=True)
    page_name = models.CharField(_("page name"), max_length=200, blank=True)
    url_key = models.CharField(max_length=32, unique=True, default=new_url_key)
    page_token_encrypted = models.TextField(blank=True)
    app_secret_encrypted = models.TextField(blank=True)
    verify_token_encrypted = models.TextField(blank=True)
    # The latest failure to reach the Graph API (a profile, a file, a reply), for the
    # channel's state in Settings → Channels; "" when the last call went well.
    last_graph_error = models.TextField(blank=True)
    last_graph_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Facebook Page")
        verbose_name_plural = _("Facebook Pages")

    def __str__(self) -> str:
        return self.page_name or self.page_id


class MessengerEvent(models.Model):
    """One webhook delivery exactly as received (after its signature was checked), kept
    before it is processed so nothing is lost when processing fails."""

    page = models.ForeignKey(MessengerPage, on_delete=models.CASCADE, related_name="events")
    body = models.BinaryField()
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        indexes = [
            # The few events still waiting (failed, or their request died): the retry sweep.
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="messenger_event_pending",
            )
        ]

    def __str__(self) -> str:
        return f"Messenger event {self.pk}"


class MessengerUser(models.Model):
    """A person who wrote to the Page, by their page-scoped id (PSID)."""

    page = models.ForeignKey(MessengerPage, on_delete=models.CASCADE, related_name="users")
    psid = models.CharField(max_length=64)
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True)
    profile_fetched = models.BooleanField(default=False)
    # A profile Graph refused is asked for again later (services.PROFILE_RETRY_DELAYS): the
    # lookups made so far, and when the next one is due (None: fetched, or given up).
    profile_attempts = models.PositiveSmallIntegerField(default=0)
    profile_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["page", "psid"], name="unique_messenger_user")
        ]
        indexes = [
            # The few people whose name is still to be asked for: the retry sweep.
            models.Index(
                fields=["profile_retry_at"],
                condition=models.Q(profile_retry_at__isnull=False),
                name="messenger_user_profile_retry",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.psid


class MessengerConversation(models.Model):
    """Which person a conversation of a Page is with: a reply goes to their PSID, and their
    next message continues their latest conversation."""

    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="messenger"
    )
    user = models.ForeignKey(MessengerUser, on_delete=models.CASCADE, related_name="threads")

    def __str__(self) -> str:
        return f"Messenger conversation {self.conversation_id}"
