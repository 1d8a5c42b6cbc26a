"""`POST /crm/v3/objects/tickets/merge`: merge two tickets (`tickets.merge.merge_tickets`)
and answer with the new ticket as a SimplePublicObject, `hs_merged_object_ids` included.

An id merged away earlier means the ticket it was merged into, as a GET of it does; two ids
that mean the same ticket are refused like one id twice (400)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path

from svardesk.api import names, scopes
from svardesk.api.errors import not_found, validation_error
from svardesk.api.http import api_endpoint, json_object, json_response, read_json
from svardesk.api.objects.serialize import MERGED_IDS, TICKETS, serialize_objects
from svardesk.core.parsing import parse_id
from svardesk.tickets.exceptions import TicketMergeError
from svardesk.tickets.merge import MAX_MERGES, merge_tickets, resolve_ticket_id
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import visible_tickets

FIELDS = ("primaryObjectId", "objectIdToMerge")


def _ticket(raw: Any, request: HttpRequest) -> Ticket:
    """The live ticket an id names, if the token's user may see it; 404 otherwise."""
    pk = parse_id(raw)
    resolved = resolve_ticket_id(pk) if pk is not None else None
    ticket = (
        visible_tickets(request.user).filter(pk=resolved).first()  # type: ignore[arg-type]
        if resolved is not None
        else None
    )
    if ticket is None:
        raise not_found(context={"id": [str(raw)]})
    return ticket


@api_endpoint(methods=("POST",))
def merge(request: HttpRequest) -> HttpResponse:
    scopes.require(request.api_token.scopes, "tickets", write=True)  # type: ignore[attr-defined]
    body = json_object(read_json(request))
    missing = [name for name in FIELDS if body.get(name) in (None, "")]
    if missing:
        raise validation_error(
            f"Some required fields were missing: {', '.join(missing)}",
            context={"missingFields": missing},
        )
    primary = _ticket(body["primaryObjectId"], request)
    other = _ticket(body["objectIdToMerge"], request)
    if primary.pk == other.pk:
        raise validation_error(
            "Cannot merge an object with itself.",
            context={"ids": [str(body["primaryObjectId"]), str(body["objectIdToMerge"])]},
        )
    try:
        merged = merge_tickets(primary=primary, other=other, actor=request.user)  # type: ignore[arg-type]
    except TicketMergeError as exc:
        if exc.code == "too_many":
            raise validation_error(
                f"Records involved in {MAX_MERGES} or more merges cannot be merged."
            ) from None
        if exc.code == "same":
            raise validation_error("Cannot merge an object with itself.") from None
        raise not_found() from None
    shown = [*names.DEFAULT_PROPERTIES[TICKETS], MERGED_IDS]
    ticket = Ticket.objects.get(pk=merged.pk)
    return json_response(serialize_objects(TICKETS, [ticket], properties=shown, user=None)[0])


urlpatterns: list[URLPattern | URLResolver] = [
    path("crm/v3/objects/tickets/merge", merge, name="api_ticket_merge"),
    path("crm/v3/objects/0-5/merge", merge),
]
