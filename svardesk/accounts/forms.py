import math
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from svardesk.accounts import services, throttle
from svardesk.accounts.models import DateStyle, Language, TicketAccess, User
from svardesk.teams.models import Team


class EmailLoginForm(forms.Form):
    """Sign in with email address and password. A client with too many failures is refused
    before its password is looked at (see accounts.throttle for the rules)."""

    username = forms.EmailField(
        label=_("Email address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user_cache: User | None = None
        # Set when the client is refused: the view answers 429 with Retry-After.
        self.refused_for_seconds = 0
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        client = throttle.client_of(self.request)
        self.refused_for_seconds = throttle.refused_for(client)
        if self.refused_for_seconds:
            minutes = math.ceil(self.refused_for_seconds / 60)
            raise forms.ValidationError(
                ngettext_lazy(
                    "Too many failed sign-ins from your network. Try again in %(minutes)d minute.",
                    "Too many failed sign-ins from your network. Try again in %(minutes)d minutes.",
                    "minutes",
                ),
                code="client_refused",
                params={"minutes": minutes},
            )
        address = cleaned.get("username") or ""
        password = cleaned.get("password")
        if not address or not password:
            return cleaned
        # The backend looks the address up with queries.find_user_for_sign_in, the rule the
        # throttle counts by.
        user = authenticate(self.request, username=address, password=password)
        if user is None or not user.is_active:
            throttle.record_failure(address=address, client=client)
            raise forms.ValidationError(
                _("That email address and password do not match an account."), code="invalid_login"
            )
        throttle.clear_address_failures(address)
        self.user_cache = user
        return cleaned

    def get_user(self) -> User | None:
        return self.user_cache


class ResetPasswordForm(SetPasswordForm):
    """The new password from a reset link; the address's failed sign-ins are forgotten."""

    def save(self, commit: bool = True) -> User:
        return services.reset_password(self.user, password=self.cleaned_data["new_password1"])


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())
    # Not required: a form from before the preference existed means "automatic".
    date_style = forms.ChoiceField(
        label=_("Date and time format"), choices=DateStyle.choices, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        import zoneinfo

        zones = sorted(zoneinfo.available_timezones())
        self.fields["time_zone"].choices = [(z, z) for z in zones]  # type: ignore[attr-defined]


class UserForm(forms.Form):
    """What a super admin sets on a user in settings."""

    email = forms.EmailField(label=_("Email address"))
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    is_superuser = forms.BooleanField(label=_("Super admin"), required=False)
    has_seat = forms.BooleanField(label=_("Help desk seat"), required=False)
    can_manage_views = forms.BooleanField(label=_("Custom views"), required=False)
    has_account_access = forms.BooleanField(label=_("Account access"), required=False)
    ticket_access = forms.ChoiceField(label=_("Ticket access"), choices=TicketAccess.choices)
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, initial="UTC")
    primary_team = forms.ModelChoiceField(
        label=_("Main team"), queryset=Team.objects.all(), required=False
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Further teams"),
        queryset=Team.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_time_zone(self) -> str:
        import zoneinfo

        value = self.cleaned_data["time_zone"]
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise forms.ValidationError(_("Unknown time zone.")) from exc
        return str(value)
