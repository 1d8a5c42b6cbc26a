"""Web forms: a hosted, embeddable form whose submissions become tickets.

A `Form` is the forms channel's settings for one `conversations.Channel` (its name and
whether it is connected live on the Channel). Its `FormField`s say which contact and ticket
properties it asks for. Every submission is stored as it arrived (`FormSubmission`) before it
is processed, like a raw email, so nothing a visitor sent is lost when processing fails.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from svardesk.core.models import TimestampedModel


def new_public_key() -> str:
    return secrets.token_urlsafe(12)  # 16 URL-safe characters: the form's public address


class FormLanguage(models.TextChoices):
    ENGLISH = "en", _("English")
    SWEDISH = "sv", _("Swedish")


class Form(TimestampedModel):
    """One web form, reached at /forms/<public_key>/ and embeddable on other websites."""

    channel = models.OneToOneField(
        "conversations.Channel", on_delete=models.CASCADE, related_name="form"
    )
    public_key = models.CharField(max_length=32, unique=True, default=new_public_key)
    language = models.CharField(
        _("language"), max_length=2, choices=FormLanguage.choices, default=FormLanguage.ENGLISH
    )
    confirmation_message_en = models.TextField(_("confirmation message (English)"), blank=True)
    confirmation_message_sv = models.TextField(_("confirmation message (Swedish)"), blank=True)
    send_confirmation_email = models.BooleanField(_("send a confirmation email"), default=False)
    # Origins (scheme://host[:port]) that may show the form in a frame; empty: any website.
    allowed_websites = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("form")
        verbose_name_plural = _("forms")

    def __str__(self) -> str:
        return self.channel.name if self.channel_id else self.public_key

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def is_active(self) -> bool:
        return self.channel.is_active


class FieldKind(models.TextChoices):
    """What a form field fills in: a contact property or a ticket property."""

    EMAIL = "email", _("Email")
    NAME = "name", _("Name")
    FIRST_NAME = "first_name", _("First name")
    LAST_NAME = "last_name", _("Last name")
    PHONE = "phone", _("Phone number")
    COMPANY = "company", _("Company")
    SUBJECT = "subject", pgettext_lazy("form field", "Subject")
    DESCRIPTION = "description", pgettext_lazy("form field", "Description")
    CATEGORY = "category", _("Category")
    PRIORITY = "priority", _("Priority")
    CUSTOM = "custom", _("Custom ticket property")


CONTACT_KINDS = frozenset(
    {
        FieldKind.EMAIL,
        FieldKind.NAME,
        FieldKind.FIRST_NAME,
        FieldKind.LAST_NAME,
        FieldKind.PHONE,
        FieldKind.COMPANY,
    }
)


class FormField(models.Model):
    """One question of a form. `key` names it in the form's POST data and is unique per
    form: the kind ("email", "subject", …) or "custom:<property name>"."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="fields")
    key = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=FieldKind.choices)
    property_name = models.CharField(max_length=100, blank=True)  # for custom properties
    position = models.PositiveIntegerField(default=0)
    is_required = models.BooleanField(_("required"), default=False)
    label_en = models.CharField(_("label (English)"), max_length=200, blank=True)
    label_sv = models.CharField(_("label (Swedish)"), max_length=200, blank=True)
    help_text_en = models.CharField(_("help text (English)"), max_length=500, blank=True)
    help_text_sv = models.CharField(_("help text (Swedish)"), max_length=500, blank=True)

    class Meta:
        ordering = ["form_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="unique_form_field_key"),
            # The email is how the sender is known: every form has it, and it is required.
            models.CheckConstraint(
                condition=~Q(kind="email") | Q(is_required=True),
                name="form_email_field_required",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be processed")
    PROCESSED = "processed", _("Ticket created")
    REJECTED = "rejected", _("Rejected (invalid input)")
    SPAM = "spam", _("Spam")


class FormSubmission(models.Model):
    """A submission exactly as it arrived (the POST fields, who sent it, from where), then what
    became of it. A valid one is processed into a contact and a ticket; one ticket per
    submission is guaranteed by the ticket's message id, unique per channel."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="submissions")
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    data = models.JSONField(default=dict)  # {"field": ["value", …]} as posted
    language = models.CharField(max_length=2, default=FormLanguage.ENGLISH)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    origin = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=2000, blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    errors = models.JSONField(default=dict, blank=True)  # field errors of a rejected one
    error = models.TextField(blank=True)  # the last processing failure
    confirmation_error = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["form", "-received_at", "-id"], name="form_submission_recent"),
            # The few waiting to be processed, for the retrying task.
            models.Index(
                fields=["received_at"],
                condition=Q(status="pending"),
                name="form_submission_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"Submission {self.pk} ({self.status})"
