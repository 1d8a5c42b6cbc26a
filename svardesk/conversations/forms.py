"""The reply and comment forms. They only parse what the browser posts; the rules (recipients,
attachment size, sanitising) live in `services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from svardesk.core.parsing import parse_id


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


DRAFT_TOKEN_ERROR = _("This draft cannot be sent as it is. Reload the page and try again.")


def draft_token_field() -> forms.CharField:
    """The composer's per-draft token (see services.send_reply): optional, but when sent it
    must look like one the composer makes."""
    return forms.CharField(
        required=False,
        min_length=16,
        max_length=64,
        widget=forms.HiddenInput,
        validators=[RegexValidator(r"\A[A-Za-z0-9_-]*\Z", DRAFT_TOKEN_ERROR)],
        error_messages={"min_length": DRAFT_TOKEN_ERROR, "max_length": DRAFT_TOKEN_ERROR},
    )


class ReplyForm(forms.Form):
    html = forms.CharField(required=False, widget=forms.HiddenInput)
    # A channel without rich text (chat) gets a plain textarea instead of the editor.
    text = forms.CharField(label=_("Reply text"), required=False, max_length=100_000)
    client_token = draft_token_field()
    to = forms.CharField(label=_("To"), required=False, max_length=5000)
    cc = forms.CharField(label=_("Cc"), required=False, max_length=5000)
    bcc = forms.CharField(label=_("Bcc"), required=False, max_length=5000)
    attachments = MultipleFileField(label=_("Attach files"), required=False)


class CommentForm(forms.Form):
    html = forms.CharField(required=False, widget=forms.HiddenInput)
    client_token = draft_token_field()

    def mention_ids(self) -> list[int]:
        """The users picked from the @mention list; services keep only real, still-mentioned
        users who may see the ticket."""
        values = self.data.getlist("mentions") if hasattr(self.data, "getlist") else []
        ids = (parse_id(value) for value in values)  # ASCII digits: int() takes "٣" too
        return [pk for pk in ids if pk is not None][:50]


class SpamForm(forms.Form):
    block_sender = forms.BooleanField(required=False)
    unblock_sender = forms.BooleanField(required=False)
