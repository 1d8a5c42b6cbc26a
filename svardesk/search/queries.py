"""Ticket search: one interface over both backends.

A ticket matches a search when any of these holds (see search.normalise for the folding):
1. its ID is the number searched for (`1234` or `#1234`);
2. its contact's email is the address searched for, or one of the contact's phone numbers
   is the number searched for (any format: "+46 70-123 45 67" finds "0701234567");
3. every word searched for begins a word of the ticket name, or every one begins a word of
   the contact's first and last name;
4. every word begins a word of the ticket name and description, or of the contact's name,
   company and email; or the search text is part of the contact's email ("anna@",
   "@acme.se"), or its digits are part of one of the contact's phone numbers.
Results rank by the first rule they meet (that is the order above), then by latest activity.
Case and accents never matter ("asa" finds "Åsa"). Everything honours the reader's access.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, DateTimeField, ExpressionWrapper, F, Q
from django.db.models.expressions import RawSQL

from svardesk.accounts.models import User
from svardesk.core.parsing import parse_aware_datetime, parse_id
from svardesk.search.backends import ContactMatch, Part, get_backend
from svardesk.search.normalise import ParsedQuery, parse_query
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import visible_tickets

TIER_ID, TIER_EXACT, TIER_NAME, TIER_TEXT = 1, 2, 3, 4


class SearchPlan:
    """A search as conditions on tickets: for each rank, the conditions that reach it (a
    ticket ranks by the first rank any of them matches).

    A rank's conditions are worked out when first asked for: looking up the contacts a rank
    needs is a query of its own, and a page filled by the first ranks never needs the
    later ones (a last name shared by thousands of tickets never reaches rank 4)."""

    def __init__(self, query: ParsedQuery, builders: dict[int, Callable[[], list[Part]]]):
        self.query = query
        self._builders = dict(sorted(builders.items()))
        self._built: dict[int, list[Part]] = {}

    @property
    def ranks(self) -> list[int]:
        return list(self._builders)

    def parts(self, tier: int) -> list[Part]:
        if tier not in self._built:
            self._built[tier] = self._builders[tier]()
        return self._built[tier]

    @property
    def tiers(self) -> dict[int, list[Part]]:
        """Every rank's conditions (ranks that turned out empty left out)."""
        return {tier: self.parts(tier) for tier in self._builders if self.parts(tier)}

    @property
    def match(self) -> Q:
        """A ticket matches the search at any rank."""
        parts = [part.match for parts in self.tiers.values() for part in parts]
        condition = parts[0] if parts else Q(pk__in=[])
        for part in parts[1:]:
            condition |= part
        return condition

    def none_better_than(self, tier: int) -> Q:
        """A ticket matches no rank before `tier`."""
        condition = Q()
        for earlier in self._builders:
            if earlier < tier:
                for part in self.parts(earlier):
                    condition &= part.miss
        return condition


def plan_search(text: str) -> SearchPlan | None:
    """The conditions a search compiles to; None when the text asks for nothing."""
    query = parse_query(text)
    if query.is_empty:
        return None
    backend = get_backend()
    builders: dict[int, Callable[[], list[Part]]] = {}
    if query.ticket_id is not None:
        ticket_id = query.ticket_id
        builders[TIER_ID] = lambda: [Part(match=Q(pk=ticket_id), miss=~Q(pk=ticket_id))]
    lookups: dict[str, ContactMatch] = {}

    def contacts(kind: str) -> ContactMatch:
        """The contacts matching by `kind` ("exact", "name", "text"), looked up once."""
        if kind not in lookups:
            lookups[kind] = getattr(backend, f"{kind}_contacts")(query)
        return lookups[kind]

    if query.email or query.phone:

        def exact() -> list[Part]:
            found = contacts("exact")
            return [] if found.is_empty else [found.ticket_part()]

        builders[TIER_EXACT] = exact
    if query.tokens:

        def names() -> list[Part]:
            found = contacts("name").minus(contacts("exact"))
            by_contact = [] if found.is_empty else [found.ticket_part()]
            return [*by_contact, backend.name_tickets(query)]

        builders[TIER_NAME] = names
    if query.tokens or query.email or query.phone:

        def texts() -> list[Part]:
            found = contacts("text").minus(contacts("exact")).minus(contacts("name"))
            by_contact = [] if found.is_empty else [found.ticket_part()]
            by_ticket = [backend.text_tickets(query)] if query.tokens else []
            return [*by_contact, *by_ticket]

        builders[TIER_TEXT] = texts
    return SearchPlan(query=query, builders=builders)


def after_position(at: dt.datetime, pk: int) -> Q:
    """Tickets after (last activity, id) in newest-first order, as one row comparison: the
    newest-first index (ticket_recent) starts its scan there, where `a < x OR (a = x AND id
    < y)` would leave it reading every newer ticket again and filtering them out."""
    sql = '("tickets_ticket"."last_activity_at", "tickets_ticket"."id") < (%s, %s)'
    params = (connection.ops.adapt_datetimefield_value(at), pk)
    return Q(ExpressionWrapper(RawSQL(sql, params), output_field=BooleanField()))  # noqa: S611


def search_condition(text: str) -> Q:
    """Tickets matching the search, as a condition (for sorting by another property)."""
    plan = plan_search(text)
    return plan.match if plan else Q(pk__in=[])


@dataclass
class SearchPage:
    tickets: list[Ticket]
    next_cursor: str | None
    has_previous: bool


def search_tickets(
    user: User,
    text: str,
    *,
    condition: Q | None = None,
    cursor: str | None = None,
    page_size: int | None = None,
) -> SearchPage:
    """A page of the tickets the user may see that match `text` (and `condition`), best
    first: by rank, then newest activity; keyset-paginated after `cursor`.

    Rank by rank, and within a rank condition by condition, each query asks only for the
    few newest tickets it still needs — so a name shared by thousands of tickets costs one
    short index read, not a sort of every match."""
    page_size = page_size or settings.TICKET_LIST_PAGE_SIZE
    plan = plan_search(text)
    if plan is None:
        return SearchPage(tickets=[], next_cursor=None, has_previous=False)
    base = visible_tickets(user)
    if condition is not None:
        base = base.filter(condition)
    position = _decode_cursor(cursor) if cursor else None
    found: list[tuple[int, dt.datetime, int]] = []  # (tier, last activity, id)
    wanted = page_size + 1
    for tier in plan.ranks:
        if position is not None and tier < position[0]:
            continue
        need = wanted - len(found)
        if need <= 0:
            break
        parts = plan.parts(tier)
        if not parts:
            continue
        queryset = base.filter(plan.none_better_than(tier))
        if position is not None and tier == position[0]:
            _tier, at, pk = position
            queryset = queryset.filter(after_position(at, pk))
        candidates: dict[int, dt.datetime] = {}
        for part in parts:
            matching = queryset.filter(part.match)
            if part.listed:
                # The same order through an expression no index has: the planner reads the
                # listed tickets by primary key and sorts them (see Part.listed).
                matching = matching.annotate(
                    at=ExpressionWrapper(
                        F("last_activity_at") + dt.timedelta(0), output_field=DateTimeField()
                    )
                ).order_by("-at", "-id")
            else:
                matching = matching.order_by("-last_activity_at", "-id")
            rows = matching.values_list("pk", "last_activity_at")[:need]
            candidates.update(dict(rows))
        best = sorted(candidates.items(), key=lambda item: (item[1], item[0]), reverse=True)
        found.extend((tier, at, pk) for pk, at in best[:need])
    has_more = len(found) > page_size
    found = found[:page_size]
    by_id = Ticket.objects.defer("description").in_bulk([pk for _tier, _at, pk in found])
    tickets = []
    for tier, _at, pk in found:
        ticket = by_id[pk]
        ticket.search_tier = tier  # type: ignore[attr-defined]
        tickets.append(ticket)
    return SearchPage(
        tickets=tickets,
        next_cursor=_encode_cursor(tickets[-1]) if has_more and tickets else None,
        has_previous=position is not None,
    )


def _encode_cursor(ticket: Ticket) -> str:
    tier = getattr(ticket, "search_tier", TIER_TEXT)
    raw = json.dumps(["search", tier, ticket.last_activity_at.isoformat(), ticket.pk])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, dt.datetime, int] | None:
    """The (rank, last activity, id) a page starts after; None when the cursor is not one
    this module wrote (a hand-edited one gives the first page, never an error)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, tier, at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None
    parsed = parse_aware_datetime(at)
    if tag != "search" or parsed is None:
        return None
    if tier not in (TIER_ID, TIER_EXACT, TIER_NAME, TIER_TEXT) or isinstance(tier, bool):
        return None
    ticket_id = parse_id(pk)
    if ticket_id is None:
        return None
    return int(tier), parsed, ticket_id
