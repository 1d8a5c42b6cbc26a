"""The "Create private app" form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from svardesk.accounts.models import User
from svardesk.api.private_apps.queries import users_tokens_may_act_as
from svardesk.api.scopes import SCOPES


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        if obj.display_name != obj.email:
            return f"{obj.display_name} <{obj.email}>"
        return obj.email


class PrivateAppForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Say what uses the token, e.g. “Nightly CRM sync”."),
    )
    user = UserChoiceField(
        label=_("Acts as"),
        queryset=User.objects.none(),
        empty_label=None,
        help_text=_("Requests made with the token see and change what this user may."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=SCOPES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one scope.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = users_tokens_may_act_as().order_by("first_name", "last_name", "email")
        self.fields["user"].queryset = users  # type: ignore[attr-defined]
