"""The ticket page's "Log a call" dialog (… → Log a call): direction, outcome, duration, the
date and time in the user's time zone, notes. A logged call joins the thread
(`tickets.calls.log_call`); anyone who may see the ticket may log one."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from svardesk.accounts.queries import request_user
from svardesk.conversations.queries import conversation_context
from svardesk.core.decorators import workspace_required
from svardesk.tickets import queries
from svardesk.tickets.calls import (
    MAX_NOTES_LENGTH,
    CallDirection,
    CallOutcome,
    call_errors,
    clean_notes,
    log_call,
    parse_duration,
)
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket

# What a datetime-local field sends: "2026-12-06T14:05", seconds optional.
_LOCAL_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?", re.ASCII
)
_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# The field names the form posts, in the order the dialog shows them (the first with an
# error gets the focus).
FIELDS = ("direction", "outcome", "duration", "called_at", "notes")


def parse_local_datetime(text: str) -> dt.datetime | None:
    """A datetime-local value read in the user's time zone (the one the request activated);
    None if it is not one."""
    match = _LOCAL_DATETIME.fullmatch(text.strip())
    if match is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(p) for p in match.groups(default="0"))
        naive = dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:
        return None
    return timezone.make_aware(naive, timezone.get_current_timezone())


def _now_local() -> str:
    return timezone.localtime().strftime(_LOCAL_FORMAT)


def _dialog(
    request: HttpRequest,
    ticket: Ticket,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    htmx = request.htmx  # type: ignore[attr-defined]
    template = (
        "workspace/ticket_calls/_dialog.html"
        if htmx and not htmx.boosted
        else "workspace/ticket_calls/page.html"
    )
    errors = errors or {}
    context: dict[str, Any] = {
        "ticket": ticket,
        "values": values
        or {"direction": CallDirection.OUTBOUND, "outcome": "", "duration": "", "notes": ""}
        | {"called_at": _now_local()},
        "errors": errors,
        "first_error": next((name for name in FIELDS if name in errors), ""),
        "directions": CallDirection.choices,
        "outcomes": CallOutcome.choices,
        "max_notes": MAX_NOTES_LENGTH,
        "as_page": template.endswith("page.html"),
    }
    return render(request, template, context, status=status)


def _logged(request: HttpRequest, ticket: Ticket) -> HttpResponse:
    """The thread with the new call in it, a toast, and the panel emptied."""
    actor = request_user(request)
    current = queries.access_ticket(ticket.pk, actor=actor)
    context = {
        "ticket": current,
        **conversation_context(current, actor=actor, timeline=list(queries.list_timeline(current))),
        "toast": _("Call logged."),
    }
    response = render(request, "workspace/ticket_calls/_logged.html", context)
    return reswap(retarget(response, f"#thread-{current.pk}"), "outerHTML")


@workspace_required
@require_http_methods(["GET", "POST"])
def log_ticket_call(request: HttpRequest, ticket_id: int) -> HttpResponse:
    actor = request_user(request)
    ticket = queries.access_ticket(ticket_id, actor=actor)
    if request.method == "GET":
        return _dialog(request, ticket)
    values = {name: request.POST.get(name, "") for name in FIELDS}
    errors: dict[str, str] = {}
    try:
        duration = parse_duration(values["duration"])
    except ValueError as exc:
        errors["duration"], duration = str(exc), 0
    now = timezone.now()
    called_at = parse_local_datetime(values["called_at"])
    if called_at is not None and called_at == now.replace(second=0, microsecond=0):
        # The field holds minutes only; a call logged as "now" keeps its seconds, so it
        # reads after whatever happened earlier in the same minute (the ticket's creation).
        called_at = now
    if called_at is None:
        errors["called_at"] = _("Enter the date and time of the call.")
    # Every field is checked at once, so the dialog shows all its errors together; fields
    # that did not parse keep their own message.
    errors = (
        call_errors(
            direction=values["direction"],
            outcome=values["outcome"],
            duration_seconds=duration,
            notes=clean_notes(values["notes"]),
            called_at=called_at or now,
            now=now,
        )
        | errors
    )
    if not errors:
        try:
            log_call(
                ticket,
                actor=actor,
                direction=values["direction"],
                outcome=values["outcome"],
                duration_seconds=duration,
                notes=values["notes"],
                called_at=called_at,
                now=now,
            )
        except TicketValidationError as exc:
            errors = exc.errors
    if errors:
        return _dialog(request, ticket, values=values, errors=errors, status=422)
    if request.htmx and not request.htmx.boosted:  # type: ignore[attr-defined]
        return _logged(request, ticket)
    return redirect("tickets:detail", ticket.pk)


urlpatterns: list[URLPattern] = [
    path("<int:ticket_id>/calls/new/", log_ticket_call, name="log_call"),
]
