"""The chat channel: a widget on the company's websites, its visitors and their chats."""

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from svardesk.core.models import TimestampedModel


def new_public_key() -> str:
    """The snippet's `data-svardesk-chat` value: public, unguessable, 22 URL-safe chars."""
    return secrets.token_urlsafe(16)


class AskDetails(models.TextChoices):
    BEFORE = "before", _("Before the chat starts")
    DURING = "during", _("During the chat (optional)")


class ChatChannel(TimestampedModel):
    """A chat widget's settings. Its `public_key` is in the embed snippet; it answers only on
    `websites` (normalised origins, scheme://host[:port])."""

    channel = models.OneToOneField(
        "conversations.Channel", on_delete=models.CASCADE, related_name="chat"
    )
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    websites = models.JSONField(_("websites"), default=list)
    ask_details = models.CharField(
        _("ask for name and email"),
        max_length=8,
        choices=AskDetails.choices,
        default=AskDetails.BEFORE,
    )
    # The transcript's and the widget's default language (a settings.LANGUAGES code).
    language = models.CharField(_("language"), max_length=8, default="en")
    transcripts_enabled = models.BooleanField(_("email the transcript"), default=False)
    transcript_from = models.EmailField(_("send from"), blank=True)

    class Meta:
        verbose_name = _("chat channel")
        verbose_name_plural = _("chat channels")

    def __str__(self) -> str:
        return self.channel.name if self.channel_id else self.public_key


class Visitor(models.Model):
    """Someone who chatted through the widget. `public_id` is in the visitor's signed token
    (kept in their browser), so a reload resumes their chat."""

    chat_channel = models.ForeignKey(ChatChannel, on_delete=models.CASCADE, related_name="visitors")
    public_id = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name or self.email or self.public_id


class TranscriptStatus(models.TextChoices):
    NONE = "none", _("Not sent")
    PENDING = "pending", _("Sending")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", _("Not delivered")


class ChatSession(models.Model):
    """One chat: a visitor's conversation (and so ticket) from the first message until an
    agent closes it. The next message after that starts a new chat."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="sessions")
    conversation = models.OneToOneField(
        "conversations.Conversation", on_delete=models.CASCADE, related_name="chat_session"
    )
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Nobody was available: the ticket continues by email (start_follow_up_conversation).
    follows_up_by_email = models.BooleanField(default=False)
    transcript_status = models.CharField(
        max_length=8, choices=TranscriptStatus.choices, default=TranscriptStatus.NONE
    )
    transcript_to = models.EmailField(blank=True)
    transcript_sent_at = models.DateTimeField(null=True, blank=True)
    transcript_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["visitor", "-created_at"], name="chat_session_visitor")]

    def __str__(self) -> str:
        return f"Chat {self.pk}"


class WidgetSighting(models.Model):
    """A website the widget was loaded on (from its config request's Origin)."""

    chat_channel = models.ForeignKey(
        ChatChannel, on_delete=models.CASCADE, related_name="sightings"
    )
    origin = models.CharField(max_length=255)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["chat_channel", "origin"], name="unique_sighting")
        ]

    def __str__(self) -> str:
        return self.origin
