"""Teams: create, rename and delete the groups agents work in."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.core.decorators import super_admin_required
from svardesk.teams import services
from svardesk.teams.services import TeamValidationError
from svardesk.workspace.settings import queries
from svardesk.workspace.settings.common import actor, found, render_settings
from svardesk.workspace.settings.forms import TeamForm

SECTION = "teams"


def _render_list(request: HttpRequest, form: TeamForm, *, status: int = 200) -> HttpResponse:
    return render_settings(
        request,
        "workspace/settings/teams.html",
        section=SECTION,
        context={"teams": queries.list_teams_with_member_counts(), "form": form},
        status=status,
    )


@super_admin_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, TeamForm())


@super_admin_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            team = services.create_team(actor=actor(request), name=form.cleaned_data["name"])
        except TeamValidationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, _("Team %(name)s was created.") % {"name": team.name})
            return redirect("settings:teams")
    return _render_list(request, form, status=422)


@super_admin_required
@require_http_methods(["GET", "POST"])
def team_rename(request: HttpRequest, pk: int) -> HttpResponse:
    team = found(queries.get_team(pk))
    form = (
        TeamForm(request.POST)
        if request.method == "POST"
        else TeamForm(initial={"name": team.name})
    )
    if form.is_bound and form.is_valid():
        try:
            services.rename_team(team, actor=actor(request), name=form.cleaned_data["name"])
        except TeamValidationError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, _("The team was renamed to %(name)s.") % {"name": team.name})
            return redirect("settings:teams")
    return render_settings(
        request,
        "workspace/settings/team_rename.html",
        section=SECTION,
        context={"team": team, "form": form},
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def team_delete(request: HttpRequest, pk: int) -> HttpResponse:
    team = found(queries.get_team(pk))
    if request.method == "POST":
        name = team.name
        services.delete_team(team, actor=actor(request))
        messages.success(request, _("Team %(name)s was deleted.") % {"name": name})
        return redirect("settings:teams")
    return render_settings(
        request,
        "workspace/settings/team_delete.html",
        section=SECTION,
        context={"team": team},
    )
