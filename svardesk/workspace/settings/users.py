"""Users and seats: who may work in the help desk, with which permissions and teams."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.accounts import services
from svardesk.accounts.exceptions import UserValidationError
from svardesk.accounts.forms import UserForm
from svardesk.accounts.models import User
from svardesk.core.decorators import super_admin_required
from svardesk.workspace.settings import queries
from svardesk.workspace.settings.common import actor, found, render_settings

USERS_PER_PAGE = 100
SECTION = "users"


@super_admin_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    page = Paginator(queries.list_users(search), USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render_settings(
        request,
        "workspace/settings/users.html",
        section=SECTION,
        context={"page": page, "users": page.object_list, "search": search},
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    """Add a user without a password: they set one through "Forgot password" when signing in."""
    form = UserForm(request.POST) if request.method == "POST" else UserForm()
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            user = services.create_user(
                actor=actor(request),
                email=data.pop("email"),
                primary_team=data.pop("primary_team"),
                teams=data.pop("teams"),
                **data,
            )
        except UserValidationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _(
                    "%(name)s was added. They choose a password with “Forgot password” on the "
                    "sign-in page."
                )
                % {"name": user.display_name},
            )
            return redirect("settings:users")
    return _render_form(request, form, user=None)


@super_admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = found(queries.get_user(pk))
    initial = _initial_for(user)
    form = (
        UserForm(request.POST, initial=initial)
        if request.method == "POST"
        else UserForm(initial=initial)
    )
    if form.is_bound and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.update_user(
                user,
                actor=actor(request),
                primary_team=data.pop("primary_team"),
                teams=data.pop("teams"),
                **data,
            )
        except UserValidationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": user.display_name})
            return redirect("settings:users")
    return _render_form(request, form, user=user)


def _initial_for(user: User) -> dict[str, Any]:
    return {
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "has_seat": user.has_seat,
        "can_manage_views": user.can_manage_views,
        "has_account_access": user.has_account_access,
        "ticket_access": user.ticket_access,
        "language": user.language,
        "time_zone": user.time_zone,
        "primary_team": user.primary_team_id,
        # The main team is always a membership; "further teams" lists the others.
        "teams": [
            pk for pk in user.teams.values_list("pk", flat=True) if pk != user.primary_team_id
        ],
    }


# What each permission allows, shown under its checkbox.
PERMISSION_HELP = {
    "has_seat": User._meta.get_field("has_seat").help_text,
    "is_superuser": gettext_lazy("Every permission, every ticket, and these settings."),
    "can_manage_views": User._meta.get_field("can_manage_views").help_text,
    # Said in full here: it reaches the whole help desk, whatever the user's ticket access.
    "has_account_access": gettext_lazy(
        "Connect and disconnect email addresses and their HTTP endpoint token, set the "
        "conversation rules, and block or unblock senders, for the whole help desk whatever "
        "the user's ticket access. Not the quarantine or the mail servers (IMAP, outbound "
        "SMTP): those are for super admins."
    ),
}


def _render_form(request: HttpRequest, form: UserForm, *, user: User | None) -> HttpResponse:
    for name, help_text in PERMISSION_HELP.items():
        form.fields[name].help_text = help_text
    form.fields["primary_team"].empty_label = gettext_lazy("No main team")  # type: ignore[attr-defined]
    return render_settings(
        request,
        "workspace/settings/user_form.html",
        section=SECTION,
        context={"form": form, "edited_user": user},
        status=422 if form.is_bound else 200,
    )
