"""Inboxes, conversations and their messages, attachments and notifications.

A conversation is a thread of messages on one channel (an email thread, a chat); in the help
desk it belongs to a ticket. Every channel records inbound messages through
`services.record_inbound_message`, the one way in.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from svardesk.core.models import TimestampedModel


class InboxKind(models.TextChoices):
    HELP_DESK = "help_desk", _("Help desk")
    CONVERSATIONS = "conversations", _("Conversations inbox")


class Inbox(TimestampedModel):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(max_length=20, choices=InboxKind.choices, default=InboxKind.HELP_DESK)

    class Meta:
        ordering = ["id"]
        verbose_name = _("inbox")
        verbose_name_plural = _("inboxes")

    def __str__(self) -> str:
        return self.name


class ChannelKind(models.TextChoices):
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    FORM = "form", _("Form")
    CALL = "call", _("Call")
    MESSENGER = "messenger", _("Facebook Messenger")


class Channel(TimestampedModel):
    """A connected channel (a team email address, a chat widget, …) feeding one inbox.
    Channel-specific settings live in the channel's own app (e.g. `email_channel.EmailChannel`)."""

    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="channels")
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name


class Conversation(TimestampedModel):
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="conversations")
    inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="conversations")
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    contact = models.ForeignKey(
        "crm.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    # Who answers a thread of a conversations inbox (in the help desk the ticket's owner
    # does); set when the thread is moved there with a reassignment.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_spam = models.BooleanField(default=False)
    last_message_at = models.DateTimeField(null=True, blank=True)
    # Set when the conversation was archived through the API (HubSpot's thread trash); such
    # conversations leave the API's thread lists but keep their messages and their ticket.
    # Nullable, so SQLite adds the column without rebuilding the table.
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [models.Index(fields=["ticket", "id"], name="conversation_ticket")]

    def __str__(self) -> str:
        return self.subject or f"Conversation {self.pk}"


class InboxMigrationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class InboxMigration(models.Model):
    """Moving one channel with all its conversations from a conversations inbox into the
    help desk (`conversations.inbox_migration`): the channel moves first, then its
    conversations in batches by id, each batch committed with these counters, so a killed
    run resumes after `last_conversation_id` and a second run duplicates nothing."""

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="migrations")
    from_inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="+")
    to_inbox = models.ForeignKey(Inbox, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=InboxMigrationStatus.choices, default=InboxMigrationStatus.QUEUED
    )
    total = models.PositiveIntegerField(default=0)  # conversations to move, counted at start
    moved = models.PositiveIntegerField(default=0)
    tickets_created = models.PositiveIntegerField(default=0)
    last_conversation_id = models.BigIntegerField(default=0)  # where a resumed run goes on
    error = models.TextField(blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Migration of channel {self.channel_id}"


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("From the customer")
    OUTBOUND = "outbound", _("Reply")
    COMMENT = "comment", _("Internal comment")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Sending")
    SENT = "sent", pgettext_lazy("delivery status", "Sent")
    FAILED = "failed", _("Not delivered")
    BOUNCED = "bounced", _("Bounced")


class Message(models.Model):
    """One message of a conversation. Inbound and outbound email keep their RFC 5322
    Message-ID so replies thread; `(channel, message_id)` is unique for email."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=10, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    contact = models.ForeignKey(
        "crm.Contact", on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    sender_name = models.CharField(max_length=255, blank=True)
    sender_address = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)  # ["Name <a@b>", …]
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)  # sanitised (nh3) before it is stored
    message_id = models.CharField(max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.JSONField(default=list, blank=True)
    delivery_status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    delivery_error = models.TextField(blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    # Set while a worker hands the reply to the SMTP server (a lease: after SEND_LEASE a
    # crashed worker's claim lapses), so a second worker given the same task never sends it
    # at the same time; cleared when the attempt ends.
    sending_since = models.DateTimeField(null=True, blank=True)
    last_send_attempt_at = models.DateTimeField(null=True, blank=True)
    # Where a delivered reply went: "smtp://host:port", or "console" when no mail server is
    # configured and it was only written to the server's console — shown beside "Sent" so
    # nobody believes a customer got mail that was only printed. NULL until delivered.
    delivered_via = models.CharField(max_length=255, null=True, blank=True)
    is_auto_generated = models.BooleanField(default=False)
    # The agent's draft this reply or comment came from (a random token the composer sends),
    # so the same draft posted twice is stored and sent once. NULL for everything else:
    # nullable rather than "", so SQLite adds the column without rebuilding the table.
    client_token = models.CharField(max_length=64, null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at", "id"], name="message_timeline"),
            models.Index(fields=["channel", "message_id"], name="message_channel_mid"),
            # The few replies waiting to be sent, for the sweep that re-queues lost ones.
            models.Index(
                fields=["created_at"],
                condition=Q(delivery_status="queued"),
                name="message_queued",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "message_id"],
                condition=~Q(message_id=""),
                name="unique_message_id_per_channel",
            ),
            # Enforced by the database, so two requests racing with one draft store one.
            models.UniqueConstraint(
                fields=["author", "client_token"],
                condition=Q(client_token__isnull=False),
                name="unique_draft_per_author",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.message_id or self.pk}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", max_length=500)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=255, default="application/octet-stream")
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=255, blank=True)  # for inline cid: images
    is_inline = models.BooleanField(default=False)

    def __str__(self) -> str:
        return self.filename


class Notification(models.Model):
    """Something a user should see: a mention, an assignment. Listed in the workspace and,
    for mentions, emailed."""

    class Kind(models.TextChoices):
        MENTION = "mention", _("Mention")
        # Sent by the sla app's sweep (the conversation core does not import sla).
        SLA_DUE_SOON = "sla_due_soon", _("SLA goal due soon")
        SLA_OVERDUE = "sla_overdue", _("SLA goal overdue")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_unread")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class HelpDeskSettings(models.Model):
    """Account-wide conversation rules (one row). `HelpDeskSettings.load()` returns it."""

    reopen_closed_on_reply = models.BooleanField(
        _("a customer reply reopens a closed ticket"),
        default=True,
        help_text=_("Otherwise the reply opens a new ticket linked to the closed one."),
    )
    move_to_waiting_on_contact_on_reply = models.BooleanField(
        _("sending a reply moves the ticket to “Waiting on contact”"), default=True
    )
    move_to_waiting_on_us_on_customer_reply = models.BooleanField(
        _("a customer reply moves the ticket to “Waiting on us”"), default=True
    )
    max_attachment_bytes = models.PositiveBigIntegerField(
        _("largest attachment accepted (bytes)"), default=25 * 1024 * 1024
    )

    class Meta:
        verbose_name = _("help desk settings")

    def __str__(self) -> str:
        return "Help desk settings"

    @classmethod
    def load(cls) -> "HelpDeskSettings":
        obj, _created = cls.objects.get_or_create(pk=1)
        return obj
