"""The webhook form (create and edit)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from svardesk.webhooks.models import EventType


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Say what receives the events, e.g. “Data warehouse”."),
    )
    # A CharField: the service decides which URLs are allowed (http and https only).
    target_url = forms.CharField(
        label=_("Target URL"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/svardesk"}),
        help_text=_("Events are POSTed here as JSON, signed with HubSpot's v3 signature."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )
    property_name = forms.CharField(
        label=_("Only changes of this property"),
        max_length=100,
        required=False,
        help_text=_(
            "For property changes: the property's API name (e.g. hs_pipeline_stage). "
            "Empty: every property."
        ),
    )
