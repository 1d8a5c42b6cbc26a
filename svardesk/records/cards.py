"""The ticket sidebar's association cards: the contacts, companies and deals associated with
a ticket, each with the record properties the user chose for that card (`User.ticket_sidebar`
"cards", see tickets.sidebar), the primary contact first and marked.

On the ticket page the cards cost no statement of their own: their records come as JSON in
the ticket's statement (`card_annotations`). A card redrawn alone costs one statement: the
records associated with the ticket, with their owner (and a contact's primary company)
joined. Either way the card sorts them the same (`_sort`) and lists at most MAX_SHOWN."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import (
    Aggregate,
    BooleanField,
    DateTimeField,
    Exists,
    IntegerField,
    JSONField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import JSONObject
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from svardesk.accounts.models import User
from svardesk.crm import associations
from svardesk.crm.models import Association, Company, Contact, Deal
from svardesk.records import properties as record_props
from svardesk.records.pickers import picker_widget
from svardesk.tickets import sidebar

CARD_TYPES = sidebar.ASSOCIATION_CARDS
MAX_SHOWN = 25

# What a card shows under each record's name until the user chooses.
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contact": ("email", "phone", "company"),
    "company": ("domain", "phone"),
    "deal": ("amount", "dealstage", "closedate"),
}
# The record's name is the line's title, never one of its properties.
TITLE_PROPERTIES: dict[str, frozenset[str]] = {
    "contact": frozenset({"firstname", "lastname"}),
    "company": frozenset({"name"}),
    "deal": frozenset({"dealname"}),
}


@dataclass
class CardRecord:
    id: int
    label: str
    initials: str
    url: str
    is_primary: bool
    rows: list[tuple[str, str]]  # (property label, displayed value), empty values left out


@dataclass
class AssociationCard:
    key: str  # the record type: "contact", "company" or "deal"
    title: str
    count: int
    records: list[CardRecord]
    choices: list[tuple[Any, bool]] = field(default_factory=list)  # (spec, is shown)
    picker: dict[str, Any] = field(default_factory=dict)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.records))

    @property
    def more_label(self) -> str:
        return ngettext("and %(counter)s more", "and %(counter)s more", self.more) % {
            "counter": self.more
        }


def card_specs(object_type: str) -> list[Any]:
    """The properties a card may show (every property of the type but its name's)."""
    titles = TITLE_PROPERTIES[object_type]
    return [s for s in record_props.specs_for(object_type) if s.name not in titles]


def chosen_properties(user: User, object_type: str) -> list[str]:
    chosen = sidebar.card_properties_of(user).get(object_type)
    return list(DEFAULT_PROPERTIES[object_type]) if chosen is None else chosen


def record_url(object_type: str, pk: int, *, back: str = "") -> str:
    """The record's page; with `back`, the page's Back link returns there."""
    try:
        url = reverse(f"records:{object_type}", args=[pk])
    except NoReverseMatch:  # the record pages' URLs, as agreed, before they are mounted
        url = f"/{ {'contact': 'contacts', 'company': 'companies', 'deal': 'deals'}[object_type] }/{pk}/"
    return f"{url}?{urlencode({'back': back})}" if back else url


def _associated(ticket_id: int, object_type: str) -> QuerySet[Any]:
    ids = associations.associated_ids(associations.TICKET, ticket_id, object_type)
    if object_type == "contact":
        return Contact.objects.filter(pk__in=ids, merged_into__isnull=True).select_related(
            "owner", "company"
        )
    if object_type == "company":
        pair = associations.stored(associations.TICKET, associations.COMPANY)
        primary = Association.objects.filter(
            from_type=pair.from_type,
            from_id=ticket_id,
            to_type=pair.to_type,
            to_id=OuterRef("pk"),
            label=associations.PRIMARY,
        )
        return (
            Company.objects.filter(pk__in=ids, merged_into__isnull=True)
            .annotate(is_primary=Exists(primary))
            .select_related("owner")
        )
    return Deal.objects.filter(pk__in=ids).select_related("owner")


def association_card(
    ticket: Any,
    object_type: str,
    *,
    user: User,
    users: Mapping[int, Any] | None = None,
) -> AssociationCard:
    """One card of the ticket's sidebar: no statement when the ticket was read with
    `card_annotations()` (the ticket page), else one."""
    loaded = getattr(ticket, _annotation_name(object_type), _NOT_LOADED)
    if loaded is _NOT_LOADED:
        every = list(_associated(ticket.pk, object_type))
        if object_type == "contact":
            for contact in every:
                contact.is_primary = contact.pk == ticket.contact_id
    else:
        every = _records_from_json(object_type, loaded, ticket.contact_id)
    _sort(every, object_type)
    records, count = every[:MAX_SHOWN], len(every)
    specs = {s.name: s for s in card_specs(object_type)}
    shown = [specs[name] for name in chosen_properties(user, object_type) if name in specs]
    back = reverse("tickets:detail", args=[ticket.pk])
    listed = []
    for record in records:
        rows = []
        for spec in shown:
            text = record_props.display(record, spec, users=users)
            if text:
                rows.append((spec.label, text))
        is_primary = bool(getattr(record, "is_primary", False))
        listed.append(
            CardRecord(
                id=record.pk,
                label=_label(record, object_type),
                initials=_initials(record, object_type),
                url=record_url(object_type, record.pk, back=back),
                is_primary=is_primary,
                rows=rows,
            )
        )
    titles = {"contact": _("Contacts"), "company": _("Companies"), "deal": _("Deals")}
    shown_names = {s.name for s in shown}
    return AssociationCard(
        key=object_type,
        title=titles[object_type],
        count=count,
        records=listed,
        choices=[(spec, spec.name in shown_names) for spec in specs.values()],
        picker=picker_widget(
            object_type,
            name="record",
            label=_("Search"),
            can_create=True,
            submit_on_pick=True,
            input_id=f"card-picker-{object_type}",
            aria_label={
                "contact": _("Search contacts to add"),
                "company": _("Search companies to add"),
                "deal": _("Search deals to add"),
            }[object_type],
        ),
    )


# --- The cards read with the ticket ---------------------------------------------------------
# The ticket page has a fixed statement budget (workspace/tests/test_ticket_page_queries.py):
# each card's records come as a JSON array in the ticket's own statement, the way the
# ticket's conversations do (conversations.queries.conversations_summary).

_NOT_LOADED = object()
_MODELS: dict[str, type[Any]] = {"contact": Contact, "company": Company, "deal": Deal}
_OWNER_FIELDS = {
    "owner_first_name": "owner__first_name",
    "owner_last_name": "owner__last_name",
    "owner_email": "owner__email",
}


def _annotation_name(object_type: str) -> str:
    return f"card_{object_type}_json"


class _JSONArrayAgg(Aggregate):
    """Rows as one JSON array: json_agg on PostgreSQL, json_group_array on SQLite."""

    function = "JSON_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


def _card_subquery(object_type: str) -> Subquery:
    model = _MODELS[object_type]
    pair = associations.stored(associations.TICKET, object_type)
    linked = Association.objects.filter(
        from_type=pair.from_type,
        from_id=OuterRef(OuterRef("pk")),
        to_type=pair.to_type,
        label=associations.UNLABELLED,
    ).values("to_id")
    fields: dict[str, Any] = {f.attname: f.attname for f in model._meta.concrete_fields}
    fields.update(_OWNER_FIELDS)
    rows = model.objects.filter(pk__in=linked)
    if object_type == "contact":
        rows = rows.filter(merged_into__isnull=True)
        fields.update(company__name="company__name", company__domain="company__domain")
    if object_type == "company":
        rows = rows.filter(merged_into__isnull=True)
        fields["is_primary"] = Exists(
            Association.objects.filter(
                from_type=pair.from_type,
                from_id=OuterRef(OuterRef("pk")),
                to_type=pair.to_type,
                to_id=OuterRef("pk"),
                label=associations.PRIMARY,
            )
        )
    # Grouped by a constant, which Django leaves out of GROUP BY: one array of every row.
    grouped = (
        rows.order_by()
        .annotate(_one=Value(1, output_field=IntegerField()))
        .values("_one")
        .annotate(items=_JSONArrayAgg(JSONObject(**fields)))
        .values("items")
    )
    return Subquery(grouped, output_field=TextField())


def card_annotations() -> dict[str, Subquery]:
    """For the ticket page's ticket query (`access_ticket(annotate=…)`): every card's records
    as JSON, so reading the ticket reads the cards too."""
    return {_annotation_name(t): _card_subquery(t) for t in CARD_TYPES}


def _records_from_json(object_type: str, raw: Any, primary_contact_id: int | None) -> list[Any]:
    items = [] if raw is None else (json.loads(raw) if isinstance(raw, str) else raw)
    model = _MODELS[object_type]
    records = []
    for item in items:
        record = _instance(model, item)
        if item.get("owner_id"):
            record.owner = User(
                pk=item["owner_id"],
                first_name=item.get("owner_first_name") or "",
                last_name=item.get("owner_last_name") or "",
                email=item.get("owner_email") or "",
            )
        if object_type == "contact":
            record.is_primary = record.pk == primary_contact_id
            if item.get("company_id"):
                record.company = Company(
                    pk=item["company_id"],
                    name=item.get("company__name") or "",
                    domain=item.get("company__domain") or "",
                )
        elif object_type == "company":
            record.is_primary = bool(item.get("is_primary"))
        records.append(record)
    return records


def _sort(records: list[Any], object_type: str) -> None:
    """A card's order, the same however its records were read: the primary contact or
    company first, then by name (ignoring case); deals newest first."""
    if object_type == "contact":
        records.sort(
            key=lambda c: (not c.is_primary, c.first_name.casefold(), c.last_name.casefold(), c.pk)
        )
    elif object_type == "company":
        records.sort(key=lambda c: (not c.is_primary, c.name.casefold(), c.pk))
    else:
        records.sort(key=lambda d: (d.created_at, d.pk), reverse=True)


def _instance(model: type[Any], item: dict[str, Any]) -> Any:
    """A model instance from its JSON row, each value as its field reads it from the database
    (SQLite gives JSON columns as text and times without an offset)."""
    record = model()
    for model_field in model._meta.concrete_fields:
        raw = item.get(model_field.attname)
        if isinstance(model_field, JSONField):
            value = json.loads(raw) if isinstance(raw, str) else raw
        elif isinstance(model_field, DateTimeField):
            value = parse_datetime(str(raw)) if raw is not None else None
            if value is not None and timezone.is_naive(value):
                value = value.replace(tzinfo=dt.UTC)
        elif isinstance(model_field, BooleanField):
            value = bool(raw) if raw is not None else None
        else:
            value = model_field.to_python(raw)
        setattr(record, model_field.attname, value)
    record._state.adding = False
    record._state.db = "default"
    return record


def association_cards(
    ticket: Any, *, user: User, users: Mapping[int, Any] | None = None
) -> dict[str, AssociationCard]:
    """Every association card of the ticket's sidebar, by record type (no statement when the
    ticket was read with `card_annotations()`, else one per card)."""
    return {t: association_card(ticket, t, user=user, users=users) for t in CARD_TYPES}


def _label(record: Any, object_type: str) -> str:
    if object_type == "contact":
        return str(record.display_name)
    return str(record.name or getattr(record, "domain", "") or f"#{record.pk}")


def _initials(record: Any, object_type: str) -> str:
    if object_type == "contact":
        return str(record.initials)
    words = [w for w in (record.name or "").split() if w]
    return "".join(w[0] for w in words[:2]).upper() or "#"
