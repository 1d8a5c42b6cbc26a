"""Domain signals turned into HubSpot webhook events (connected in WebhooksConfig.ready()).

Signals sent inside a service's transaction (tickets created, updated, moved) read the values
now, as they were saved, and queue the events for after the commit: a rolled-back change sends
nothing. Signals sent after commit dispatch at once. Nobody subscribed to an event type → no
work beyond one cached lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from svardesk.api.names import SVARDESK_TICKET_NAMES, builtin_pipeline_id, to_api
from svardesk.core.on_commit import after_commit
from svardesk.records.properties import BUILTIN_FIELDS
from svardesk.tickets import properties as ticket_props
from svardesk.tickets.models import Ticket
from svardesk.webhooks import events as ev
from svardesk.webhooks.models import EventType
from svardesk.webhooks.services import active_event_types, dispatch_events

# The crm services' field names (as their timelines and `record_changed` carry them) →
# HubSpot's property names; custom properties keep their names.
_RECORD_NAMES: dict[str, dict[str, str]] = {
    object_type: {field: name for name, field in fields.items()}
    for object_type, fields in BUILTIN_FIELDS.items()
}
# Lists a contact keeps whole; HubSpot's property is the first (primary) one.
_FIRST_OF = {"emails": "email", "phones": "phone", "mobile_phones": "mobilephone"}
_RECORD_EVENT_PREFIX = {"contact": "contact", "company": "company", "deal": "deal"}


def _wants(*kinds: str) -> bool:
    return bool(active_event_types().intersection(kinds))


# --- Tickets ---------------------------------------------------------------------------------


def tickets_created(sender: Any, *, tickets: Sequence[Ticket], actor: Any = None, **_: Any) -> None:
    if not _wants(EventType.TICKET_CREATION):
        return
    actor_id = actor.pk if actor is not None else None
    occurred = ev.now_ms()
    items = [
        ev.event(EventType.TICKET_CREATION, t.pk, actor_id=actor_id, occurred_at=occurred)
        for t in tickets
    ]
    after_commit(dispatch_events, items)


def ticket_values(ticket: Ticket, names: Iterable[str]) -> dict[str, str | None]:
    """Ticket properties as the API names and shows them: {HubSpot name: string value}."""
    wanted = set(names)
    specs = ticket_props.specs_for_names(wanted)
    builtin = builtin_pipeline_id() if "pipeline" in wanted else None
    values: dict[str, str | None] = {}
    for name in sorted(wanted):
        spec = specs.get(name)
        if spec is None:
            continue
        plain = ticket_props.plain_value(ticket, spec)
        values[SVARDESK_TICKET_NAMES.get(name, name)] = to_api(
            spec.type, plain, name=name, builtin_pipeline=builtin
        )
    return values


def ticket_updated(
    sender: Any, *, ticket: Ticket, changed: Iterable[str], actor: Any = None, **_: Any
) -> None:
    if not _wants(EventType.TICKET_PROPERTY_CHANGE):
        return
    actor_id = actor.pk if actor is not None else None
    occurred = ev.now_ms()
    items = [
        ev.property_change(
            EventType.TICKET_PROPERTY_CHANGE,
            ticket.pk,
            name,
            value,
            actor_id=actor_id,
            occurred_at=occurred,
        )
        for name, value in ticket_values(ticket, changed).items()
    ]
    after_commit(dispatch_events, items)


def tickets_moved(
    sender: Any, *, ticket_ids: Sequence[int], stage: Any, actor: Any = None, **_: Any
) -> None:
    if not _wants(EventType.TICKET_PROPERTY_CHANGE):
        return
    actor_id = actor.pk if actor is not None else None
    occurred = ev.now_ms()
    items = [
        ev.property_change(
            EventType.TICKET_PROPERTY_CHANGE,
            pk,
            SVARDESK_TICKET_NAMES["stage"],
            str(stage.pk),
            actor_id=actor_id,
            occurred_at=occurred,
        )
        for pk in ticket_ids
    ]
    after_commit(dispatch_events, items)


def tickets_deleted(
    sender: Any, *, ticket_ids: Sequence[int], actor_id: int | None = None, **_: Any
) -> None:
    if not _wants(EventType.TICKET_DELETION):
        return
    occurred = ev.now_ms()
    dispatch_events(
        [
            ev.event(EventType.TICKET_DELETION, pk, actor_id=actor_id, occurred_at=occurred)
            for pk in ticket_ids
        ]
    )


def tickets_merged(
    sender: Any,
    *,
    ticket_id: int,
    merged_ids: Sequence[int],
    actor_id: int | None = None,
    **_: Any,
) -> None:
    if not _wants(EventType.TICKET_MERGE):
        return
    old_ids = sorted(pk for pk in merged_ids if pk != ticket_id)
    dispatch_events(
        [
            ev.event(
                EventType.TICKET_MERGE,
                ticket_id,
                actor_id=actor_id,
                primaryObjectId=ticket_id,
                newObjectId=ticket_id,
                mergedObjectIds=old_ids,
            )
        ]
    )


# --- Contacts, companies, deals --------------------------------------------------------------


def record_value(name: str, value: Any) -> str:
    """A plain record value (as the crm timeline keeps it) as HubSpot's string."""
    if value is None:
        return ""
    if name in _FIRST_OF:
        return str(value[0]) if value else ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def record_changes(object_type: str, changed: Mapping[str, Any]) -> dict[str, str]:
    """{HubSpot property name: string value} of a record's changed fields."""
    names = _RECORD_NAMES.get(object_type, {})
    values: dict[str, str] = {}
    for field, value in changed.items():
        name = _FIRST_OF.get(field) or names.get(field) or names.get(f"{field}_id") or field
        values[name] = record_value(field, value)
    return values


def record_created(
    sender: Any, *, object_type: str, object_id: int, actor_id: int | None = None, **_: Any
) -> None:
    prefix = _RECORD_EVENT_PREFIX.get(object_type)
    if prefix and _wants(f"{prefix}.creation"):
        dispatch_events([ev.event(f"{prefix}.creation", object_id, actor_id=actor_id)])


def record_changed(
    sender: Any,
    *,
    object_type: str,
    object_id: int,
    changed: Mapping[str, Any],
    actor_id: int | None = None,
    **_: Any,
) -> None:
    prefix = _RECORD_EVENT_PREFIX.get(object_type)
    kind = f"{prefix}.propertyChange"
    if not prefix or not _wants(kind):
        return
    occurred = ev.now_ms()
    dispatch_events(
        [
            ev.property_change(
                kind, object_id, name, value, actor_id=actor_id, occurred_at=occurred
            )
            for name, value in record_changes(object_type, changed).items()
        ]
    )


def record_deleted(
    sender: Any, *, object_type: str, object_id: int, actor_id: int | None = None, **_: Any
) -> None:
    prefix = _RECORD_EVENT_PREFIX.get(object_type)
    if prefix and _wants(f"{prefix}.deletion"):
        dispatch_events([ev.event(f"{prefix}.deletion", object_id, actor_id=actor_id)])


def _merged(kind: str, primary_id: int, merged_id: int, actor_id: int | None) -> None:
    if _wants(kind):
        dispatch_events(
            [
                ev.event(
                    kind,
                    primary_id,
                    actor_id=actor_id,
                    primaryObjectId=primary_id,
                    mergedObjectIds=[merged_id],
                )
            ]
        )


def contacts_merged(
    sender: Any, *, primary_id: int, merged_id: int, actor_id: int | None = None, **_: Any
) -> None:
    _merged(EventType.CONTACT_MERGE, primary_id, merged_id, actor_id)


def companies_merged(
    sender: Any, *, primary_id: int, merged_id: int, actor_id: int | None = None, **_: Any
) -> None:
    _merged(EventType.COMPANY_MERGE, primary_id, merged_id, actor_id)


# --- Conversations ---------------------------------------------------------------------------


def message_created(
    sender: Any,
    *,
    message_id: int,
    conversation_id: int,
    kind: str = "MESSAGE",
    **_: Any,
) -> None:
    if not _wants(EventType.CONVERSATION_NEW_MESSAGE):
        return
    dispatch_events(
        [
            ev.event(
                EventType.CONVERSATION_NEW_MESSAGE,
                conversation_id,
                change_source="CONVERSATIONS",
                messageId=str(message_id),
                messageType=kind,
            )
        ]
    )
