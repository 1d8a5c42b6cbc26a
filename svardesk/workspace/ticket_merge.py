"""The ticket page's "Merge ticket" dialog: find the other ticket (the workspace's ticket
search, within what the user may see), choose the primary, read what happens, merge — then
the browser opens the new ticket. Anyone who may work on both tickets may merge them
(`tickets.merge.merge_tickets` checks both are in the user's scope)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.parsing import parse_id
from svardesk.search.queries import search_tickets
from svardesk.tickets import queries
from svardesk.tickets.exceptions import TicketMergeError
from svardesk.tickets.merge import merge_tickets
from svardesk.tickets.models import Ticket

MAX_RESULTS = 8
MAX_QUERY = 200


def _dialog(
    request: HttpRequest,
    ticket: Ticket,
    *,
    other: Ticket | None = None,
    primary: str = "this",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    htmx = request.htmx  # type: ignore[attr-defined]
    template = (
        "workspace/ticket_merge/_dialog.html"
        if htmx and not htmx.boosted
        else "workspace/ticket_merge/page.html"
    )
    context: dict[str, Any] = {
        "ticket": ticket,
        "other": other,
        "results": [other] if other is not None else [],
        "primary": primary if primary in ("this", "other") else "this",
        "error": error,
        "as_page": template.endswith("page.html"),
    }
    return render(request, template, context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def merge_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    actor = request_user(request)
    ticket = queries.access_ticket(ticket_id, actor=actor)
    data = request.POST if request.method == "POST" else request.GET
    primary = data.get("primary", "this")
    raw_other = data.get("other", "")
    other: Ticket | None = None
    error = ""
    if raw_other:
        other_id = parse_id(raw_other)
        other = queries.visible_tickets(actor).filter(pk=other_id).first() if other_id else None
        if other is None:
            error = _("That ticket was not found. It may have been merged or deleted.")
        elif other.pk == ticket.pk:
            other, error = None, _("Choose another ticket than this one.")
    if request.method == "GET":
        return _dialog(request, ticket, other=other, primary=primary, error=error)
    if other is None:
        error = error or _("Choose the ticket to merge with.")
        return _dialog(request, ticket, primary=primary, error=error, status=422)
    keep, absorbed = (other, ticket) if primary == "other" else (ticket, other)
    try:
        merged = merge_tickets(primary=keep, other=absorbed, actor=actor)
    except TicketMergeError as exc:
        return _dialog(request, ticket, other=other, primary=primary, error=str(exc), status=422)
    url = reverse("tickets:detail", args=[merged.pk])
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(url)
    return redirect(url)


@workspace_required
@require_GET
def merge_candidates(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The tickets matching the search box (by ID or words), as choices; this one left out."""
    actor = request_user(request)
    ticket = queries.access_ticket(ticket_id, actor=actor)
    text = request.GET.get("q", "").strip()[:MAX_QUERY]
    results: list[Ticket] = []
    if text:
        found = search_tickets(actor, text, page_size=MAX_RESULTS + 1).tickets
        results = [t for t in found if t.pk != ticket.pk][:MAX_RESULTS]
    return render(
        request,
        "workspace/ticket_merge/_results.html",
        {"ticket": ticket, "results": results, "query": text, "other": None},
    )


urlpatterns: list[URLPattern] = [
    path("<int:ticket_id>/merge/", merge_ticket, name="merge"),
    path("<int:ticket_id>/merge/candidates/", merge_candidates, name="merge_candidates"),
]
