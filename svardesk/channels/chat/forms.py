"""The chat channel's settings form (Settings → Channels → Chat)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from svardesk.channels.chat.models import AskDetails, ChatChannel
from svardesk.channels.chat.services import (
    ChatChannelValidationError,
    TranscriptSettings,
    clean_websites,
    sender_addresses,
)


class ChatChannelForm(forms.Form):
    """`with_general`: name, websites, when to ask, language (super admins). `with_transcripts`:
    transcripts and their sender (super admins and Account access users)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    websites = forms.CharField(
        label=_("Websites"),
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_(
            "One origin per line, e.g. https://www.example.com. The widget runs only on these."
        ),
    )
    ask_details = forms.ChoiceField(
        label=_("Ask for name and email"),
        choices=AskDetails.choices,
        widget=forms.RadioSelect,
    )
    language = forms.ChoiceField(
        label=_("Language of transcripts and of the widget by default"),
        choices=settings.LANGUAGES,
    )
    transcripts_enabled = forms.BooleanField(
        label=_("Email the transcript to the visitor when a chat is closed"), required=False
    )
    transcript_from = forms.ChoiceField(
        label=_("Send from"),
        required=False,
        help_text=_("One of the connected email addresses; replies to it reach the ticket."),
    )

    def __init__(
        self,
        *args: Any,
        instance: ChatChannel | None = None,
        with_general: bool = True,
        with_transcripts: bool = True,
        **kwargs: Any,
    ) -> None:
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.channel.name,
                "websites": "\n".join(instance.websites),
                "ask_details": instance.ask_details,
                "language": instance.language,
                "transcripts_enabled": instance.transcripts_enabled,
                "transcript_from": instance.transcript_from,
            }
        kwargs.setdefault("initial", {}).setdefault("ask_details", AskDetails.BEFORE)
        kwargs["initial"].setdefault("language", settings.LANGUAGE_CODE)
        super().__init__(*args, **kwargs)
        self.with_general = with_general
        self.with_transcripts = with_transcripts
        addresses = sender_addresses()
        current = instance.transcript_from if instance is not None else ""
        if current and current not in addresses:
            addresses.append(current)
        sender_field = self.fields["transcript_from"]
        assert isinstance(sender_field, forms.ChoiceField)  # noqa: S101
        sender_field.choices = [
            ("", _("Choose an address")),
            *[(a, a) for a in addresses],
        ]
        if not with_general:
            for name in ("name", "websites", "ask_details", "language"):
                del self.fields[name]
        if not with_transcripts:
            del self.fields["transcripts_enabled"]
            del self.fields["transcript_from"]

    def clean_websites(self) -> list[str]:
        lines = str(self.cleaned_data.get("websites", "")).splitlines()
        try:
            return clean_websites(lines)
        except ChatChannelValidationError as exc:
            raise forms.ValidationError(str(exc)) from None

    def transcripts(self) -> TranscriptSettings | None:
        if not self.with_transcripts:
            return None
        return TranscriptSettings(
            enabled=bool(self.cleaned_data.get("transcripts_enabled")),
            send_from=str(self.cleaned_data.get("transcript_from") or ""),
        )
