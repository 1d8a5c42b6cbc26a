"""The ticket lists: a default view's tickets, or every ticket ("Back to list")."""

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.ticket_views import queries
from svardesk.workspace.context import sidebar_context, workspace_context


def _render_list(request: HttpRequest, context: dict[str, Any], current_view: str) -> HttpResponse:
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request and not htmx.boosted:
        if htmx.target == "ticket-rows":
            return render(request, "ticket_views/partials/_rows.html", context)
        return render(request, "ticket_views/partials/_list.html", context)
    context.update(workspace_context(request, current_view=current_view))
    return render(request, "ticket_views/list.html", context)


@workspace_required
def view_tickets(request: HttpRequest, key: str) -> HttpResponse:
    view = queries.get_default_view(key)
    page = queries.list_view_tickets(request_user(request), key, cursor=request.GET.get("after"))
    context = {
        "view": view,
        "title": view.label,
        "page": page,
        "empty_message": view.empty_message,
        "base_query": "",
    }
    return _render_list(request, context, view.key)


@workspace_required
def all_tickets(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    condition = queries.search_condition(search) if search else None
    page = queries.list_tickets(
        request_user(request), condition=condition, cursor=request.GET.get("after")
    )
    if search:
        title = _("Search results for “%(query)s”") % {"query": search}
        empty = _("No tickets match “%(query)s”.") % {"query": search}
    else:
        title = _("All tickets")
        empty = _("No tickets yet. Create one with the button at the bottom left.")
    context = {
        "view": None,
        "search_query": search,
        "title": title,
        "page": page,
        "empty_message": empty,
        "base_query": urlencode({"q": search}) + "&" if search else "",
    }
    return _render_list(request, context, "all")


@workspace_required
def sidebar_counts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "workspace/partials/_sidebar_views.html",
        sidebar_context(request, current_view=request.GET.get("current", "")),
    )
