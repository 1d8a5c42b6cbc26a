"""The Messenger channel's settings forms (Settings → Connect a channel → Facebook
Messenger, and a connected Page's page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

_SECRET = {"autocomplete": "off", "spellcheck": "false"}


class ConnectPageForm(forms.Form):
    page_name = forms.CharField(
        label=_("Name"),
        max_length=200,
        required=False,
        help_text=_("How the channel is named in Svardesk, e.g. the Page's name."),
    )
    page_id = forms.CharField(
        label=_("Page id"),
        max_length=64,
        widget=forms.TextInput(attrs={"inputmode": "numeric", **_SECRET}),
    )
    page_token = forms.CharField(
        label=_("Page access token"),
        max_length=1000,
        widget=forms.PasswordInput(attrs=_SECRET),
    )
    app_secret = forms.CharField(
        label=_("App secret"), max_length=1000, widget=forms.PasswordInput(attrs=_SECRET)
    )
    verify_token = forms.CharField(
        label=_("Verify token"),
        max_length=1000,
        widget=forms.TextInput(attrs=_SECRET),
        help_text=_("Any string you choose; paste the same in Meta's webhook settings."),
    )


class ReplaceSecretsForm(forms.Form):
    page_name = forms.CharField(label=_("Name"), max_length=200, required=False)
    page_token = forms.CharField(
        label=_("New page access token"),
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(attrs=_SECRET),
        help_text=_("Leave blank to keep the current one."),
    )
    app_secret = forms.CharField(
        label=_("New app secret"),
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(attrs=_SECRET),
        help_text=_("Leave blank to keep the current one."),
    )
    verify_token = forms.CharField(
        label=_("New verify token"),
        max_length=1000,
        required=False,
        widget=forms.TextInput(attrs=_SECRET),
        help_text=_("Leave blank to keep the current one."),
    )
