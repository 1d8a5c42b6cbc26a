"""Forms of the channel settings pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from svardesk.channels.email.models import EmailChannel
from svardesk.channels.email.services import ImapSettings
from svardesk.conversations.models import HelpDeskSettings

MB = 1024 * 1024


# Where mail is fetched from and sent through: only for super admins
# (`services.may_manage_mail_servers`).
SERVER_FIELDS = (
    "imap_host",
    "imap_port",
    "imap_use_tls",
    "imap_user",
    "imap_password",
    "imap_folder",
    "smtp_url",
    "clear_smtp_url",
)


class EmailChannelForm(forms.Form):
    """Connect an address, or change a connected one (`instance`). Secrets are never shown
    again: on an edit an empty password or SMTP URL keeps the stored one. Without
    `with_servers` the form has no IMAP or SMTP fields at all (what is posted for them is
    ignored)."""

    address = forms.EmailField(
        label=_("Team email address"),
        max_length=254,
        help_text=_("Customers write to this address, e.g. support@company.example."),
    )
    display_name = forms.CharField(
        label=_("Sender name"),
        max_length=200,
        required=False,
        help_text=_("Shown beside the agent's name on replies, e.g. “Acme Support”."),
    )
    imap_host = forms.CharField(
        label=_("IMAP server"),
        max_length=255,
        required=False,
        help_text=_(
            "Optional. Fill in to fetch mail from a mailbox every minute. Everything in the "
            "folder is imported on the first fetch, so use a mailbox or folder for the help "
            "desk only."
        ),
    )
    imap_port = forms.IntegerField(
        label=_("IMAP port"),
        min_value=1,
        max_value=65535,
        initial=993,
        required=False,
        widget=forms.NumberInput(attrs={"class": "input-number"}),
    )
    imap_use_tls = forms.BooleanField(
        label=_("Use TLS (recommended; usually port 993)"), required=False, initial=True
    )
    imap_user = forms.CharField(label=_("IMAP user name"), max_length=255, required=False)
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    imap_folder = forms.CharField(
        label=_("IMAP folder"), max_length=255, required=False, initial="INBOX"
    )
    smtp_url = forms.CharField(
        label=_("Outbound SMTP server"),
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Optional, e.g. smtp+starttls://user:password@smtp.company.example:587. "
            "Empty: replies go through the help desk's own SMTP settings."
        ),
    )
    clear_smtp_url = forms.BooleanField(
        label=_("Use the help desk's own SMTP settings again"), required=False
    )

    def __init__(
        self,
        *args: Any,
        instance: EmailChannel | None = None,
        with_servers: bool = True,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        self.with_servers = with_servers
        if instance is not None:
            kwargs.setdefault(
                "initial",
                {
                    "address": instance.address,
                    "display_name": instance.display_name,
                    "imap_host": instance.imap_host,
                    "imap_port": instance.imap_port,
                    "imap_use_tls": instance.imap_use_tls,
                    "imap_user": instance.imap_user,
                    "imap_folder": instance.imap_folder,
                },
            )
        super().__init__(*args, **kwargs)
        if instance is None:
            del self.fields["clear_smtp_url"]
        else:
            if instance.imap_password_encrypted:
                self.fields["imap_password"].help_text = _(
                    "A password is stored. Leave empty to keep it."
                )
            if instance.smtp_url_encrypted:
                self.fields["smtp_url"].help_text = _(
                    "This address has its own SMTP server. Leave empty to keep it."
                )
            else:
                del self.fields["clear_smtp_url"]
        if not with_servers:
            for name in SERVER_FIELDS:
                self.fields.pop(name, None)

    def imap_settings(self) -> ImapSettings | None:
        """The mailbox settings posted; None without `with_servers` (keep what is stored)."""
        if not self.with_servers:
            return None
        data = self.cleaned_data
        password = data.get("imap_password") or None
        if self.instance is None and password is None:
            password = ""
        return ImapSettings(
            host=data.get("imap_host") or "",
            port=data.get("imap_port") or 993,
            use_tls=bool(data.get("imap_use_tls")),
            user=data.get("imap_user") or "",
            password=password,
            folder=data.get("imap_folder") or "INBOX",
        )

    def smtp_url_change(self) -> str | None:
        """The new SMTP URL, "" to clear it, None to keep the stored one (always without
        `with_servers`)."""
        if not self.with_servers:
            return None
        if self.cleaned_data.get("clear_smtp_url"):
            return ""
        url = (self.cleaned_data.get("smtp_url") or "").strip()
        if url:
            return url
        return None if self.instance is not None else ""


class HelpDeskSettingsForm(forms.Form):
    reopen_closed_on_reply = forms.TypedChoiceField(
        label=_("When a customer replies to a closed ticket"),
        choices=[
            ("1", _("Reopen the ticket")),
            ("0", _("Open a new ticket linked to the closed one")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    move_to_waiting_on_contact_on_reply = forms.BooleanField(
        label=_("Sending a reply moves the ticket to “Waiting on contact”"), required=False
    )
    move_to_waiting_on_us_on_customer_reply = forms.BooleanField(
        label=_("A customer reply moves the ticket to “Waiting on us”"), required=False
    )
    max_attachment_mb = forms.IntegerField(
        label=_("Largest attachment accepted (MB)"),
        min_value=1,
        max_value=1024,
        widget=forms.NumberInput(attrs={"class": "input-number"}),
        help_text=_(
            "Larger attachments of incoming email are not stored; the message is, with a note."
        ),
    )

    @classmethod
    def for_settings(cls, current: HelpDeskSettings) -> HelpDeskSettingsForm:
        return cls(
            initial={
                "reopen_closed_on_reply": "1" if current.reopen_closed_on_reply else "0",
                "move_to_waiting_on_contact_on_reply": (
                    current.move_to_waiting_on_contact_on_reply
                ),
                "move_to_waiting_on_us_on_customer_reply": (
                    current.move_to_waiting_on_us_on_customer_reply
                ),
                "max_attachment_mb": max(1, round(current.max_attachment_bytes / MB)),
            }
        )
