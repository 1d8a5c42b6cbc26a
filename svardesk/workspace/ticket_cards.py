"""The ticket sidebar's association cards (contacts, companies, deals): add an existing
record, create one in place, remove one, make a contact primary, choose the properties a
card shows. A change to the associations redraws only its card; a change to the ticket's
primary contact changes the ticket (its version, its header) and redraws the whole ticket.
The URL names stay in the `tickets` namespace, beside the ticket page's."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.parsing import parse_id
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import DealStage
from svardesk.records import card_services
from svardesk.records import properties as record_props
from svardesk.records.cards import CARD_TYPES, association_card, card_specs
from svardesk.tickets import queries
from svardesk.tickets import services as ticket_services
from svardesk.tickets.exceptions import SidebarLayoutValidationError
from svardesk.tickets.models import Ticket
from svardesk.tickets.page import assignable_users_cached
from svardesk.workspace.ticket_page import access_ticket_for_page, ticket_page_context

_ADDED = {
    "contact": _("Contact added."),
    "company": _("Company added."),
    "deal": _("Deal added."),
}


def _ticket(request: HttpRequest, ticket_id: int, object_type: str) -> Ticket:
    if object_type not in CARD_TYPES:
        raise Http404("No such card")
    return queries.access_ticket(ticket_id, actor=request_user(request))


def card_response(
    request: HttpRequest, ticket: Ticket, object_type: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    users = {user.pk: user for user in assignable_users_cached()}
    card = association_card(ticket, object_type, user=request_user(request), users=users)
    context = {"ticket": ticket, "card": card, "deal_stages": DealStage.choices, **extra}
    return render(request, "records/cards/_card.html", context, status=status)


def _ticket_response(request: HttpRequest, ticket_id: int, toast: str) -> HttpResponse:
    """The whole ticket, redrawn: its primary contact (and so its version) changed."""
    ticket = access_ticket_for_page(ticket_id, actor=request_user(request))
    response = render(
        request, "tickets/partials/_detail.html", ticket_page_context(request, ticket, toast=toast)
    )
    return reswap(retarget(response, "#ticket-detail"), "outerHTML")


@workspace_required
@require_GET
def card(request: HttpRequest, ticket_id: int, object_type: str) -> HttpResponse:
    return card_response(request, _ticket(request, ticket_id, object_type), object_type)


@workspace_required
@require_POST
def add_record(request: HttpRequest, ticket_id: int, object_type: str) -> HttpResponse:
    """Put an existing record (picked by id) on the ticket."""
    ticket = _ticket(request, ticket_id, object_type)
    record_id = parse_id(request.POST.get("record"))
    try:
        ticket_changed = card_services.add_to_ticket(
            ticket, object_type, record_id or 0, actor=request_user(request)
        )
    except card_services.CardActionError as exc:
        return card_response(
            request, ticket, object_type, status=422, add_open=True, add_error=str(exc)
        )
    if ticket_changed:
        return _ticket_response(request, ticket.pk, _ADDED[object_type])
    return card_response(request, ticket, object_type, card_toast=_ADDED[object_type])


@workspace_required
@require_POST
def create_record(request: HttpRequest, ticket_id: int, object_type: str) -> HttpResponse:
    """Create a record from the card's short form and put it on the ticket."""
    ticket = _ticket(request, ticket_id, object_type)
    values = {name: request.POST.get(name, "") for name in ("name", "email", "domain", "amount")}
    values["stage"] = request.POST.get("stage", "")
    try:
        _record, ticket_changed = card_services.create_on_ticket(
            ticket, object_type, values, actor=request_user(request)
        )
    except (RecordValidationError, card_services.CardActionError) as exc:
        errors = exc.errors if isinstance(exc, RecordValidationError) else {"form": str(exc)}
        return card_response(
            request,
            ticket,
            object_type,
            status=422,
            create_open=True,
            create_values=values,
            create_errors=errors,
        )
    if ticket_changed:
        return _ticket_response(request, ticket.pk, _ADDED[object_type])
    return card_response(request, ticket, object_type, card_toast=_ADDED[object_type])


@workspace_required
@require_POST
def remove_record(
    request: HttpRequest, ticket_id: int, object_type: str, record_id: int
) -> HttpResponse:
    ticket = _ticket(request, ticket_id, object_type)
    try:
        ticket_changed = card_services.remove_from_ticket(
            ticket, object_type, record_id, actor=request_user(request)
        )
    except card_services.CardActionError as exc:
        return card_response(
            request, ticket, object_type, status=422, add_open=True, add_error=str(exc)
        )
    toast = _("Removed from this ticket.")
    if ticket_changed:
        return _ticket_response(request, ticket.pk, toast)
    return card_response(request, ticket, object_type, card_toast=toast)


@workspace_required
@require_POST
def make_primary(request: HttpRequest, ticket_id: int, record_id: int) -> HttpResponse:
    ticket = _ticket(request, ticket_id, "contact")
    try:
        card_services.make_primary_contact(ticket, record_id, actor=request_user(request))
    except card_services.CardActionError as exc:
        return card_response(
            request, ticket, "contact", status=422, add_open=True, add_error=str(exc)
        )
    return _ticket_response(request, ticket.pk, _("Primary contact changed."))


@workspace_required
@require_POST
def card_properties(request: HttpRequest, ticket_id: int, object_type: str) -> HttpResponse:
    """The properties this user's card of `object_type` shows (in the registry's order)."""
    ticket = _ticket(request, ticket_id, object_type)
    shown = request.POST.getlist("shown")
    known = {spec.name for spec in card_specs(object_type)}
    unknown = sorted(set(shown) - known)
    if unknown:
        return HttpResponseBadRequest(
            _("There is no property called “%(name)s”.") % {"name": unknown[0]}
        )
    ordered = [spec.name for spec in record_props.specs_for(object_type) if spec.name in shown]
    try:
        ticket_services.save_sidebar_layout(
            request_user(request), card=object_type, card_properties=ordered
        )
    except SidebarLayoutValidationError as exc:
        return HttpResponseBadRequest(str(exc))
    request_user(request).refresh_from_db(fields=["ticket_sidebar"])
    return card_response(request, ticket, object_type)


urlpatterns: list[URLPattern] = [
    path("<int:ticket_id>/cards/<slug:object_type>/", card, name="card"),
    path("<int:ticket_id>/cards/<slug:object_type>/add/", add_record, name="card_add"),
    path("<int:ticket_id>/cards/<slug:object_type>/create/", create_record, name="card_create"),
    path(
        "<int:ticket_id>/cards/<slug:object_type>/properties/",
        card_properties,
        name="card_properties",
    ),
    path(
        "<int:ticket_id>/cards/<slug:object_type>/<int:record_id>/remove/",
        remove_record,
        name="card_remove",
    ),
    path(
        "<int:ticket_id>/cards/contact/<int:record_id>/primary/",
        make_primary,
        name="card_primary",
    ),
]
