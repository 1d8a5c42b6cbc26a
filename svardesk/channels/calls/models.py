"""The calls channel: a phone number at a Twilio-compatible provider, its calls, and every
callback the provider sent, stored as it arrived."""

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


def new_url_key() -> str:
    """The key in the webhook paths: unguessable, 32 URL-safe characters."""
    return secrets.token_urlsafe(24)


class CallChannel(TimestampedModel):
    """A phone number whose calls come in through the provider's webhooks. The auth token
    (which signs the webhooks) is stored encrypted (`core.crypto`)."""

    channel = models.OneToOneField(
        "conversations.Channel", on_delete=models.CASCADE, related_name="call"
    )
    phone_number = models.CharField(_("phone number"), max_length=32, unique=True)  # E.164
    account_sid = models.CharField(_("account SID"), max_length=34)
    auth_token_encrypted = models.TextField()
    url_key = models.CharField(max_length=64, unique=True, default=new_url_key)
    # The greeting's language (a settings.LANGUAGES code).
    language = models.CharField(_("language"), max_length=8, default="en")

    class Meta:
        verbose_name = _("call channel")
        verbose_name_plural = _("call channels")

    def __str__(self) -> str:
        return self.phone_number


class CallStatus(models.TextChoices):
    """Twilio's CallStatus values."""

    QUEUED = "queued", _("Queued")
    RINGING = "ringing", _("Ringing")
    IN_PROGRESS = "in-progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    BUSY = "busy", _("Busy")
    NO_ANSWER = "no-answer", _("No answer")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


class Call(models.Model):
    """One call to the channel's number, merged from its callbacks in whatever order they
    came. `message` is the conversation message the call became (a missed call or a
    voicemail); a call still going on, or answered without a recording yet, has none."""

    call_channel = models.ForeignKey(CallChannel, on_delete=models.CASCADE, related_name="calls")
    call_sid = models.CharField(max_length=64)
    from_number = models.CharField(max_length=64, blank=True)  # E.164 when it parsed
    to_number = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=16, blank=True)
    status_rank = models.PositiveSmallIntegerField(default=0)
    duration = models.PositiveIntegerField(null=True, blank=True)  # seconds
    recording_url = models.URLField(max_length=1000, blank=True)
    recording_sid = models.CharField(max_length=64, blank=True)
    recording_duration = models.PositiveIntegerField(null=True, blank=True)
    recording_status = models.CharField(max_length=16, blank=True)
    transcript = models.TextField(blank=True)
    transcript_status = models.CharField(max_length=16, blank=True)
    message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField()  # the first callback's arrival
    ended_at = models.DateTimeField(null=True, blank=True)  # the final status's arrival
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["call_channel", "call_sid"], name="unique_call_sid")
        ]
        indexes = [
            # Completed calls still waiting for a recording (the sweep's missed calls).
            models.Index(
                fields=["ended_at"],
                condition=models.Q(message__isnull=True, ended_at__isnull=False),
                name="call_without_message",
            ),
        ]

    def __str__(self) -> str:
        return self.call_sid


class CallbackKind(models.TextChoices):
    VOICE = "voice", _("Incoming call")
    STATUS = "status", _("Status")
    RECORDING = "recording", _("Recording")
    TRANSCRIPTION = "transcription", _("Transcription")


class CallCallback(models.Model):
    """A signed callback exactly as it arrived (every form parameter), then what became of
    it: `processed_at` once merged into its Call, `error` when processing failed (the sweep
    tries again) or the input was refused (no CallSid: never retried)."""

    call_channel = models.ForeignKey(
        CallChannel, on_delete=models.CASCADE, related_name="callbacks"
    )
    kind = models.CharField(max_length=16, choices=CallbackKind.choices)
    call_sid = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [
            # The few waiting to be processed again, for the sweep.
            models.Index(
                fields=["received_at"],
                condition=models.Q(processed_at__isnull=True),
                name="call_callback_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.call_sid}"
