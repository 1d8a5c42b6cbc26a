from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from svardesk.accounts import throttle
from svardesk.accounts.models import Language, TicketAccess, User
from svardesk.teams.models import Team


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    return str(request.META.get("REMOTE_ADDR") or "unknown")


class EmailLoginForm(forms.Form):
    """Sign in with email address and password, with failed attempts rate-limited."""

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
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = (cleaned.get("username") or "").lower()
        password = cleaned.get("password")
        if not email or not password:
            return cleaned
        client = client_address(self.request)
        if throttle.is_throttled(email=email, client=client):
            raise forms.ValidationError(
                _("Too many failed sign-in attempts. Wait 15 minutes, or reset your password."),
                code="throttled",
            )
        user = authenticate(self.request, username=email, password=password)
        if user is None or not user.is_active:
            throttle.record_failure(email=email, client=client)
            raise forms.ValidationError(
                _("That email address and password do not match an account."), code="invalid_login"
            )
        throttle.clear_failures(email=email)
        self.user_cache = user
        return cleaned

    def get_user(self) -> User | None:
        return self.user_cache


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())

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
