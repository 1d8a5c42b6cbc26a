"""Finding objects for the API: by id or by a unique property, a page at a time, and the
archived ones (tombstones). Every read goes through the token user's scope
(`tickets.queries.visible_*`): what they may not see is not found."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import QuerySet

from svardesk.api.errors import validation_error
from svardesk.api.models import ArchivedRecord
from svardesk.api.objects.inputs import storable_text
from svardesk.api.objects.serialize import (
    COMPANIES,
    CONTACTS,
    DEALS,
    MODELS,
    SINGULAR,
    TICKETS,
)
from svardesk.core.parsing import parse_id
from svardesk.crm.models import ContactEmail
from svardesk.tickets.models import TicketRedirect
from svardesk.tickets.queries import (
    ticket_scope,
    visible_companies,
    visible_contacts,
    visible_deals,
    visible_ticket,
    visible_tickets,
)

ID_PROPERTY = "hs_object_id"
# How many merges in a row a merged-away id is followed through.
_MAX_MERGE_HOPS = 10
# Properties whose value names one object, per type (HubSpot's idProperty).
UNIQUE_PROPERTIES: dict[str, frozenset[str]] = {
    TICKETS: frozenset({"hs_object_id", "hs_ticket_id"}),
    CONTACTS: frozenset({"hs_object_id", "email"}),
    COMPANIES: frozenset({"hs_object_id"}),
    DEALS: frozenset({"hs_object_id"}),
}


def visible(object_type: str, user: Any) -> QuerySet[Any]:
    if object_type == TICKETS:
        return visible_tickets(user)
    if object_type == CONTACTS:
        return visible_contacts(user)
    if object_type == COMPANIES:
        return visible_companies(user)
    return visible_deals(user)


def check_id_property(object_type: str, id_property: Any) -> str:
    """The idProperty to look objects up by (hs_object_id when none); 400 for a property that
    does not name one object."""
    if id_property is None or id_property == "":
        return ID_PROPERTY
    if not isinstance(id_property, str) or id_property not in UNIQUE_PROPERTIES[object_type]:
        shown = str(id_property) if storable_text(str(id_property)) else "idProperty"
        raise validation_error(
            f"{shown} is not a unique property of {object_type}; use one of: "
            + ", ".join(sorted(UNIQUE_PROPERTIES[object_type])),
            context={"idProperty": [shown]},
        )
    return id_property


def find_many(
    object_type: str,
    raw_ids: Sequence[Any],
    *,
    user: Any,
    id_property: Any = None,
    follow_merges: bool = False,
) -> dict[str, Any]:
    """The visible objects named by `raw_ids` (values of `id_property`), keyed by the raw id
    as given (as text); missing ones are absent. With `follow_merges`, a ticket id retired by
    a merge finds the ticket it was merged into. A constant number of queries."""
    prop = check_id_property(object_type, id_property)
    # A key no column could hold (a lone surrogate, NUL) names nothing.
    keys = [key for raw in raw_ids if storable_text(key := str(raw).strip())]
    if object_type == CONTACTS and prop == "email":
        by_key = dict(
            ContactEmail.objects.filter(email_key__in={k.lower() for k in keys}).values_list(
                "email_key", "contact_id"
            )
        )
        wanted = {k: by_key[k.lower()] for k in keys if k.lower() in by_key}
    else:
        wanted = {k: pk for k in keys if (pk := parse_id(k)) is not None}
    if not wanted:
        return {}
    pks = set(wanted.values())
    if object_type == TICKETS and len(pks) == 1:  # GET of one ticket: a precompiled statement
        ticket = visible_ticket(user, next(iter(pks)))
        found = {ticket.pk: ticket} if ticket is not None else {}
    else:
        found = {r.pk: r for r in visible(object_type, user).filter(pk__in=pks)}
    if object_type == TICKETS and follow_merges:
        missing = {pk for pk in wanted.values() if pk not in found}
        if missing:
            moved = dict(
                TicketRedirect.objects.filter(old_id__in=missing).values_list("old_id", "ticket_id")
            )
            targets = set(moved.values()) - set(found)
            if targets:
                found.update((r.pk, r) for r in visible_tickets(user).filter(pk__in=targets))
            for old_id, ticket_id in moved.items():
                if ticket_id in found:
                    found[old_id] = found[ticket_id]
    elif object_type in (CONTACTS, COMPANIES) and follow_merges:
        _follow_record_merges(object_type, wanted, found, user)
    return {key: found[pk] for key, pk in wanted.items() if pk in found}


def _follow_record_merges(
    object_type: str, wanted: dict[str, int], found: dict[int, Any], user: Any
) -> None:
    """A merged-away contact or company id finds the record it was merged into (following a
    few merges in a row)."""
    model = MODELS[object_type]
    pending = {pk for pk in wanted.values() if pk not in found}
    survivor_of = {pk: pk for pk in pending}
    for _hop in range(_MAX_MERGE_HOPS):
        if not pending:
            break
        moved = dict(
            model.objects.filter(pk__in=pending, merged_into__isnull=False).values_list(
                "pk", "merged_into_id"
            )
        )
        for original, current in survivor_of.items():
            if current in moved:
                survivor_of[original] = moved[current]
        pending = set(moved.values())
    targets = {pk for pk in survivor_of.values() if pk not in found}
    if targets:
        found.update((r.pk, r) for r in visible(object_type, user).filter(pk__in=targets))
    for original, survivor in survivor_of.items():
        if survivor != original and survivor in found:
            found[original] = found[survivor]


def find_one(
    object_type: str,
    raw_id: Any,
    *,
    user: Any,
    id_property: Any = None,
    follow_merges: bool = False,
) -> Any | None:
    return find_many(
        object_type, [raw_id], user=user, id_property=id_property, follow_merges=follow_merges
    ).get(str(raw_id).strip())


# --- Pages --------------------------------------------------------------------------------------


def parse_after(raw: str | None) -> int:
    """The list cursor: the last id of the previous page (opaque to clients)."""
    if raw is None or raw == "":
        return 0
    value = parse_id(raw)
    if value is None:
        raise validation_error(f"Invalid after: {raw!r}", context={"after": [raw]})
    return value


def page(object_type: str, *, user: Any, limit: int, after: int) -> tuple[list[Any], str | None]:
    """One page of visible objects by id ascending, and the cursor of the next page (None on
    the last)."""
    rows = list(visible(object_type, user).filter(pk__gt=after).order_by("pk")[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], str(rows[limit - 1].pk)
    return rows, None


# --- Archived -----------------------------------------------------------------------------------


def _may_see_archived(object_type: str, archived: ArchivedRecord, scope: Any) -> bool:
    """Whether a tombstone is in the user's scope: a ticket by the team and owner it had; a
    contact, company or deal only for users who see every record (the tickets that made it
    visible to others may be gone)."""
    if scope.sees_all:
        return True
    if object_type != TICKETS:
        return False
    kept = archived.properties or {}
    owner = parse_id(kept.get("hubspot_owner_id") or "")
    team = parse_id(kept.get("hubspot_team_id") or "")
    return scope.includes(team_id=team, owner_id=owner)


def archived_page(
    object_type: str, *, user: Any, limit: int, after: int
) -> tuple[list[ArchivedRecord], str | None]:
    scope = ticket_scope(user)
    rows: list[ArchivedRecord] = []
    cursor = after
    while True:
        batch = list(
            ArchivedRecord.objects.filter(
                object_type=SINGULAR[object_type], object_id__gt=cursor
            ).order_by("object_id")[: (limit + 1) * 2]
        )
        for row in batch:
            if _may_see_archived(object_type, row, scope):
                rows.append(row)
                if len(rows) > limit:
                    return rows[:limit], str(rows[limit - 1].object_id)
        if len(batch) < (limit + 1) * 2:
            return rows, None
        cursor = batch[-1].object_id


def find_archived(object_type: str, raw_ids: Iterable[Any], *, user: Any) -> dict[str, Any]:
    """Tombstones by object id (archived objects are looked up by id only)."""
    keys = {str(raw).strip(): pk for raw in raw_ids if (pk := parse_id(str(raw).strip()))}
    if not keys:
        return {}
    scope = ticket_scope(user)
    rows = {
        row.object_id: row
        for row in ArchivedRecord.objects.filter(
            object_type=SINGULAR[object_type], object_id__in=set(keys.values())
        )
        if _may_see_archived(object_type, row, scope)
    }
    return {key: rows[pk] for key, pk in keys.items() if pk in rows}
