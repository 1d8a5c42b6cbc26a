"""The reply and comment forms. They only parse what the browser posts; the rules (recipients,
attachment size, sanitising) live in `services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class ReplyForm(forms.Form):
    html = forms.CharField(required=False, widget=forms.HiddenInput)
    to = forms.CharField(label=_("To"), required=False, max_length=5000)
    cc = forms.CharField(label=_("Cc"), required=False, max_length=5000)
    bcc = forms.CharField(label=_("Bcc"), required=False, max_length=5000)
    attachments = MultipleFileField(label=_("Attach files"), required=False)


class CommentForm(forms.Form):
    html = forms.CharField(required=False, widget=forms.HiddenInput)

    def mention_ids(self) -> list[int]:
        """The users picked from the @mention list; services keep only real, still-mentioned
        users who may see the ticket."""
        values = self.data.getlist("mentions") if hasattr(self.data, "getlist") else []
        return [int(v) for v in values if str(v).isdigit()][:50]


class SpamForm(forms.Form):
    block_sender = forms.BooleanField(required=False)
    unblock_sender = forms.BooleanField(required=False)
