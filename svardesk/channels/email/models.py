"""The email channel: a team address, how mail gets in (IMAP, built-in SMTP receiver, raw-MIME
endpoint) and out (SMTP), and every raw message as it arrived."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


class EmailChannel(TimestampedModel):
    channel = models.OneToOneField(
        "conversations.Channel", on_delete=models.CASCADE, related_name="email"
    )
    address = models.EmailField(_("team email address"), unique=True)
    display_name = models.CharField(_("sender name"), max_length=200, blank=True)
    # IMAP polling (optional).
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_use_tls = models.BooleanField(default=True)
    imap_user = models.CharField(max_length=255, blank=True)
    imap_password_encrypted = models.TextField(blank=True)
    imap_folder = models.CharField(max_length=255, default="INBOX")
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True)
    imap_last_uid = models.BigIntegerField(default=0)
    imap_last_polled_at = models.DateTimeField(null=True, blank=True)
    imap_last_error = models.TextField(blank=True)
    # Outbound SMTP for this address; empty means the global SVARDESK_SMTP_URL / settings.
    smtp_url_encrypted = models.TextField(blank=True)
    # Raw-MIME HTTP endpoint: SHA-256 of the bearer token (the token is shown once).
    http_token_hash = models.CharField(max_length=64, blank=True)
    # A lease so two IMAP polls of one channel never overlap (compare-and-set, both databases).
    imap_lock_token = models.CharField(max_length=32, blank=True)
    imap_lock_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("email channel")
        verbose_name_plural = _("email channels")

    def __str__(self) -> str:
        return self.address


class InboundStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    QUARANTINED = "quarantined", _("Quarantined")
    DUPLICATE = "duplicate", _("Duplicate")
    SPAM = "spam", _("Spam")


class InboundEmail(models.Model):
    """A raw message exactly as it arrived, stored before it is parsed so nothing is lost.
    `(channel, message_id)` is unique: the same mail delivered twice is stored once."""

    channel = models.ForeignKey(EmailChannel, on_delete=models.PROTECT, related_name="inbound")
    message_id = models.CharField(max_length=998)
    raw = models.BinaryField()
    via = models.CharField(max_length=10)  # imap | smtp | http
    status = models.CharField(
        max_length=12, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    recorded_message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # When a processing batch claimed the row (counting its first attempt). A row still
    # "received" long after was in a batch that died: the sweep tries it alone.
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "message_id"], name="unique_inbound_per_channel"
            )
        ]
        indexes = [
            models.Index(
                fields=["status", "received_at"],
                condition=~Q(status="processed"),
                name="inbound_pending",
            )
        ]

    def __str__(self) -> str:
        return self.message_id


class BlockedSender(TimestampedModel):
    """Mail from a blocked address goes straight to Spam."""

    address = models.EmailField(unique=True)
    blocked_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.address


class KeptMail(models.Model):
    """An outgoing message kept here instead of sent: the embedded default when no mail server
    is configured (SVARDESK_SMTP_URL unset). Settings → Outgoing mail lists the latest ones
    (at most settings.KEPT_MAIL_LIMIT; a periodic task prunes the rest)."""

    from_address = models.TextField(blank=True)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list)
    bcc = models.JSONField(default=list)
    subject = models.TextField(blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    raw = models.BinaryField()
    message_id = models.CharField(max_length=998, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("kept outgoing mail")
        verbose_name_plural = _("kept outgoing mail")

    def __str__(self) -> str:
        return self.subject or self.message_id
