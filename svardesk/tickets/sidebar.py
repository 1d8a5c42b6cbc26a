"""The ticket page's right sidebar, arranged per user: its cards (the associated contacts,
companies and deals, then one per property group) in the order the user dragged them into,
only the ticket properties the user chose to show, and on each association card the record
properties the user chose for it. The layout lives on the user (`User.ticket_sidebar`,
written by `services.save_sidebar_layout`); cards and properties added later appear in their
default place, and ones that no longer exist are ignored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.tickets import properties as props

CONTACT_CARD = "contact"
COMPANY_CARD = "company"
DEAL_CARD = "deal"
# The association cards, keyed by the record type they list (records.cards fills them).
ASSOCIATION_CARDS = (CONTACT_CARD, COMPANY_CARD, DEAL_CARD)
MAX_CARD_PROPERTIES = 50
BUILTIN_CARD = "group:builtin"
OTHER_CARD = "group:other"
# Never shown in the sidebar: the name is the page's title.
NOT_IN_SIDEBAR = frozenset({"name"})
MAX_KEYS = 500  # far above any real layout; a bigger request is not a layout


@dataclass
class SidebarCard:
    key: str
    title: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    # An association card's records (records.cards.AssociationCard), set by the page above.
    association: Any = None


def card_key(spec: props.PropertySpec) -> str:
    if spec.is_builtin:
        return BUILTIN_CARD
    return f"group:{spec.group}" if spec.group else OTHER_CARD


def sidebar_specs() -> list[props.PropertySpec]:
    """The properties a user may choose to show, in their default order."""
    return [s for s in props.all_property_specs() if s.name not in NOT_IN_SIDEBAR]


def layout_of(user: User) -> tuple[list[str], set[str]]:
    layout = user.ticket_sidebar if isinstance(user.ticket_sidebar, dict) else {}
    order = [k for k in layout.get("order", []) if isinstance(k, str)]
    hidden = {n for n in layout.get("hidden", []) if isinstance(n, str)}
    return order, hidden


def card_properties_of(user: User) -> dict[str, list[str]]:
    """The record properties the user chose for each association card (record type ->
    property names, in order); a card missing here shows its default properties."""
    layout = user.ticket_sidebar if isinstance(user.ticket_sidebar, dict) else {}
    chosen = layout.get("cards")
    if not isinstance(chosen, dict):
        return {}
    return {
        key: [n for n in names if isinstance(n, str)]
        for key, names in chosen.items()
        if key in ASSOCIATION_CARDS and isinstance(names, list)
    }


def arrange(
    rows: Iterable[dict[str, Any]], *, order: list[str], hidden: set[str]
) -> list[SidebarCard]:
    """The sidebar's cards: the association cards (contacts, companies, deals), then
    property rows (dicts with a "spec") grouped into cards, the `hidden` properties left
    out, cards in `order` (a user's layout, see `layout_of`)."""
    cards: dict[str, SidebarCard] = {
        CONTACT_CARD: SidebarCard(CONTACT_CARD, _("Contacts")),
        COMPANY_CARD: SidebarCard(COMPANY_CARD, _("Companies")),
        DEAL_CARD: SidebarCard(DEAL_CARD, _("Deals")),
    }
    for row in rows:
        spec = row["spec"]
        key = card_key(spec)
        if key not in cards:
            title = spec.group if key != OTHER_CARD else _("Other properties")
            cards[key] = SidebarCard(key, title or _("Ticket details"))
        if spec.name not in hidden:
            cards[key].rows.append(row)
    default_position = {key: i for i, key in enumerate(cards)}
    if OTHER_CARD in default_position:  # properties outside any group come last
        default_position[OTHER_CARD] = len(cards)
    chosen_position = {key: i for i, key in enumerate(order)}
    # The user's order first; a card the user never placed keeps its default neighbours.
    return sorted(
        cards.values(),
        key=lambda c: (chosen_position.get(c.key, len(order)), default_position[c.key]),
    )
