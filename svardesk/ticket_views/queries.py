"""Reads for the sidebar and the ticket lists: view conditions within the reader's access,
keyset-paginated so page 500 costs what page 1 does."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from svardesk.accounts.models import User
from svardesk.core.exceptions import NotFoundError
from svardesk.ticket_views.defaults import DEFAULT_VIEWS, DEFAULT_VIEWS_BY_KEY, DefaultView
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import ticket_access_q, user_team_ids, visible_tickets


def get_default_view(key: str) -> DefaultView:
    view = DEFAULT_VIEWS_BY_KEY.get(key)
    if view is None:
        raise NotFoundError("No such view")
    return view


@dataclass(frozen=True)
class SidebarCounts:
    counts: dict[str, int]
    computed_at: dt.datetime
    is_cached: bool


def count_default_views(user: User) -> SidebarCounts:
    """Each default view's ticket count for this user, cached for a few seconds.

    The cache key holds everything the counts depend on (user, access scope, teams), so a
    cached answer is never another user's; it is at most SIDEBAR_COUNT_CACHE_SECONDS old and
    the sidebar says when it was computed.
    """
    key = "sidebar-counts:{}:{}:{}:{}:{}".format(
        user.pk,
        cache.get(_generation_key(user.pk), 0),
        "admin" if user.is_superuser else user.ticket_access,
        ",".join(map(str, user_team_ids(user))),
        settings.SIDEBAR_COUNT_CACHE_SECONDS,
    )
    cached = cache.get(key)
    if cached is not None:
        return SidebarCounts(counts=cached["counts"], computed_at=cached["at"], is_cached=True)
    access = ticket_access_q(user)
    counts = {
        view.key: Ticket.objects.filter(access & view.condition(user)).count()
        for view in DEFAULT_VIEWS
    }
    now = timezone.now()
    if settings.SIDEBAR_COUNT_CACHE_SECONDS > 0:
        cache.set(key, {"counts": counts, "at": now}, settings.SIDEBAR_COUNT_CACHE_SECONDS)
    return SidebarCounts(counts=counts, computed_at=now, is_cached=False)


def _generation_key(user_id: int) -> str:
    return f"sidebar-counts-generation:{user_id}"


def forget_counts_of(user_id: int) -> None:
    """Drop a user's cached counts, so whoever changed a ticket sees the change counted."""
    key = _generation_key(user_id)
    cache.add(key, 0, timeout=None)
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=None)


@dataclass
class TicketPage:
    tickets: list[Ticket]
    next_cursor: str | None
    has_previous: bool


def _encode_cursor(ticket: Ticket) -> str:
    raw = json.dumps([ticket.last_activity_at.isoformat(), ticket.pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = parse_datetime(at)
        if parsed is None:
            return None
        return parsed, int(pk)
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def list_tickets(
    user: User,
    *,
    condition: Q | None = None,
    cursor: str | None = None,
    page_size: int | None = None,
) -> TicketPage:
    """A page of tickets the user may see, newest activity first, after `cursor`."""
    page_size = page_size or settings.TICKET_LIST_PAGE_SIZE
    queryset: QuerySet[Ticket] = visible_tickets(user)
    if condition is not None:
        queryset = queryset.filter(condition)
    position = _decode_cursor(cursor) if cursor else None
    if position is not None:
        at, pk = position
        queryset = queryset.filter(Q(last_activity_at__lt=at) | Q(last_activity_at=at, pk__lt=pk))
    rows = list(
        queryset.select_related("contact", "owner", "stage", "team")
        .defer("description", "custom")
        .order_by("-last_activity_at", "-id")[: page_size + 1]
    )
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    return TicketPage(
        tickets=rows,
        next_cursor=_encode_cursor(rows[-1]) if has_more and rows else None,
        has_previous=position is not None,
    )


def search_condition(text: str) -> Q:
    """A plain first search: a ticket ID (`1234` or `#1234`), or words in the ticket name or the
    contact's name, email or company. Indexed full-text search replaces it (issue: views and
    search)."""
    digits = text.lstrip("#")
    if digits.isdigit():
        return Q(pk=int(digits))
    condition = Q()
    for word in text.split()[:5]:
        condition &= (
            Q(name__icontains=word)
            | Q(contact__email__icontains=word)
            | Q(contact__first_name__icontains=word)
            | Q(contact__last_name__icontains=word)
            | Q(contact__company_name__icontains=word)
        )
    return condition


def list_view_tickets(user: User, key: str, *, cursor: str | None = None) -> TicketPage:
    view = get_default_view(key)
    return list_tickets(user, condition=view.condition(user), cursor=cursor)
