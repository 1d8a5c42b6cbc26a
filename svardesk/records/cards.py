"""The ticket sidebar's association cards: the contacts, companies and deals associated with
a ticket, each with the record properties the user chose for that card (`User.ticket_sidebar`
"cards", see tickets.sidebar), the primary contact first and marked.

A card costs one statement whatever the number of records: the records associated with the
ticket, with their owner (and a contact's primary company) joined, and the total counted in
the same statement (a window), of which at most MAX_SHOWN are listed. The ticket page has a
fixed statement budget (workspace/tests/test_ticket_page_queries.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, Exists, OuterRef, QuerySet, Value, When, Window
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

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
    total = Window(Count("pk"))
    if object_type == "contact":
        return (
            Contact.objects.filter(pk__in=ids, merged_into__isnull=True)
            .annotate(total=total)
            .select_related("owner", "company")
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
            .annotate(total=total, is_primary=Exists(primary))
            .select_related("owner")
        )
    return Deal.objects.filter(pk__in=ids).annotate(total=total).select_related("owner")


def _ordered(records: QuerySet[Any], object_type: str, primary_contact_id: int | None) -> Any:
    if object_type == "contact":
        # The primary contact (Ticket.contact) first; then by name, as the contacts list sorts.
        primary = Case(When(pk=primary_contact_id, then=Value(1)), default=Value(0))
        return records.annotate(is_primary=primary).order_by(
            "-is_primary", "first_name", "last_name", "pk"
        )
    if object_type == "company":
        return records.order_by("-is_primary", "name", "pk")
    return records.order_by("-created_at", "-pk")


def association_card(
    ticket: Any,
    object_type: str,
    *,
    user: User,
    users: Mapping[int, Any] | None = None,
) -> AssociationCard:
    """One card of the ticket's sidebar (one statement)."""
    records = list(
        _ordered(_associated(ticket.pk, object_type), object_type, ticket.contact_id)[:MAX_SHOWN]
    )
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
        count=records[0].total if records else 0,
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


def association_cards(
    ticket: Any, *, user: User, users: Mapping[int, Any] | None = None
) -> dict[str, AssociationCard]:
    """Every association card of the ticket's sidebar, by record type (three statements)."""
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
