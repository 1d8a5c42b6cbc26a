"""No query string makes a ticket list answer 5xx.

Random query strings go to every URL the ticket lists are made of — found by walking the
`ticket_views` URL patterns, so a list, filter or fragment URL added later is covered without
touching this test. Search has no URL of its own: it is `q=` (and its `after=` cursor) on every
list, so it is exercised on each of them. Each URL is asked as a page, as the HTMX list
fragment and as the live-refresh rows fragment, by an agent and by a team agent. Keys are the
lists' real parameters plus random ones; values are random text (other scripts' digits and
superscripts included), encoded filters, dates that do not exist, huge numbers, cursors.
Each example aims at one or more of the parsers a list request goes through (TARGETS): purely
random strings almost never reach a parser's corner.

Every other view of ours that reads `request.GET` (found by reading its source) gets random
query strings too, by GET only."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svardesk.ticket_views.defaults import DEFAULT_VIEWS
from svardesk.ticket_views.filters import (
    DATE,
    DATETIME,
    NUMBER,
    OPERATORS,
    TEAM,
    USER,
    filterable_specs,
    kind_of,
    operators_for,
)
from svardesk.ticket_views.models import CustomView
from svardesk.ticket_views.services import create_view
from svardesk.ticket_views.state import LAST_DAYS, NEXT_DAYS, QUICK_FILTERS
from svardesk.tickets.models import PropertyDefinition, Ticket
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db

# Per URL and user (a third of it for the other views): ~2,900 requests, about 40 s a
# database.
EXAMPLES = 120

# Every parameter the list, its toolbar, the advanced filters form, the criteria fragment,
# the sidebar counts and the view editor read.
LIST_KEYS = [
    "q", "f", "sort", "cols", "col", "after", *QUICK_FILTERS,
    "add_property", "add_operator", "add_value", "add_high", "add_days", "current",
    "name", "sharing", "teams", "remove", "action",
    "ticket", "next",  # the bulk bar's (with the quick filters' names)
]  # fmt: skip

CUSTOM_TYPES = {
    "plan": "text", "notes": "textarea", "seats": "number", "renewal": "date",
    "called_at": "datetime", "tier": "select", "tags": "multiselect", "vip": "checkbox",
    "reviewer": "user",
}  # fmt: skip

DIGITS = "0123456789²³¹٣٤١٢۳߃०໓༣၃០᠓𝟑"  # noqa: RUF001 - other scripts' digits are the point
SPECIAL = ":,\\#-_+.*/ @%&=?\x00\n"


def _text(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.text(alphabet=DIGITS + SPECIAL + "abcTZ", max_size=max_size),
    )


def _mostly(likely: st.SearchStrategy[Any], rest: st.SearchStrategy[Any]) -> Any:
    """`likely` three times in four: random input rarely hits a parser's corner by chance."""
    return st.one_of(likely, likely, likely, rest)


# Numbers as a URL carries them: any script's digits, ids that exist, huge ones.
digit_strings = st.text(alphabet=DIGITS, min_size=1, max_size=6)
odd_digits = st.text(alphabet=DIGITS[10:], min_size=1, max_size=3)  # none of them ASCII
numbers = st.one_of(
    odd_digits,
    digit_strings,
    st.integers(min_value=0, max_value=30).map(str),  # ids that exist
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.sampled_from(["0", "-1", "1e3", "2147483648", "9223372036854775807",
                     "9223372036854775808", "18446744073709551616", "1" * 30]),
)  # fmt: skip
# Dates that look right and do not exist (Feb 30, hour 25), edges of the calendar, and
# the relative and epoch forms a filter also takes.
impossible_dates = st.builds(
    "{:04d}-{:02d}-{:02d}{}".format,
    st.integers(0, 10000), st.integers(0, 13), st.integers(28, 32),
    st.sampled_from(["", "T10:00:00", "T25:00:00", "T10:00:00+00:00", "T23:59:60+14:00"]),
)  # fmt: skip
dates = st.one_of(
    impossible_dates,
    st.dates().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        ["2024-02-30", "2023-02-29", "0001-01-01", "9999-12-31", "2024-05-01T25:00:00",
         "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "last_9999_days",
         "next_٣_days", "last_0_days", "1714557600000", "99999999999999999999", "²" * 10]
    ),
)  # fmt: skip
scalars = st.one_of(
    st.just(""),
    _text(),
    numbers,
    dates,
    st.sampled_from(["me", "my_team", "none", "true", "gold", "a"]),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text(12),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=6,
)


def _b64(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _property_names() -> list[str]:
    return [*filterable_specs(), *CUSTOM_TYPES]  # read when drawn (custom ones are in the DB)


@st.composite
def encoded_filters(draw: st.DrawFn) -> str:
    """`f=` as the list writes it (property:OPERATOR:values): mostly an operator that fits
    the property, with values of its kind written oddly; sometimes anything."""
    specs = filterable_specs()
    prop = draw(_mostly(st.sampled_from(sorted(specs)), _text(8)))
    spec = specs.get(prop)
    fitting = list(operators_for(spec)) if spec else list(OPERATORS)
    operator = draw(
        _mostly(st.sampled_from(fitting), st.sampled_from([LAST_DAYS, NEXT_DAYS]) | _text(6))
    )
    kind = kind_of(spec) if spec else ""
    value = {DATE: dates, DATETIME: dates, NUMBER: numbers, USER: numbers, TEAM: numbers}.get(
        kind, scalars
    )
    if spec and spec.type in ("pipeline", "stage", "contact"):
        value = numbers
    values = draw(st.lists(_mostly(value, scalars), min_size=1, max_size=3))
    if draw(st.integers(0, 5)) == 0:
        return f"{prop}:{operator}"
    return f"{prop}:{operator}:" + ",".join(values)


SORT_TOKENS = ["-last_activity_at", "last_activity_at", "id", "-id", "-priority", "-created_at"]
cursor_values = st.one_of(dates, st.integers(), st.floats(), numbers, JSON)
cursor_ids = st.one_of(
    st.integers(min_value=1, max_value=30), st.integers(min_value=-(2**70), max_value=2**70),
    numbers, JSON,
)  # fmt: skip


@st.composite
def list_cursor(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A list page's `after=` made for the sort in use, with odd parts."""
    token = draw(st.sampled_from(SORT_TOKENS))
    after = _b64([token, draw(cursor_values), draw(cursor_ids)])
    return [("sort", token), ("after", after)]


@st.composite
def search_cursor(draw: st.DrawFn) -> list[tuple[str, str]]:
    """A search page's `after=` ("search", rank, last activity, id), with odd parts."""
    tier = draw(st.one_of(st.integers(1, 4), st.integers(), numbers, JSON))
    after = _b64(["search", tier, draw(cursor_values), draw(cursor_ids)])
    return [("q", draw(st.sampled_from(["printer", "åsa", "0701234567"]))), ("after", after)]


@st.composite
def advanced_form(draw: st.DrawFn) -> list[tuple[str, str]]:
    """The advanced filters form as submitted: a property, an operator offered for it (or
    the relative-days ones), and its value inputs."""
    specs = filterable_specs()
    prop = draw(_mostly(st.sampled_from(sorted(specs)), _text(8)))
    spec = specs.get(prop)
    offered = [*(operators_for(spec) if spec else OPERATORS), LAST_DAYS, NEXT_DAYS]
    operator = draw(st.one_of(st.sampled_from(offered), st.sampled_from([LAST_DAYS, NEXT_DAYS])))
    pairs = [
        ("add_property", prop),
        ("add_operator", operator),
        ("add_days", draw(_mostly(numbers, scalars))),  # read for the relative days only
    ]
    values = _mostly(st.one_of(numbers, dates), scalars)
    keys = draw(st.lists(st.sampled_from(["add_value", "add_high"]), max_size=3))
    return pairs + [(key, draw(values)) for key in keys]


def _one(key: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    return values.map(lambda value: [(key, value)])


# What one example aims at: each parser a list request goes through, with hostile input.
TARGETS: dict[str, st.SearchStrategy[list[tuple[str, str]]]] = {
    "search": _one("q", st.one_of(numbers, numbers.map(lambda d: f"#{d}"), dates, scalars)),
    "filter": st.lists(encoded_filters(), min_size=1, max_size=3).map(
        lambda items: [("f", item) for item in items]
    ),
    "quick": st.sampled_from(QUICK_FILTERS).flatmap(
        lambda name: _one(name, _mostly(numbers, scalars))
    ),
    "advanced form": advanced_form(),
    "list cursor": list_cursor(),
    "search cursor": search_cursor(),
    "any cursor": _one("after", st.one_of(JSON.map(_b64), _text(40))),
    "layout": st.sampled_from(["sort", "cols", "col"]).flatmap(
        lambda key: _one(key, st.one_of(st.sampled_from(SORT_TOKENS + _property_names()), scalars))
    ),
    "view editor save": st.fixed_dictionaries(
        {"name": _text(), "sharing": st.sampled_from(["everyone", "teams", "private"]) | scalars,
         "teams": _mostly(numbers, scalars), "sort": scalars, "cols": scalars}
    ).map(lambda form: [("action", "save"), *form.items()]),
    "editor and bulk bar": st.sampled_from(["name", "sharing", "teams", "remove", "action",
                                            "ticket", "next", "current"]).flatmap(
        lambda key: _one(key, _mostly(numbers, scalars))
    ),
}  # fmt: skip


@st.composite
def params(draw: st.DrawFn) -> list[tuple[str, str]]:
    """One to three targeted parts (each a parser's hostile input), plus a few parameters
    with any name and value."""
    pairs: list[tuple[str, str]] = []
    for target in draw(st.lists(st.sampled_from(sorted(TARGETS)), min_size=1, max_size=3)):
        pairs += draw(TARGETS[target])
    pairs += draw(st.lists(st.tuples(st.sampled_from(LIST_KEYS) | _text(8), scalars), max_size=2))
    return pairs


FRAGMENTS = {
    "page": {},
    "list": {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-list"},
    "rows": {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-rows"},
    "boosted": {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true"},
}


def _ticket_view_patterns() -> list[URLPattern]:
    """The URL patterns of the `ticket_views` app, wherever the project includes it."""
    found: list[URLPattern] = []

    def walk(patterns: list[Any], inside: bool) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, inside or pattern.app_name == "ticket_views")
            elif inside and isinstance(pattern, URLPattern):
                found.append(pattern)

    walk(get_resolver().url_patterns, False)
    return found


PATTERNS = _ticket_view_patterns()


def _reads_query_string(pattern: URLPattern) -> bool:
    view = inspect.unwrap(pattern.callback)
    try:
        return "request.GET" in inspect.getsource(view)
    except (OSError, TypeError):  # a class-based or built-in view: not ours to parse
        return False


def _other_query_patterns() -> list[tuple[str, URLPattern]]:
    """(namespace, pattern) of every other view of ours that reads its query string: the
    ticket page's way back to its list, the create panel's statuses, the mention search…"""
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif (
                namespace not in ("", "ticket_views")
                and pattern.callback.__module__.startswith("svardesk.")
                and _reads_query_string(pattern)
            ):
                found.append((namespace, pattern))

    walk(get_resolver().url_patterns, "")
    return found


OTHER_PATTERNS = _other_query_patterns()


def test_the_walk_finds_the_list_urls():
    names = {pattern.name for pattern in PATTERNS}
    assert names >= {"all", "view", "custom", "criteria", "create", "edit", "sidebar_counts"}
    others = {f"{namespace}:{pattern.name}" for namespace, pattern in OTHER_PATTERNS}
    assert others >= {"tickets:detail", "tickets:stage_options", "conversations:mentions"}


@st.composite
def url_kwargs(draw: st.DrawFn, pattern: URLPattern, ids: list[int]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for name, converter in pattern.pattern.converters.items():  # type: ignore[attr-defined]
        if isinstance(converter, IntConverter):
            kwargs[name] = draw(st.sampled_from(ids) | st.integers(min_value=0, max_value=10**30))
        else:  # a slug: a default view's key, or not
            keys = [view.key for view in DEFAULT_VIEWS]
            slugs = st.from_regex(r"[-a-zA-Z0-9_]{1,20}", fullmatch=True)
            kwargs[name] = draw(st.sampled_from(keys) | slugs)
    return kwargs


@pytest.fixture
def world(agent, team_agent, super_admin, support_team, billing_team):
    """Tickets with custom values, and custom views that every list user may open."""
    for name, kind in CUSTOM_TYPES.items():
        options = [{"value": v, "label": v.title()} for v in ("gold", "silver", "a", "b")]
        PropertyDefinition.objects.create(
            name=name, label=name.title(), type=kind,
            options=options if kind in ("select", "multiselect") else [],
        )  # fmt: skip
    contact = ContactFactory(first_name="Åsa", last_name="Ström", phone="+46 70-123 45 67")
    customs = [
        {"plan": "Pro", "seats": 10, "renewal": "2024-04-01", "tier": "gold", "tags": ["a"],
         "vip": True, "reviewer": agent.pk, "called_at": "2024-03-31T22:30:00+00:00"},
        {"seats": "many", "tier": 5, "tags": "a", "vip": "yes", "reviewer": "someone"},
        {},
    ]  # fmt: skip
    for i in range(6):
        TicketFactory(
            name=f"Printer {i} ²",
            team=[support_team, billing_team, None][i % 3],
            owner=[agent, team_agent, None][i % 3],
            contact=contact if i % 2 else None,
            custom=customs[i % 3],
        )
    for sharing in ("everyone", "private"):
        create_view(
            actor=super_admin, name=f"Gold {sharing}", sharing=sharing,
            filters=[], sort="-seats", columns=["name", "seats", "tier", "renewal"],
        )  # fmt: skip
    # The agent may edit views, the team agent may not: the editor is fuzzed as well.
    agent.can_manage_views = True
    agent.save(update_fields=["can_manage_views"])
    return list(CustomView.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["agent", "team_agent"])
@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_no_query_string_gets_a_server_error(client, request, world, pattern, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    client.raise_request_exception = False  # a 500 is what we look for, not a traceback

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        kwargs=url_kwargs(pattern, world),
        query=params(),
        fragment=st.sampled_from(sorted(FRAGMENTS)),
        method=st.sampled_from(["get", "post"]),
    )
    def run(kwargs: dict[str, Any], query: list[tuple[str, str]], fragment: str, method: str):
        url = reverse(f"ticket_views:{pattern.name}", kwargs=kwargs)
        data: dict[str, list[str]] = {}
        for key, value in query:
            data.setdefault(key, []).append(value)
        response = getattr(client, method)(url, data, **FRAGMENTS[fragment])
        if response.status_code == 405:  # a form's target (bulk actions, delete): post to it
            method = "post"
            response = client.post(url, data, **FRAGMENTS[fragment])
        assert response.status_code < 500, (method, url, query, fragment)

    run()


OTHER_KEYS = ["q", "view", "pipeline", "inline", "page", "next", "current"]


@pytest.mark.parametrize("who", ["agent", "team_agent", "super_admin"])  # settings pages too
@pytest.mark.parametrize(
    ("namespace", "pattern"), OTHER_PATTERNS, ids=[f"{n}:{p.name}" for n, p in OTHER_PATTERNS]
)
def test_no_query_string_gets_other_views_a_server_error(
    client, request, world, namespace, pattern, who
):
    """The same for the other views that read a query string (GET only: their forms and
    actions are their own apps' to test)."""
    client.force_login(request.getfixturevalue(who))
    client.raise_request_exception = False
    ids = sorted({*world, *Ticket.objects.values_list("pk", flat=True)})
    keys = st.sampled_from(OTHER_KEYS) | _text(8)

    @settings(
        max_examples=EXAMPLES // 3,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        kwargs=url_kwargs(pattern, ids),
        query=st.lists(st.tuples(keys, _mostly(numbers, scalars)), max_size=4),
        fragment=st.sampled_from(sorted(FRAGMENTS)),
    )
    def run(kwargs: dict[str, Any], query: list[tuple[str, str]], fragment: str) -> None:
        url = reverse(f"{namespace}:{pattern.name}", kwargs=kwargs)
        data: dict[str, list[str]] = {}
        for key, value in query:
            data.setdefault(key, []).append(value)
        response = client.get(url, data, **FRAGMENTS[fragment])
        assert response.status_code < 500, (url, query, fragment)

    run()
