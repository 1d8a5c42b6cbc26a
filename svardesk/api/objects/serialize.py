"""Tickets, contacts, companies and deals as HubSpot's `SimplePublicObject(WithAssociations)`.

Every property value is a string or null; `hs_object_id`, `createdate` and the last-modified
property are always there. A page of any size costs a fixed number of queries: the records
come loaded, the property registries are cached per process, and merged ids, associations
and history are each read for the whole page at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from svardesk.api import names
from svardesk.api.errors import not_found
from svardesk.api.http import iso
from svardesk.core.local_cache import cached
from svardesk.crm import associations as assoc
from svardesk.crm.models import Association, Company, Contact, Deal, RecordEvent
from svardesk.records import properties as record_props
from svardesk.tickets import properties as ticket_props
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind, TicketRedirect
from svardesk.tickets.queries import (
    ticket_scope,
    visible_companies,
    visible_contacts,
    visible_deals,
)

TICKETS, CONTACTS, COMPANIES, DEALS = "tickets", "contacts", "companies", "deals"
OBJECT_TYPES = (TICKETS, CONTACTS, COMPANIES, DEALS)
# HubSpot's object type ids, as paths may name them.
TYPE_IDS = {"0-5": TICKETS, "0-1": CONTACTS, "0-2": COMPANIES, "0-3": DEALS}
# The API's plural names ↔ crm's singular record types.
SINGULAR = {TICKETS: "ticket", CONTACTS: "contact", COMPANIES: "company", DEALS: "deal"}
PLURAL = {singular: plural for plural, singular in SINGULAR.items()}
MODELS: dict[str, type[Any]] = {
    TICKETS: Ticket,
    CONTACTS: Contact,
    COMPANIES: Company,
    DEALS: Deal,
}
# Ticket-only properties the API computes from other rows.
MERGED_IDS = "hs_merged_object_ids"
IS_CLOSED = "hs_is_closed"


def object_type_from_path(raw: str) -> str:
    """`tickets|contacts|companies|deals` (any case) or `0-5|0-1|0-2|0-3`; 404 otherwise."""
    lowered = raw.strip().lower()
    if lowered in OBJECT_TYPES:
        return lowered
    if lowered in TYPE_IDS:
        return TYPE_IDS[lowered]
    raise not_found(f"Unable to infer object type from: {raw}")


def association_target(raw: str) -> str | None:
    """An `associations=` value as a plural object type (`contacts`, `contact`, `0-1`), or None
    for one Svardesk does not associate."""
    lowered = raw.strip().lower()
    if lowered in OBJECT_TYPES:
        return lowered
    if lowered in PLURAL:
        return PLURAL[lowered]
    return TYPE_IDS.get(lowered)


def builtin_pipeline() -> int | None:
    # Cleared with the other pipeline caches whenever a pipeline is saved (tickets.apps).
    return cached("api:builtin-pipeline", names.builtin_pipeline_id)


# --- Which properties ---------------------------------------------------------------------------


def property_names(object_type: str, properties: Sequence[str] | None) -> list[str]:
    """The names a response carries: the asked ones (the defaults when none), plus the ones
    always there; unknown names stay in the list and are dropped when read."""
    asked = list(properties) if properties else list(names.DEFAULT_PROPERTIES[object_type])
    for name in names.ALWAYS_PROPERTIES[object_type]:
        if name not in asked:
            asked.append(name)
    return asked


def known_property_names(object_type: str) -> list[str]:
    """Every property the API can show of `object_type` (what an archived record keeps)."""
    if object_type == TICKETS:
        custom = [s.name for s in ticket_props.all_property_specs() if not s.is_builtin]
        return [*names.TICKET_NAMES, MERGED_IDS, IS_CLOSED, *custom]
    return [spec.name for spec in record_props.specs_for(SINGULAR[object_type])]


# --- Values -------------------------------------------------------------------------------------


def _ticket_readers(asked: Iterable[str]) -> list[tuple[str, Any]]:
    """(API name, how to read it from a ticket) for each known asked name, in order."""
    custom = {s.name: s for s in ticket_props.all_property_specs() if not s.is_builtin}
    builtin = {s.name: s for s in ticket_props.all_property_specs() if s.is_builtin}
    readers: list[tuple[str, Any]] = []
    for name in asked:
        own = names.TICKET_NAMES.get(name)
        if own is not None:
            spec = builtin.get(own)
            kind = spec.type if spec else ""
            attr = f"{own}_id" if own in ("pipeline", "stage", "owner", "team", "contact") else own
            readers.append((name, ("builtin", own, attr, kind)))
        elif name in (MERGED_IDS, IS_CLOSED):
            readers.append((name, (name,)))
        elif name in custom:
            readers.append((name, ("custom", name, name, custom[name].type)))
    return readers


def _ticket_properties(
    ticket: Ticket, readers: list[tuple[str, Any]], merged: dict[int, list[int]], pipeline: Any
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, how in readers:
        if how[0] == MERGED_IDS:
            old = merged.get(ticket.pk)
            values[name] = ";".join(str(i) for i in sorted(old)) if old else None
        elif how[0] == IS_CLOSED:
            values[name] = "false" if ticket.is_open else "true"
        elif how[0] == "builtin":
            _kind, own, attr, kind = how
            values[name] = names.to_api(
                kind, getattr(ticket, attr), name=own, builtin_pipeline=pipeline
            )
        else:
            _kind, own, _attr, kind = how
            values[name] = names.to_api(kind, (ticket.custom or {}).get(own))
    return values


def _record_readers(object_type: str, asked: Iterable[str]) -> list[tuple[str, Any]]:
    singular = SINGULAR[object_type]
    specs = record_props.specs_by_name(singular)
    fields = record_props.BUILTIN_FIELDS[singular]
    readers: list[tuple[str, Any]] = []
    for name in asked:
        spec = specs.get(name)
        if spec is None:
            continue
        if spec.is_builtin:
            readers.append((name, ("builtin", fields[name], spec.type)))
        else:
            readers.append((name, ("custom", name, spec.type)))
    return readers


def record_value_to_api(kind: str, value: Any) -> str | None:
    """A contact's, company's or deal's plain value as the API's string."""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    # No `name`: records' names are HubSpot's own (a deal's `pipeline` is not a ticket's).
    return names.to_api(kind, value)


def _record_properties(record: Any, readers: list[tuple[str, Any]]) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    custom = record.custom or {}
    for name, (where, field, kind) in readers:
        value = getattr(record, field) if where == "builtin" else custom.get(field)
        values[name] = record_value_to_api(kind, value)
    return values


def _merged_ids(ticket_ids: list[int]) -> dict[int, list[int]]:
    merged: dict[int, list[int]] = defaultdict(list)
    rows = TicketRedirect.objects.filter(ticket_id__in=ticket_ids).values_list(
        "ticket_id", "old_id"
    )
    for ticket_id, old_id in rows:
        merged[ticket_id].append(old_id)
    return merged


# --- Associations -------------------------------------------------------------------------------


def association_ids(
    object_type: str, ids: list[int], target: str, *, user: Any
) -> dict[int, list[int]]:
    """For each of `ids`, the ids of its associated `target` records the user may see,
    ascending; one or two queries for any number of ids."""
    own, other = SINGULAR[object_type], SINGULAR[target]
    try:
        pair = assoc.stored(own, other)
    except assoc.AssociationError:
        return {}
    rows = Association.objects.filter(
        from_type=pair.from_type, to_type=pair.to_type, label=assoc.UNLABELLED
    )
    if pair.swapped:
        found = rows.filter(to_id__in=ids).values_list("to_id", "from_id")
    else:
        found = rows.filter(from_id__in=ids).values_list("from_id", "to_id")
    linked: dict[int, set[int]] = defaultdict(set)
    for own_id, other_id in found:
        linked[own_id].add(other_id)
    partners = {i for values in linked.values() for i in values}
    if partners and user is not None:
        allowed = _visible_ids(target, partners, user)
        if allowed is not None:
            linked = defaultdict(set, {k: v & allowed for k, v in linked.items()})
    return {k: sorted(v) for k, v in linked.items() if v}


def _visible_ids(target: str, ids: set[int], user: Any) -> set[int] | None:
    """Which of `ids` the user may see; None when the user sees every record."""
    scope = ticket_scope(user)
    if scope.sees_all:
        return None
    if target == TICKETS:
        queryset: Any = Ticket.objects.filter(scope.as_q())
    else:
        queryset = {CONTACTS: visible_contacts, COMPANIES: visible_companies, DEALS: visible_deals}[
            target
        ](user)
    return set(queryset.filter(pk__in=ids).values_list("pk", flat=True))


def _associations_block(
    object_type: str, object_id: int, targets: list[str], found: dict[str, dict[int, list[int]]]
) -> dict[str, Any]:
    block: dict[str, Any] = {}
    own = SINGULAR[object_type]
    for target in targets:
        ids = found.get(target, {}).get(object_id)
        if ids:
            kind = f"{own}_to_{SINGULAR[target]}"
            block[target] = {"results": [{"id": str(i), "type": kind} for i in ids]}
    return block


# --- History ------------------------------------------------------------------------------------


def _history(
    object_type: str, records: list[Any], asked: list[str], pipeline: Any
) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Each record's values of the asked properties over time, newest first: every recorded
    change, then the value the record was created with (or has had since, if never changed)."""
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    ids = [r.pk for r in records]
    # (when, new value, old value, who) per (record, API property name)
    changes: dict[tuple[int, str], list[tuple[dt.datetime, Any, Any, int | None]]] = defaultdict(
        list
    )
    if object_type == TICKETS:
        wanted = {names.TICKET_NAMES.get(n, n): n for n in asked}
        events = TicketEvent.objects.filter(
            ticket_id__in=ids, kind=TicketEventKind.PROPERTY_CHANGED
        ).values_list("ticket_id", "data", "created_at", "actor_id")
        for ticket_id, data, at, actor_id in events:
            own = (data or {}).get("property")
            if own in wanted:
                changes[(ticket_id, wanted[own])].append(
                    (at, _event_value(data, "new"), _event_value(data, "old"), actor_id)
                )
    else:
        # The timeline names a built-in property by its model field (`first_name`).
        fields = record_props.BUILTIN_FIELDS[SINGULAR[object_type]]
        wanted = {fields.get(n, n): n for n in asked}
        record_events = RecordEvent.objects.filter(
            object_type=SINGULAR[object_type],
            object_id__in=ids,
            kind="changed",
            property_name__in=list(wanted),
        ).values_list("object_id", "property_name", "new_value", "old_value", "created_at",
                      "actor_id")  # fmt: skip
        for object_id, prop, new, old, at, actor_id in record_events:
            changes[(object_id, wanted[prop])].append((at, new, old, actor_id))
    current = serialize_objects(object_type, records, properties=asked, user=None)
    for record, shown in zip(records, current, strict=True):
        per: dict[str, list[dict[str, Any]]] = {}
        for name in asked:
            if name not in shown["properties"]:
                continue
            entries = sorted(changes.get((record.pk, name), []), key=lambda e: e[0], reverse=True)
            history = [
                _value_with_timestamp(_history_text(object_type, name, v, pipeline), at, actor)
                for at, v, _old, actor in entries
            ]
            if not entries:
                history.append(
                    _value_with_timestamp(shown["properties"][name], record.created_at, None)
                )
            elif entries[-1][2] not in (None, "", []):
                # The value the record had before its first recorded change.
                first = _history_text(object_type, name, entries[-1][2], pipeline)
                history.append(_value_with_timestamp(first, record.created_at, None))
            per[name] = history
        out[record.pk] = per
    return out


def _event_value(data: dict[str, Any], side: str) -> Any:
    return data.get(side)


def _history_text(object_type: str, name: str, value: Any, pipeline: Any) -> str | None:
    if object_type == TICKETS:
        own = names.TICKET_NAMES.get(name, name)
        spec = ticket_props.property_specs_by_name().get(own)
        return names.to_api(spec.type if spec else "", value, name=own, builtin_pipeline=pipeline)
    spec = record_props.get_spec(SINGULAR[object_type], name)
    return record_value_to_api(spec.type if spec else "", value)


def _value_with_timestamp(value: str | None, at: dt.datetime, actor: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "value": "" if value is None else value,
        "timestamp": iso(at),
        "sourceType": "CRM_UI" if actor else "API",
    }
    if actor:
        entry["updatedByUserId"] = actor
    return entry


# --- The objects --------------------------------------------------------------------------------


def serialize_objects(
    object_type: str,
    records: list[Any],
    *,
    properties: list[str] | None,
    user: Any,
    associations: list[str] | None = None,
    properties_with_history: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The records (model instances of `object_type`) as the API shows them, in input order.
    `associations` names the types (`contacts`, …) whose associated ids to add, limited to
    what `user` may see (None: no limit)."""
    asked = property_names(object_type, properties)
    pipeline = builtin_pipeline() if object_type == TICKETS else None
    ids = [record.pk for record in records]
    if object_type == TICKETS:
        readers = _ticket_readers(asked)
        merged = _merged_ids(ids) if records and MERGED_IDS in asked else {}
    else:
        readers = _record_readers(object_type, asked)
    targets: list[str] = []
    for raw in associations or []:
        target = association_target(raw)
        if target is not None and target not in targets:
            targets.append(target)
    found = (
        {target: association_ids(object_type, ids, target, user=user) for target in targets}
        if records
        else {}
    )
    history = (
        _history(object_type, records, list(properties_with_history), pipeline)
        if properties_with_history and records
        else {}
    )
    results: list[dict[str, Any]] = []
    for record in records:
        if object_type == TICKETS:
            values = _ticket_properties(record, readers, merged, pipeline)
        else:
            values = _record_properties(record, readers)
        item: dict[str, Any] = {
            "id": str(record.pk),
            "properties": values,
            "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at),
            "archived": False,
        }
        if properties_with_history:
            item["propertiesWithHistory"] = history.get(record.pk, {})
        if targets:
            item["associations"] = _associations_block(object_type, record.pk, targets, found)
        results.append(item)
    return results


def serialize_archived(
    archived: Any, *, properties: list[str] | None, associations: list[str] | None = None
) -> dict[str, Any]:
    """An `ArchivedRecord` tombstone as the API shows an archived object (its associations
    went with it: an empty block when asked for)."""
    object_type = PLURAL.get(archived.object_type, archived.object_type)
    asked = property_names(object_type, properties)
    kept = archived.properties or {}
    item: dict[str, Any] = {
        "id": str(archived.object_id),
        "properties": {name: kept[name] for name in asked if name in kept},
        "createdAt": iso(archived.created_at),
        "updatedAt": iso(archived.updated_at),
        "archived": True,
        "archivedAt": iso(archived.archived_at),
    }
    if associations:
        item["associations"] = {}
    return item
