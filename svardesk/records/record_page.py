"""What a record page draws: the header, the properties in their groups, the associated
tickets and records, and the timeline (the record's own events woven with its tickets'
messages). Reads only, through `records.queries`; a fixed number of statements whatever the
number of associations or events."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from svardesk.accounts.models import User
from svardesk.conversations.models import Message, MessageDirection
from svardesk.conversations.queries import list_messages_of_tickets
from svardesk.crm import phones
from svardesk.crm.models import Company, Contact, Deal, RecordEvent
from svardesk.records import properties as record_props
from svardesk.records import queries
from svardesk.records.pickers import picker_widget
from svardesk.records.queries import COMPANY, CONTACT, DEAL, TICKET
from svardesk.tickets import properties as ticket_props

URL_NAMES = {CONTACT: "records:contact", COMPANY: "records:company", DEAL: "records:deal"}
SNIPPET_CHARS = 240
# The shell's navigation entry a record page sits under (the list pages' keys).
LIST_KEYS = {CONTACT: "contacts", COMPANY: "companies", DEAL: "deals"}


def record_url(object_type: str, pk: int) -> str:
    if object_type == TICKET:
        return reverse("tickets:detail", args=[pk])
    return reverse(URL_NAMES[object_type], args=[pk])


def type_label(object_type: str, *, plural: bool = False) -> str:
    labels = {
        CONTACT: (_("Contact"), _("Contacts")),
        COMPANY: (_("Company"), _("Companies")),
        DEAL: (_("Deal"), _("Deals")),
        TICKET: (_("Ticket"), _("Tickets")),
    }
    return labels[object_type][1 if plural else 0]


def safe_back(request: HttpRequest) -> str:
    """The `back` parameter if it is a path on this site (never another host), else ""."""
    back = request.GET.get("back", "") or request.POST.get("back", "")
    if not back.startswith("/") or back.startswith("//"):
        return ""
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return back


# --- Header -----------------------------------------------------------------------------------


def _format_phone(number: str) -> str:
    """National format for the account's region, international for the rest."""
    return phones.format_for_region(number) if number else ""


def initials_of(name: str) -> str:
    parts = [p for p in name.split() if p]
    if not parts:
        return "?"
    return "".join(p[0] for p in parts[:2]).upper()


def record_name(object_type: str, record: Any) -> str:
    if object_type == CONTACT:
        return str(record.display_name)
    return str(record.name or (getattr(record, "domain", "") or f"#{record.pk}"))


def header(object_type: str, record: Any) -> dict[str, Any]:
    name = record_name(object_type, record)
    lines: list[str] = []
    phones: list[str] = []
    if object_type == CONTACT:
        contact: Contact = record
        emails = list(contact.emails.all())
        primary = next((e.email for e in emails if e.is_primary), contact.email)
        if primary:
            lines.append(primary)
        phones = [_format_phone(p.number) for p in contact.phones.all()]
        if not phones:
            phones = [_format_phone(n) for n in (contact.phone, contact.mobile_phone) if n]
        initials = contact.initials
    elif object_type == COMPANY:
        company: Company = record
        if company.domain:
            lines.append(company.domain)
        if company.phone:
            phones = [_format_phone(company.phone)]
        initials = initials_of(name)
    else:
        deal: Deal = record
        lines.append(deal.get_stage_display())
        amount_spec = record_props.get_spec(DEAL, "amount")
        if deal.amount is not None and amount_spec is not None:
            lines.append(record_props.display(deal, amount_spec))
        initials = initials_of(name)
    return {"name": name, "lines": lines, "phones": phones, "initials": initials}


# --- Properties --------------------------------------------------------------------------------


def property_groups(object_type: str, record: Any) -> list[dict[str, Any]]:
    """The record's properties, built-in and custom, in their groups, each with its display
    value and whether it can be edited in place."""

    groups: dict[str, list[dict[str, Any]]] = {}
    for spec in record_props.specs_for(object_type):
        groups.setdefault(spec.group or "", []).append(
            {
                "spec": spec,
                "display": record_props.display(record, spec),
                "editable": spec.is_editable and _editable_in_place(object_type, spec.name),
                # Several rows (a contact's emails and numbers): changed in the Edit form.
                "form_only": spec.is_editable
                and spec.is_builtin
                and not _editable_in_place(object_type, spec.name),
            }
        )
    return [{"label": label, "rows": rows} for label, rows in groups.items()]


def _editable_in_place(object_type: str, name: str) -> bool:
    from svardesk.records.forms import inline_field_names

    return name in inline_field_names(object_type)


# --- Timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "event" or "message"
    at: dt.datetime
    text: str
    actor: str
    ticket_id: int | None = None
    ticket_name: str = ""
    snippet: str = ""
    direction: str = ""


def _plain(value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _reference_names(events: list[RecordEvent], specs: dict[str, Any]) -> dict[str, dict[Any, str]]:
    """The names of the users and companies the page's change events name, read in one
    statement each (not one per event)."""
    wanted: dict[str, set[int]] = {"user": set(), "company": set()}
    for event in events:
        spec = specs.get(event.property_name) if event.kind == "changed" else None
        if spec is None:
            continue
        kind = "user" if spec.type == "user" else "company" if spec.type == "company_ref" else ""
        if kind:
            wanted[kind].update(v for v in (event.old_value, event.new_value) if isinstance(v, int))
    names: dict[str, dict[Any, str]] = {"user": {}, "company": {}}
    if wanted["user"]:
        users = User.objects.filter(pk__in=wanted["user"])
        names["user"] = {u.pk: u.display_name for u in users}
    if wanted["company"]:
        names["company"] = dict(
            Company.objects.filter(pk__in=wanted["company"]).values_list("pk", "name")
        )
    return names


def _change_reading(spec: Any, value: Any, names: dict[str, dict[Any, str]]) -> str:
    if value in (None, "", []):
        return "—"
    if spec.type == "user":
        return names["user"].get(value, str(_("Unknown user")))
    if spec.type == "company_ref":
        return names["company"].get(value, f"#{value}")
    if spec.name in ("phone", "mobilephone", "phones", "mobile_phones") and isinstance(value, str):
        return _format_phone(value)
    return ticket_props.display_value(spec, value) or "—"


# A contact's lists, recorded whole under the service's keyword.
_LIST_PROPERTIES = {
    "emails": gettext_lazy("Emails"),
    "phones": gettext_lazy("Phone numbers"),
    "mobile_phones": gettext_lazy("Mobile phone numbers"),
}


def _list_reading(value: Any) -> str:
    if not value:
        return "—"
    items = value if isinstance(value, list) else [value]
    return ", ".join(
        _format_phone(v) if isinstance(v, str) and v.startswith("+") else str(v) for v in items
    )


def _event_text(
    event: RecordEvent,
    specs: dict[str, Any],
    names: dict[str, dict[Any, str]] | None = None,
    partner_names_: dict[tuple[str, int], str] | None = None,
) -> str:
    if event.kind == "created":
        return _("Created")
    if event.kind == "changed":
        spec = specs.get(event.property_name)  # a custom property, by its name
        label = spec.label if spec else event.property_name
        if spec is not None:
            names = names or {"user": {}, "company": {}}
            old = _change_reading(spec, event.old_value, names)
            new = _change_reading(spec, event.new_value, names)
        elif event.property_name in _LIST_PROPERTIES:
            label = str(_LIST_PROPERTIES[event.property_name])
            old, new = _list_reading(event.old_value), _list_reading(event.new_value)
        else:
            old, new = _plain(event.old_value), _plain(event.new_value)
        return _("%(property)s: %(old)s → %(new)s") % {"property": label, "old": old, "new": new}
    partner = _association_partner(event, partner_names_)
    if event.kind == "associated":
        return _("Associated with %(record)s") % {"record": partner}
    if event.kind == "dissociated":
        return _("Association with %(record)s removed") % {"record": partner}
    if event.kind == "merged":
        return _("Merged with %(record)s") % {"record": partner}
    return event.kind


def _partner_ref(event: RecordEvent) -> tuple[str, int | None, str]:
    """(type, id, stored name) of the record an association or merge event names."""
    value = event.new_value if event.new_value not in (None, "") else event.old_value
    if isinstance(value, dict):
        kind = str(value.get("type") or value.get("to_type") or event.object_type)
        pk = value.get("id") or value.get("object_id") or value.get("to_id")
        name = str(value.get("name") or value.get("label") or "")
        return kind, pk if isinstance(pk, int) else None, name
    if event.property_name in (CONTACT, COMPANY, DEAL, TICKET) and isinstance(value, int):
        return event.property_name, value, ""
    return "", None, _plain(value)


def _association_partner(
    event: RecordEvent, partner_names: dict[tuple[str, int], str] | None = None
) -> str:
    """What an association or merge event names: "Ticket #12 Printer jam", the name read now
    (and only if the reader may see that record), else the one stored with the event."""
    kind, pk, stored_name = _partner_ref(event)
    if not kind:
        return stored_name
    kind_label = type_label(kind) if kind in (CONTACT, COMPANY, DEAL, TICKET) else kind
    if pk is None:
        return kind_label
    name = (partner_names or {}).get((kind, pk)) or stored_name
    return f"{kind_label} #{pk} {name}".strip()


def partner_names(events: list[RecordEvent], *, actor: User) -> dict[tuple[str, int], str]:
    """The current names of the records the events name, among those `actor` may see: one
    statement (a UNION over the record types), none when no event names a record."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.kind not in ("associated", "dissociated", "merged"):
            continue
        kind, pk, _name = _partner_ref(event)
        if kind in (CONTACT, COMPANY, DEAL, TICKET) and pk is not None:
            wanted.setdefault(kind, set()).add(pk)
    if not wanted:
        return {}
    parts = []
    for kind, ids in wanted.items():
        records = queries.visible_records(actor, kind).filter(pk__in=ids)
        if kind == CONTACT:
            label: Any = Concat("first_name", Value(" "), "last_name", output_field=CharField())
            extra: Any = F("email")
        else:
            label = F("name")
            extra = F("domain") if kind == COMPANY else Value("", output_field=CharField())
        parts.append(
            records.order_by()
            .annotate(
                kind_=Value(kind, output_field=CharField()),
                label_=Cast(label, CharField()),
                extra_=Cast(extra, CharField()),
            )
            .values_list("kind_", "pk", "label_", "extra_")
        )
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return {(kind, pk): (label or "").strip() or (extra or "") for kind, pk, label, extra in rows}


def _direction_label(direction: str) -> str:
    return str(MessageDirection(direction).label) if direction in MessageDirection.values else ""


def _message_item(message: Message) -> TimelineItem:
    if message.direction == MessageDirection.INBOUND:
        who = message.sender_name or message.sender_address
    else:
        who = message.author.display_name if message.author else message.sender_name
    ticket = message.conversation.ticket
    body = " ".join(message.body_text.split())
    if len(body) > SNIPPET_CHARS:
        body = body[: SNIPPET_CHARS - 1] + "…"
    return TimelineItem(
        kind="message",
        at=message.created_at,
        text=_direction_label(message.direction),
        actor=who,
        ticket_id=ticket.pk if ticket else None,
        ticket_name=ticket.name if ticket else "",
        snippet=body,
        direction=message.direction,
    )


def _event_item(
    event: RecordEvent,
    specs: dict[str, Any],
    names: dict[str, dict[Any, str]],
    partners: dict[tuple[str, int], str],
) -> TimelineItem:
    return TimelineItem(
        kind="event",
        at=event.created_at,
        text=_event_text(event, specs, names, partners),
        actor=event.actor.display_name if event.actor else "",
    )


def timeline(
    object_type: str,
    record_id: int,
    *,
    actor: User,
    events_before: str | None = None,
    messages_before: str | None = None,
) -> dict[str, Any]:
    """One page of the timeline, latest first: the record's events and its visible tickets'
    messages, merged. Each source keeps its own keyset cursor so nothing is skipped or
    repeated across pages."""

    limit = queries.TIMELINE_PER_PAGE
    ev_cursor = queries.parse_cursor(events_before)
    msg_cursor = queries.parse_cursor(messages_before)
    # "-" means that source has run out.
    events = (
        []
        if events_before == "-"
        else queries.list_record_events(object_type, record_id, before=ev_cursor, limit=limit + 1)
    )
    messages = (
        []
        if messages_before == "-"
        else list_messages_of_tickets(
            queries.associated_tickets(object_type, record_id, actor=actor),
            before=msg_cursor,
            limit=limit + 1,
        )
    )
    specs = {spec.name: spec for spec in record_props.specs_for(object_type)}
    # Built-in changes are recorded under the model field's name ("first_name").
    for name, model_field in record_props.BUILTIN_FIELDS[object_type].items():
        if name in specs:
            specs.setdefault(model_field, specs[name])
            if model_field.endswith("_id"):
                specs.setdefault(model_field.removesuffix("_id"), specs[name])
    merged: list[tuple[dt.datetime, str, Any]] = [(e.created_at, "event", e) for e in events]
    merged += [(m.created_at, "message", m) for m in messages]
    merged.sort(key=lambda row: (row[0], row[2].pk), reverse=True)
    shown = merged[:limit]
    shown_events_list = [obj for _at, kind, obj in shown if kind == "event"]
    names = _reference_names(shown_events_list, specs)
    partners = partner_names(shown_events_list, actor=actor)
    items = [
        _event_item(obj, specs, names, partners) if kind == "event" else _message_item(obj)
        for _at, kind, obj in shown
    ]
    last_event = next((obj for _at, kind, obj in reversed(shown) if kind == "event"), None)
    last_message = next((obj for _at, kind, obj in reversed(shown) if kind == "message"), None)
    shown_events = sum(1 for _at, kind, _obj in shown if kind == "event")
    shown_messages = len(shown) - shown_events

    def next_cursor(last: Any, fetched: int, used: int, previous: str | None) -> str:
        if used == fetched and fetched <= limit:
            return "-"  # every row of this source is shown
        if last is None:
            return previous or ""
        return f"{last.created_at.isoformat()}_{last.pk}"

    more = len(merged) > limit
    return {
        "items": items,
        "more": more,
        "events_before": next_cursor(last_event, len(events), shown_events, events_before),
        "messages_before": next_cursor(
            last_message, len(messages), shown_messages, messages_before
        ),
    }


# --- The whole page ---------------------------------------------------------------------------


def page_context(
    request: HttpRequest, object_type: str, record: Any, *, actor: User
) -> dict[str, Any]:
    sections = []
    for partner_type in queries.partner_types(object_type):
        records = queries.list_associated_records(object_type, record.pk, partner_type, actor=actor)
        primaries = queries.primary_partner_ids(object_type, record, partner_type)
        sections.append(
            {
                "type": partner_type,
                "title": type_label(partner_type, plural=True),
                "rows": [
                    {
                        "pk": r.pk,
                        "name": record_name(partner_type, r),
                        "sub": _partner_sub(partner_type, r),
                        "url": record_url(partner_type, r.pk),
                        "is_primary": r.pk in primaries
                        or (
                            object_type == COMPANY
                            and partner_type == CONTACT
                            and r.company_id == record.pk
                        ),
                    }
                    for r in records
                ],
                "more": len(records) >= queries.RECORDS_SHOWN,
                "picker": picker_widget(
                    partner_type,
                    name="partner_id",
                    label=_("Add %(kind)s") % {"kind": type_label(partner_type).lower()},
                    required=True,
                ),
            }
        )
    tickets = queries.list_associated_tickets(object_type, record.pk, actor=actor)
    return {
        "object_type": object_type,
        "url_base": f"records:{object_type}",
        "current_view": LIST_KEYS[object_type],
        "type_label": type_label(object_type),
        "record": record,
        "header": header(object_type, record),
        "groups": property_groups(object_type, record),
        "sections": sections,
        "tickets_page": tickets,
        "timeline": timeline(object_type, record.pk, actor=actor),
        "back": safe_back(request),
        "record_url": record_url(object_type, record.pk),
        "may_delete": actor.is_superuser,
    }


def _partner_sub(partner_type: str, record: Any) -> str:
    if partner_type == CONTACT:
        return str(record.email or "")
    if partner_type == COMPANY:
        return str(record.domain or "")
    if partner_type == DEAL:
        return str(record.get_stage_display())
    return ""
