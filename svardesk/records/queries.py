"""Reads of one contact, company or deal for its record page, with the reader's scope built in.

`access_contact` / `access_company` / `access_deal` return the record when the actor may see it
(`tickets.queries.visible_contacts` & co.: super admins and "all tickets" users see every
record; others only records associated with a ticket in their scope) and raise NotFoundError
otherwise — no hint that it exists. A merged-away contact or company raises RecordMovedError
naming the survivor, so its page redirects there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.utils.dateparse import parse_datetime

from svardesk.accounts.models import User
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_id
from svardesk.crm import associations
from svardesk.crm.models import Company, Contact, Deal, RecordEvent
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import (
    visible_companies,
    visible_contacts,
    visible_deals,
    visible_tickets,
)

CONTACT, COMPANY, DEAL, TICKET = (
    associations.CONTACT,
    associations.COMPANY,
    associations.DEAL,
    associations.TICKET,
)
RECORD_TYPES = (CONTACT, COMPANY, DEAL)
MODELS: dict[str, type[Model]] = {CONTACT: Contact, COMPANY: Company, DEAL: Deal}

TICKETS_PER_PAGE = 25
RECORDS_SHOWN = 50
TIMELINE_PER_PAGE = 25
# How many merges a chain of merged_into may hold before we stop following it.
_MAX_MERGE_HOPS = 10


class RecordMovedError(NotFoundError):
    """The record was merged into another; its page is the survivor's."""

    def __init__(self, object_type: str, survivor_id: int) -> None:
        super().__init__(f"{object_type} merged into {survivor_id}")
        self.object_type = object_type
        self.survivor_id = survivor_id


def visible_records(user: User, object_type: str) -> QuerySet[Any]:
    if object_type == CONTACT:
        return visible_contacts(user)
    if object_type == COMPANY:
        return visible_companies(user)
    if object_type == DEAL:
        return visible_deals(user)
    if object_type == TICKET:
        return visible_tickets(user)
    raise NotFoundError("No such record type")


def _record_queryset(user: User, object_type: str) -> QuerySet[Any]:
    records = visible_records(user, object_type)
    if object_type == CONTACT:
        return records.select_related("company", "owner").prefetch_related("emails", "phones")
    return records.select_related("owner")


def _survivor_of(model: type[Model], pk: int) -> int | None:
    """Follow merged_into to the record that absorbed `pk`, or None if it was not merged."""
    survivor: int | None = None
    current = pk
    for _hop in range(_MAX_MERGE_HOPS):
        nxt = model.objects.filter(pk=current).values_list("merged_into_id", flat=True).first()  # type: ignore[attr-defined]
        if nxt is None:
            break
        survivor = current = nxt
    return survivor


def access_record(object_type: str, record_id: Any, *, actor: User) -> Any:
    """The record if the actor may see it; RecordMovedError for a merged-away contact or
    company whose survivor the actor may see; NotFoundError otherwise."""
    pk = parse_id(record_id)
    if pk is None or object_type not in RECORD_TYPES:
        raise NotFoundError("No such record")
    record = _record_queryset(actor, object_type).filter(pk=pk).first()
    if record is not None:
        return record
    if object_type in (CONTACT, COMPANY):
        survivor = _survivor_of(MODELS[object_type], pk)
        if (
            survivor is not None
            and visible_records(actor, object_type).filter(pk=survivor).exists()
        ):
            raise RecordMovedError(object_type, survivor)
    raise NotFoundError("No such record")


def access_contact(contact_id: Any, *, actor: User) -> Contact:
    record: Contact = access_record(CONTACT, contact_id, actor=actor)
    return record


def access_company(company_id: Any, *, actor: User) -> Company:
    record: Company = access_record(COMPANY, company_id, actor=actor)
    return record


def access_deal(deal_id: Any, *, actor: User) -> Deal:
    record: Deal = access_record(DEAL, deal_id, actor=actor)
    return record


def access_ticket_for_record(ticket_id: Any, *, actor: User) -> Ticket:
    pk = parse_id(ticket_id)
    ticket = None if pk is None else visible_tickets(actor).filter(pk=pk).first()
    if ticket is None:
        raise NotFoundError("No such ticket")
    return ticket


# --- Associated records -----------------------------------------------------------------------


def partner_types(object_type: str) -> tuple[str, ...]:
    """The record types (besides tickets) a record of `object_type` may be associated with."""
    return tuple(t for t in RECORD_TYPES if t != object_type)


@dataclass(frozen=True)
class TicketsPage:
    tickets: list[Ticket]
    next_cursor: str


def _cursor(at: dt.datetime, pk: int) -> str:
    return f"{at.isoformat()}_{pk}"


def parse_cursor(raw: str | None) -> tuple[dt.datetime, int] | None:
    """A keyset cursor "<ISO time>_<id>"; None for anything malformed."""
    if not raw or "_" not in raw:
        return None
    at_raw, _sep, pk_raw = raw.rpartition("_")
    pk = parse_id(pk_raw)
    try:
        at = parse_datetime(at_raw.replace(" ", "+"))
    except ValueError:
        return None
    if at is None or pk is None or at.tzinfo is None:
        return None
    return at, pk


def associated_tickets(object_type: str, record_id: int, *, actor: User) -> QuerySet[Ticket]:
    return visible_tickets(actor).filter(
        pk__in=associations.associated_ids(object_type, record_id, TICKET)
    )


def list_associated_tickets(
    object_type: str, record_id: int, *, actor: User, after: str | None = None
) -> TicketsPage:
    """The record's tickets the actor may see, newest first, a page at a time (keyset on
    created_at and id: no OFFSET), each with its status and owner."""
    tickets = associated_tickets(object_type, record_id, actor=actor)
    cursor = parse_cursor(after)
    if cursor is not None:
        at, pk = cursor
        tickets = tickets.filter(Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk))
    rows = list(
        tickets.select_related("stage", "owner").order_by("-created_at", "-id")[
            : TICKETS_PER_PAGE + 1
        ]
    )
    next_cursor = ""
    if len(rows) > TICKETS_PER_PAGE:
        rows = rows[:TICKETS_PER_PAGE]
        next_cursor = _cursor(rows[-1].created_at, rows[-1].pk)
    return TicketsPage(rows, next_cursor)


def list_associated_records(
    object_type: str, record_id: int, partner_type: str, *, actor: User
) -> list[Any]:
    """The actor-visible `partner_type` records associated with the record (at most
    RECORDS_SHOWN; one statement)."""
    records = visible_records(actor, partner_type).filter(
        pk__in=associations.associated_ids(object_type, record_id, partner_type)
    )
    if partner_type == CONTACT:
        records = records.order_by("first_name", "last_name", "id")
    elif partner_type == COMPANY:
        records = records.order_by("name", "id")
    else:
        records = records.order_by("-created_at", "-id")
    return list(records[:RECORDS_SHOWN])


def primary_partner_ids(object_type: str, record: Any, partner_type: str) -> set[int]:
    """Which of the listed partners are "primary" from this record's side, as read from the
    mirror columns already loaded (no statement): a contact's company."""
    if object_type == CONTACT and partner_type == COMPANY and record.company_id:
        return {record.company_id}
    return set()


# --- Timeline ---------------------------------------------------------------------------------


def list_record_events(
    object_type: str,
    record_id: int,
    *,
    before: tuple[dt.datetime, int] | None = None,
    limit: int,
) -> list[RecordEvent]:
    events = RecordEvent.objects.filter(object_type=object_type, object_id=record_id)
    if before is not None:
        at, pk = before
        events = events.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=pk))
    return list(events.select_related("actor").order_by("-created_at", "-id")[:limit])
