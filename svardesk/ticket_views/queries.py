"""Reads for the sidebar and the ticket lists: view conditions within the reader's access,
counted in one statement with a short shared cache, and listed with keyset pagination so
page 500 costs what page 1 does, whatever the sort."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.functional import Promise

from svardesk.accounts.models import User
from svardesk.core.exceptions import NotFoundError
from svardesk.core.local_cache import cached
from svardesk.core.parsing import MAX_ID, parse_id
from svardesk.core.precompiled import precompiled_raw
from svardesk.teams.models import Team
from svardesk.ticket_views.columns import (
    DEFAULT_SORT,
    Sort,
    decode_sort_value,
    encode_sort_value,
    sort_key,
)
from svardesk.ticket_views.defaults import DEFAULT_VIEWS, DEFAULT_VIEWS_BY_KEY, DefaultView
from svardesk.ticket_views.filters import (
    FilterContext,
    FilterError,
    compile_filters,
    filterable_specs,
    filters_from_data,
)
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.tickets.models import Pipeline, Stage, Ticket
from svardesk.tickets.properties import TICKET_OBJECT, PropertySpec
from svardesk.tickets.queries import ticket_access_q, user_team_ids, visible_tickets

# However the cache is configured, a count shown is never older than this.
MAX_COUNT_AGE_SECONDS = 10
# Counting stops here: beyond it the sidebar says "10,000+". Exact counts of hundreds of
# thousands of tickets cost a scan each, and nobody works a view by its exact size.
COUNT_LIMIT = 10_000


def get_default_view(key: str) -> DefaultView:
    view = DEFAULT_VIEWS_BY_KEY.get(key)
    if view is None:
        raise NotFoundError("No such view")
    return view


# --- Counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SidebarCounts:
    """Counts up to COUNT_LIMIT; a count above it means "more than COUNT_LIMIT"."""

    counts: dict[str, int]
    computed_at: dt.datetime
    is_cached: bool
    failed: frozenset[str] = frozenset()  # conditions that could not be built (FilterError)


def count_label(count: int | None) -> str:
    """A count as the sidebar shows it: exact up to COUNT_LIMIT, "10,000+" beyond."""
    if count is None:
        return "—"
    if count > COUNT_LIMIT:
        return number_format(COUNT_LIMIT, force_grouping=True) + "+"
    return str(count)


def count_default_views(user: User) -> SidebarCounts:
    """Each default view's ticket count for this user (see count_conditions)."""
    return count_conditions(
        user,
        {view.key: _default_condition(view, user) for view in DEFAULT_VIEWS},
        memo_keys={view.key: ("default", view.key) for view in DEFAULT_VIEWS},
    )


def _default_condition(view: DefaultView, user: User) -> Callable[[], Q]:
    return lambda: view.condition(user)


def count_conditions(
    user: User,
    conditions: Mapping[str, Q | Callable[[], Q]],
    *,
    memo_keys: Mapping[str, Hashable] | None = None,
) -> SidebarCounts:
    """How many tickets the user may see meet each condition, computed in one statement.

    Each count is cached under its own SQL (access scope and condition resolved), so people
    whose views mean the same tickets share one count. A cached count is at most
    SIDEBAR_COUNT_CACHE_SECONDS old (never more than MAX_COUNT_AGE_SECONDS), and never older
    than the user's own last change (`forget_counts_of`). `computed_at` is the time of the
    oldest count returned, which the sidebar shows.

    A condition may be given as a function building it; with a `memo_keys` entry naming
    everything the condition depends on besides the user, its SQL is remembered in this
    process and neither built nor compiled again.
    """
    ttl = max(0, min(settings.SIDEBAR_COUNT_CACHE_SECONDS, MAX_COUNT_AGE_SECONDS))
    counts: dict[str, int] = {}
    statements: dict[str, tuple[str, tuple[object, ...]]] = {}
    cache_keys: dict[str, str] = {}
    user_facts = (user.pk, user.is_superuser, user.ticket_access, tuple(user_team_ids(user)))
    access: Q | None = None
    failed: set[str] = set()
    for key, condition in conditions.items():
        memo_key = (memo_keys[key], user_facts) if memo_keys and key in memo_keys else None
        compiled = _SQL_MEMO.get(memo_key) if memo_key is not None else None
        if compiled is None:
            if access is None:
                access = ticket_access_q(user)
            try:
                built = condition() if callable(condition) else condition
            except FilterError:
                failed.add(key)
                continue
            queryset = (
                Ticket.objects.filter(access & built).order_by().values("pk")[: COUNT_LIMIT + 1]
            )
            try:
                sql, params = queryset.query.sql_with_params()
                digest = hashlib.sha256(f"{sql}\x00{params!r}".encode()).hexdigest()[:40]
                compiled = (sql, tuple(params), f"ticket-count:{digest}")
            except EmptyResultSet:
                compiled = ("", (), "")
            if memo_key is not None:
                _remember(memo_key, compiled)
        sql, params, cache_key = compiled
        if not sql:
            counts[key] = 0
            continue
        statements[key] = (sql, params)
        cache_keys[key] = cache_key

    oldest = time.time()
    fresh: dict[str, dict[str, float]] = {}
    if ttl and cache_keys:
        # The user's last change and the counts in one round trip.
        changed_key = _changed_key(user.pk)
        found = cache.get_many([changed_key, *cache_keys.values()])
        changed_at = found.get(changed_key, 0.0)
        for key, cache_key in cache_keys.items():
            entry = found.get(cache_key)
            if entry is not None and entry["at"] >= changed_at:
                fresh[key] = entry
    missing = [key for key in statements if key not in fresh]
    is_cached = not missing
    if missing:
        started = time.time()
        computed = _count_in_one_statement([statements[key] for key in missing])
        new_entries = {}
        for key, value in zip(missing, computed, strict=True):
            counts[key] = value
            new_entries[cache_keys[key]] = {"count": value, "at": started}
        if ttl:
            cache.set_many(new_entries, ttl)
        oldest = started
    for key, entry in fresh.items():
        counts[key] = int(entry["count"])
        oldest = min(oldest, entry["at"])
    ordered = {key: counts[key] for key in conditions if key in counts}
    return SidebarCounts(
        counts=ordered,
        computed_at=dt.datetime.fromtimestamp(oldest, tz=dt.UTC),
        is_cached=is_cached,
        failed=frozenset(failed),
    )


# (what a condition depends on, the user's facts) -> (sql, params, cache key); bounded.
_SQL_MEMO: dict[Hashable, tuple[str, tuple[object, ...], str]] = {}
_SQL_MEMO_SIZE = 20_000


def _remember(key: Hashable, compiled: tuple[str, tuple[object, ...], str]) -> None:
    if len(_SQL_MEMO) >= _SQL_MEMO_SIZE:
        _SQL_MEMO.clear()
    _SQL_MEMO[key] = compiled


def _count_in_one_statement(statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
    """SELECT (SELECT COUNT(*) FROM (… LIMIT 10001) c0), (SELECT COUNT(*) FROM (…) c1), …:
    one round trip, each count planned on its own (its own index, unlike FILTER aggregates
    over one shared scan) and stopping after COUNT_LIMIT + 1 tickets."""
    parts: list[str] = []
    params: list[Any] = []
    for index, (sql, statement_params) in enumerate(statements):
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS c{index})")  # noqa: S608 - compiled
        params.extend(statement_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [int(value) for value in row]


def _changed_key(user_id: int) -> str:
    return f"ticket-counts-changed-by:{user_id}"


def forget_counts_of(user_id: int) -> None:
    """Whoever changed a ticket sees the change counted at once: counts computed before
    now are not served to them again."""
    cache.set(_changed_key(user_id), time.time(), MAX_COUNT_AGE_SECONDS * 6)


# --- Pipelines, statuses, teams -------------------------------------------------------------
# Every list page reads them for its rows and choices, and they change rarely: kept per
# process for a few seconds (core.local_cache, cleared when one is saved or deleted).
# Timestamps are left out: Django loads each timestamptz in Python.

_STAGE_FIELDS = (
    "id", "name", "builtin_key", "is_closed", "display_order", "pipeline_id",
    "pipeline__id", "pipeline__name", "pipeline__builtin_key", "pipeline__display_order",
)  # fmt: skip


def all_pipelines() -> list[Pipeline]:
    return cached(
        "ticket_views:pipelines",
        lambda: list(Pipeline.objects.only("id", "name", "builtin_key", "display_order")),
    )


def all_stages() -> list[Stage]:
    """Every status with its pipeline, in the pipelines' and their own order."""
    return cached(
        "ticket_views:stages",
        lambda: list(
            Stage.objects.select_related("pipeline")
            .only(*_STAGE_FIELDS)
            .order_by("pipeline__display_order", "display_order", "id")
        ),
    )


def all_teams() -> list[Team]:
    return cached(
        "ticket_views:teams", lambda: list(Team.objects.only("id", "name").order_by("name"))
    )


# --- Custom views ---------------------------------------------------------------------------


def visible_views_q(user: User, object_type: str = TICKET_OBJECT) -> Q:
    """The custom views of `object_type` records a user may see: their own private ones,
    team views of their teams, and everyone views."""
    return _visible_views_condition(user.pk, user_team_ids(user), object_type)


def _visible_views_condition(user_id: int, team_ids: Sequence[int], object_type: str) -> Q:
    condition = Q(sharing=Sharing.EVERYONE) | Q(sharing=Sharing.PRIVATE, created_by_id=user_id)
    if team_ids:
        # A subquery, not a join to the teams: each view once, however many teams match.
        shared = CustomView.teams.through.objects.filter(team_id__in=team_ids)
        condition |= Q(sharing=Sharing.TEAMS, pk__in=shared.values("customview_id"))
    return condition & Q(object_type=object_type)


def list_custom_views(user: User) -> list[CustomView]:
    """The ticket views the user may see, by name. Every workspace page draws them in its
    sidebar, so the statement is compiled once per process (core.precompiled: ~3 ms of
    Python per page otherwise)."""
    return list(
        precompiled_raw(
            CustomView, "ticket_views:visible", _visible_ticket_views, user.pk, *user_team_ids(user)
        )
    )


def _visible_ticket_views(user_id: int, *team_ids: int) -> QuerySet[CustomView]:
    views = CustomView.objects.filter(_visible_views_condition(user_id, team_ids, TICKET_OBJECT))
    # Without the timestamps no list shows (loading timestamptz is slow in Python); read
    # on access if ever needed.
    return views.defer("created_at", "updated_at").order_by("name", "id")


# --- Per request: what several parts of one page read ---------------------------------------
# A list page reads the property registry and the viewer's custom views in the view, the
# toolbar and the sidebar; each is read once per request and kept on the request (never
# longer, so a change shows on the next request and no access decision outlives it).


def request_specs(request: HttpRequest) -> dict[str, PropertySpec]:
    """filterable_specs(), read once per request."""
    specs: dict[str, PropertySpec] | None = getattr(request, "_svardesk_specs", None)
    if specs is None:
        specs = filterable_specs()
        request._svardesk_specs = specs  # type: ignore[attr-defined]
    return specs


def request_custom_views(request: HttpRequest) -> list[CustomView]:
    """list_custom_views() of the request's user, read once per request."""
    views: list[CustomView] | None = getattr(request, "_svardesk_custom_views", None)
    if views is None:
        views = list_custom_views(cast(User, request.user))
        request._svardesk_custom_views = views  # type: ignore[attr-defined]
    return views


def access_custom_view(
    view_id: object, *, actor: User, object_type: str = TICKET_OBJECT
) -> CustomView:
    """The view (of `object_type` records) if the actor may see it; NotFoundError otherwise
    (no hint that it exists)."""
    pk = parse_id(view_id)
    if pk is None:  # not an id, or past what the database stores
        raise NotFoundError("No such view")
    view = CustomView.objects.filter(visible_views_q(actor, object_type), pk=pk).first()
    if view is None:
        raise NotFoundError("No such view")
    return view


def may_edit_view(user: User, view: CustomView) -> bool:
    """Users with the Custom views permission (and super admins) edit the views they see;
    a private view only its creator sees anyway."""
    return user.may_manage_views


def count_custom_views() -> int:
    return CustomView.objects.filter(object_type=TICKET_OBJECT).count()


def custom_view_condition(
    view: CustomView, user: User, *, specs: Mapping[str, PropertySpec] | None = None
) -> Q:
    """The view's filters for this viewer ("me" is whoever looks). FilterError when a filter
    no longer applies (say, its custom property was deleted)."""
    return compile_filters(filters_from_data(view.filters), viewer=user, specs=specs)


def _custom_memo_key(view: CustomView, viewer_facts: Hashable) -> Hashable:
    """Everything a custom view's condition depends on besides the user's identity, access
    and teams: its filters, and (in `viewer_facts`) the property registry and the viewer's
    day and time zone (relative dates)."""
    return ("custom", json.dumps(view.filters, sort_keys=True, default=str), viewer_facts)


def _custom_condition(
    view: CustomView, user: User, specs: Mapping[str, PropertySpec]
) -> Callable[[], Q]:
    return lambda: custom_view_condition(view, user, specs=specs)


# --- The sidebar ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SidebarView:
    key: str
    label: str | Promise
    url: str
    count: int | None  # None: the view's filters no longer apply
    is_custom: bool = False

    @property
    def count_label(self) -> str:
        return count_label(self.count)

    @property
    def is_more(self) -> bool:
        return self.count is not None and self.count > COUNT_LIMIT


@dataclass(frozen=True)
class Sidebar:
    defaults: list[SidebarView]
    shared: list[SidebarView]
    private: list[SidebarView]
    computed_at: dt.datetime
    can_create_views: bool
    custom: list[CustomView] = field(default_factory=list)


def sidebar(
    user: User,
    *,
    specs: Mapping[str, PropertySpec] | None = None,
    views: list[CustomView] | None = None,
) -> Sidebar:
    """Default views and the user's custom views, each with its count (one statement).
    `specs` and `views`, when given, are filterable_specs() and list_custom_views(user)
    already read in this request."""
    views = list_custom_views(user) if views is None else views
    specs = filterable_specs() if specs is None else specs
    conditions: dict[str, Q | Callable[[], Q]] = {
        view.key: _default_condition(view, user) for view in DEFAULT_VIEWS
    }
    memo_keys: dict[str, Hashable] = {view.key: ("default", view.key) for view in DEFAULT_VIEWS}
    context = FilterContext.for_viewer(user)
    viewer_facts = (
        tuple((name, spec.type) for name, spec in specs.items() if not spec.is_builtin),
        str(context.tz),
        context.today.isoformat(),
    )
    for custom in views:
        conditions[custom.key] = _custom_condition(custom, user, specs)
        memo_keys[custom.key] = _custom_memo_key(custom, viewer_facts)
    counts = count_conditions(user, conditions, memo_keys=memo_keys)
    defaults = [
        SidebarView(view.key, view.label, _view_url(view.key), counts.counts[view.key])
        for view in DEFAULT_VIEWS
    ]
    shared: list[SidebarView] = []
    private: list[SidebarView] = []
    for custom in views:
        item = SidebarView(
            custom.key,
            custom.name,
            _view_url(custom.key),
            None if custom.key in counts.failed else counts.counts[custom.key],
            is_custom=True,
        )
        (private if custom.sharing == Sharing.PRIVATE else shared).append(item)
    return Sidebar(
        defaults=defaults,
        shared=shared,
        private=private,
        computed_at=counts.computed_at,
        can_create_views=user.may_manage_views,
        custom=views,
    )


@functools.cache
def _views_prefix() -> str:
    return reverse("ticket_views:view", args=["x"])[: -len("x/")]


def _view_url(key: str) -> str:
    """/views/<key>/ — default views and custom views ("custom-12") alike."""
    return f"{_views_prefix()}{key}/"


# --- Lists ----------------------------------------------------------------------------------


@dataclass
class TicketPage:
    tickets: list[Ticket]
    next_cursor: str | None
    has_previous: bool


_SORT_ANNOTATION = "list_sort_key"
# Nullable keys only, so the joins stay LEFT joins the planner cannot reorder: with an
# INNER join to teams, SQLite started from the team table and sorted 20,000 tickets.
# Statuses and teams (small tables) are attached from one query each.
_COMPACT_RELATED = ("contact", "owner")
# Timestamps only as needed (the one shown, and the sort's): Django loads each timestamptz
# in Python (~20 µs apiece), so three unused ones on 51 rows cost ~3 ms a page.
_COMPACT_FIELDS = (
    "id", "name", "preview", "priority", "source", "is_open", "last_activity_at", "category",
    "pipeline_id", "stage_id", "team_id", "owner_id", "contact_id", "version",
    "owner__first_name", "owner__last_name", "owner__email",
    "contact__first_name", "contact__last_name", "contact__email", "contact__phone",
)  # fmt: skip


def _encode_cursor(sort: Sort, value: object, pk: int) -> str:
    raw = json.dumps([sort.token, encode_sort_value(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: Sort, value_kind: str) -> tuple[object, int] | None:
    """The (sort value, id) a page starts after; None when the cursor is malformed or was
    made for another sort."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        token, raw_value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, json.JSONDecodeError):
        return None
    if token != sort.token or isinstance(pk, bool) or not isinstance(pk, int):
        return None
    if not 0 < pk <= MAX_ID:  # the database cannot bind a bigger int
        return None
    value = decode_sort_value(raw_value, value_kind)
    if value is None:
        return None
    return value, pk


def list_tickets(
    user: User,
    *,
    condition: Q | None = None,
    cursor: str | None = None,
    page_size: int | None = None,
    sort: Sort | None = None,
    with_custom: bool = False,
    compact: bool = False,
    known: Mapping[str, Mapping[Any, Any]] | None = None,
) -> TicketPage:
    """A page of tickets the user may see, in `sort` order (newest activity first by
    default) with the ticket id as tie-breaker, after `cursor`. `compact` loads only what
    the default list layout shows; otherwise whole tickets (`custom` too with
    `with_custom`) with their related objects."""
    page_size = page_size or settings.TICKET_LIST_PAGE_SIZE
    sort = sort or DEFAULT_SORT
    key = sort_key(sort)
    queryset: QuerySet[Ticket] = visible_tickets(user)
    if condition is not None:
        queryset = queryset.filter(condition)
    if key.field:
        path = key.field
    else:
        queryset = queryset.annotate(**{_SORT_ANNOTATION: key.expression})
        path = _SORT_ANNOTATION
    position = _decode_cursor(cursor, sort, key.value_kind) if cursor else None
    if position is not None:
        value, pk = position
        after = "lt" if sort.descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{path}__{after}": value}) | Q(**{path: value, f"pk__{after}": pk})
        )
    direction = "-" if sort.descending else ""
    ordered = queryset.order_by(f"{direction}{path}", f"{direction}id")
    if compact:
        # Just what the default row shows: a narrow join is cheaper than fetching whole
        # rows (and far cheaper than loading related objects one table at a time).
        fields: tuple[str, ...] = _COMPACT_FIELDS
        if key.field in ("created_at", "updated_at"):
            fields = (*fields, key.field)
        narrow = ordered.select_related(*_COMPACT_RELATED).only(*fields)
        rows = list(narrow[: page_size + 1])
        attach_related(rows, only=("stage", "team"), known=known)
    else:
        deferred = ["description"] if with_custom else ["description", "custom"]
        rows = list(ordered.defer(*deferred)[: page_size + 1])
        attach_related(rows, known=known)
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        value = getattr(last, _SORT_ANNOTATION) if not key.field else _field_value(last, path)
        next_cursor = _encode_cursor(sort, value, last.pk)
    return TicketPage(tickets=rows, next_cursor=next_cursor, has_previous=position is not None)


def attach_related(
    tickets: list[Ticket],
    *,
    only: tuple[str, ...] | None = None,
    known: Mapping[str, Mapping[Any, Any]] | None = None,
) -> None:
    """Give a page of tickets their contact, owner, status, team and pipeline with one small
    query each, instead of a five-way join whose planning costs more than its execution on
    a large table. `known` maps an attribute to every object of its table already read in
    this request by id (say, all statuses for the toolbar): those are not read again."""
    from django.contrib.auth import get_user_model

    from svardesk.crm.models import Contact
    from svardesk.teams.models import Team
    from svardesk.tickets.models import Pipeline, Stage

    def fetch(model: Any, attribute: str, fields: tuple[str, ...]) -> dict[Any, Any]:
        ids = {getattr(t, f"{attribute}_id") for t in tickets} - {None}
        return model._default_manager.only(*fields).in_bulk(ids) if ids else {}

    sources: dict[str, tuple[Any, tuple[str, ...]]] = {
        "contact": (Contact, ("id", "first_name", "last_name", "email", "phone")),
        "owner": (get_user_model(), ("id", "first_name", "last_name", "email")),
        "stage": (
            Stage,
            ("id", "name", "builtin_key", "is_closed", "pipeline_id", "display_order"),
        ),
        "team": (Team, ("id", "name")),
        "pipeline": (Pipeline, ("id", "name", "builtin_key", "display_order")),
    }
    related = {
        attribute: known[attribute]
        if known is not None and attribute in known
        else fetch(model, attribute, fields)
        for attribute, (model, fields) in sources.items()
        if only is None or attribute in only
    }
    for ticket in tickets:
        for attribute, objects in related.items():
            pk = getattr(ticket, f"{attribute}_id")
            if pk is not None and pk in objects:
                setattr(ticket, attribute, objects[pk])


def _field_value(ticket: Ticket, path: str) -> object:
    value: object = ticket
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def list_view_tickets(
    user: User, key: str, *, cursor: str | None = None, sort: Sort | None = None
) -> TicketPage:
    view = get_default_view(key)
    return list_tickets(user, condition=view.condition(user), cursor=cursor, sort=sort)
