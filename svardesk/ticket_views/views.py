"""The ticket lists: a default view's tickets, or every ticket ("Back to list")."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from svardesk.core.decorators import workspace_required
from svardesk.ticket_views import queries
from svardesk.workspace.context import sidebar_context, workspace_context


def _render_list(request: HttpRequest, context: dict, current_view: str) -> HttpResponse:
    if request.htmx and not request.htmx.history_restore_request:  # type: ignore[attr-defined]
        target = request.htmx.target  # type: ignore[attr-defined]
        if target == "ticket-rows":
            return render(request, "ticket_views/partials/_rows.html", context)
        return render(request, "ticket_views/partials/_list.html", context)
    context.update(workspace_context(request, current_view=current_view))
    return render(request, "ticket_views/list.html", context)


@workspace_required
def view_tickets(request: HttpRequest, key: str) -> HttpResponse:
    view = queries.get_default_view(key)
    page = queries.list_view_tickets(request.user, key, cursor=request.GET.get("after"))  # type: ignore[arg-type]
    context = {"view": view, "title": view.label, "page": page, "empty_message": view.empty_message}
    return _render_list(request, context, view.key)


@workspace_required
def all_tickets(request: HttpRequest) -> HttpResponse:
    from django.utils.translation import gettext as _

    page = queries.list_tickets(request.user, cursor=request.GET.get("after"))  # type: ignore[arg-type]
    context = {
        "view": None,
        "title": _("All tickets"),
        "page": page,
        "empty_message": _("No tickets yet. Create one with the button at the bottom left."),
    }
    return _render_list(request, context, "all")


@workspace_required
def sidebar_counts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/partials/_sidebar_views.html",
        sidebar_context(request, current_view=request.GET.get("current", "")),
    )
