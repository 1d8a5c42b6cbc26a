"""Every filter operator, on built-in and custom properties, against a brute-force oracle:
Python evaluates each filter over the same tickets, independently of the engine, and the
database must return exactly those tickets (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from svardesk.ticket_views import filters as f
from svardesk.ticket_views.filters import Filter, FilterError, compile_filters, validate_filter
from svardesk.tickets.models import PropertyDefinition, Ticket
from tests.factories import ContactFactory, TeamFactory, TicketFactory, UserFactory, stage_named

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
NOW = dt.datetime(2024, 3, 31, 22, 30, tzinfo=dt.UTC)  # 00:30 on April 1st in Stockholm
WORDS = ["export", "Invoice", "login", "EXPORT failed", "refund", "", "a_b%c"]
TIERS = ["gold", "silver", "Gold"]
TAGS = ["a", "b", "c"]

CUSTOM = {
    "plan": "text",
    "seats": "number",
    "renewal": "date",
    "called_at": "datetime",
    "tier": "select",
    "tags": "multiselect",
    "vip": "checkbox",
    "reviewer": "user",
}


def _days(n: float) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


@pytest.fixture
def world(db, support_team, billing_team):
    """Tickets covering every kind of value, including unknown and wrongly typed ones."""
    for name, kind in CUSTOM.items():
        options = []
        if kind == "select":
            options = [{"value": v, "label": v.title()} for v in TIERS]
        if kind == "multiselect":
            options = [{"value": v, "label": v.upper()} for v in TAGS]
        PropertyDefinition.objects.create(name=name, label=name.title(), type=kind, options=options)
    viewer = UserFactory(time_zone="Europe/Stockholm", teams=[support_team])
    other = UserFactory()
    extra_team = TeamFactory(name="Extra")
    contact = ContactFactory()
    users = [viewer, other, None]
    teams = [support_team, billing_team, extra_team, None]
    priorities = ["", "LOW", "MEDIUM", "HIGH", "URGENT"]
    customs: list[dict[str, Any]] = [
        {},
        {"plan": "Export pro", "seats": 10, "renewal": "2024-04-01", "tier": "gold",
         "tags": ["a", "b"], "vip": True, "reviewer": viewer.pk,
         "called_at": "2024-03-31T22:30:00+00:00"},
        {"plan": "", "seats": 2.5, "renewal": "2024-03-31", "tier": "silver", "tags": [],
         "vip": False, "reviewer": other.pk, "called_at": "2024-03-31T21:59:59.500000+00:00"},
        {"plan": "basic", "seats": "many", "renewal": "2024-05-10", "tier": "Gold",
         "tags": ["c"], "called_at": "2024-04-01T00:00:00+00:00"},
        {"plan": None, "seats": -3, "tier": 5, "tags": "a", "vip": "yes",
         "reviewer": "someone", "renewal": "2023-12-24"},
        {"plan": "EXPORT", "seats": 0, "tags": ["b", "c", "a"], "vip": False,
         "called_at": "2024-02-29T12:00:00+00:00"},
    ]  # fmt: skip
    stages = [stage_named("New"), stage_named("Waiting on us"), stage_named("Closed")]
    for i in range(36):
        stage = stages[i % 3]
        _days(-(i % 11) * 1.7 - 0.3)
        TicketFactory(
            name=WORDS[i % len(WORDS)] or "Plain",
            description=WORDS[(i * 3) % len(WORDS)],
            priority=priorities[i % 5],
            category=["", "BILLING_ISSUE", "PRODUCT_ISSUE"][i % 3],
            owner=users[i % 3],
            team=teams[i % 4],
            contact=contact if i % 2 else None,
            stage=stage,
            is_open=not stage.is_closed,
            closed_at=_days(-i * 0.9) if stage.is_closed else None,
            last_activity_at=_days(-(i % 9) * 2.3 + (3 if i % 7 == 0 else 0)),
            custom=customs[i % len(customs)],
        )
    for ticket in Ticket.objects.all():
        Ticket.objects.filter(pk=ticket.pk).update(created_at=_days(-(ticket.pk % 13) * 1.1))
    return {"viewer": viewer, "other": other, "teams": teams, "users": users}


# --- The oracle ---------------------------------------------------------------------------


def _row(ticket: Ticket) -> dict[str, Any]:
    return {
        "id": ticket.pk, "name": ticket.name, "description": ticket.description,
        "pipeline": ticket.pipeline_id, "stage": ticket.stage_id, "priority": ticket.priority,
        "category": ticket.category, "owner": ticket.owner_id, "team": ticket.team_id,
        "contact": ticket.contact_id, "source": ticket.source, "created_at": ticket.created_at,
        "updated_at": ticket.updated_at, "closed_at": ticket.closed_at,
        "last_activity_at": ticket.last_activity_at, "custom": ticket.custom,
    }  # fmt: skip


BUILTIN_KINDS = {
    "id": f.NUMBER, "name": f.TEXT, "description": f.TEXT, "pipeline": f.REF, "stage": f.REF,
    "priority": f.ENUM, "category": f.ENUM, "owner": f.USER, "team": f.TEAM, "contact": f.REF,
    "source": f.ENUM, "created_at": f.DATETIME, "updated_at": f.DATETIME,
    "closed_at": f.DATETIME, "last_activity_at": f.DATETIME,
}  # fmt: skip
CUSTOM_KINDS = {
    "plan": f.TEXT, "seats": f.NUMBER, "renewal": f.DATE, "called_at": f.DATETIME,
    "tier": f.ENUM, "tags": f.MULTI, "vip": f.CHECKBOX, "reviewer": f.USER,
}  # fmt: skip


def _value(row: dict[str, Any], prop: str) -> Any:
    """The property's value, or None when unknown — as the documented rules say."""
    if prop in BUILTIN_KINDS:
        value = row[prop]
        return None if value in ("", None) else value
    raw = row["custom"].get(prop)
    kind = CUSTOM_KINDS[prop]
    if kind in (f.TEXT, f.ENUM):
        return raw if isinstance(raw, str) and raw != "" else None
    if kind in (f.NUMBER, f.USER):
        return raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
    if kind == f.CHECKBOX:
        return raw if isinstance(raw, bool) else None
    if kind == f.MULTI:
        return raw if isinstance(raw, list) and raw else None
    if kind == f.DATE:
        return dt.date.fromisoformat(raw) if isinstance(raw, str) and raw else None
    if kind == f.DATETIME:
        return dt.datetime.fromisoformat(raw) if isinstance(raw, str) and raw else None
    raise AssertionError(kind)


def _moment(raw: Any) -> dt.date | dt.datetime:
    text = str(raw)
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=STOCKHOLM)


def _start(kind: str, moment: dt.date | dt.datetime) -> Any:
    if kind == f.DATE:
        return moment.astimezone(STOCKHOLM).date() if isinstance(moment, dt.datetime) else moment
    if isinstance(moment, dt.datetime):
        return moment
    return dt.datetime.combine(moment, dt.time.min, tzinfo=STOCKHOLM)


def _compare_moments(kind: str, value: Any, op: str, target: Any) -> bool:
    """Dates compare as days in Stockholm; instants compare exactly (on datetimes)."""
    if isinstance(target, dt.datetime) and kind == f.DATETIME:
        left, right = value, target
    else:
        left = value.astimezone(STOCKHOLM).date() if isinstance(value, dt.datetime) else value
        right = target.astimezone(STOCKHOLM).date() if isinstance(target, dt.datetime) else target
    return {
        "EQ": left == right, "LT": left < right, "LTE": left <= right,
        "GT": left > right, "GTE": left >= right,
    }[op]  # fmt: skip


def oracle(row: dict[str, Any], item: Filter, viewer: Any) -> bool:
    kind = BUILTIN_KINDS.get(item.property) or CUSTOM_KINDS[item.property]
    value = _value(row, item.property)
    op = item.operator
    if op == "HAS_PROPERTY":
        return value is not None
    if op == "NOT_HAS_PROPERTY":
        return value is None
    negative = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
    if op in negative:
        return not oracle(row, Filter(item.property, negative[op], item.value,
                                      item.high_value, item.values), viewer)  # fmt: skip
    if value is None:
        return False
    if kind in (f.DATE, f.DATETIME):
        if op == "BETWEEN":
            if str(item.value).endswith("_days"):
                direction, days = str(item.value).split("_")[:2]
                today = NOW.astimezone(STOCKHOLM).date()
                day = (
                    value.astimezone(STOCKHOLM).date() if isinstance(value, dt.datetime) else value
                )
                span = dt.timedelta(days=int(days))
                if direction == "last":
                    return today - span <= day <= today
                return today <= day <= today + span
            low, high = _moment(item.value), _moment(item.high_value)
            if _start(kind, high) < _start(kind, low):  # "between" the earlier and the later
                low, high = high, low
            return _compare_moments(kind, value, "GTE", low) and _compare_moments(
                kind, value, "LTE", high
            )
        return _compare_moments(kind, value, op, _moment(item.value))
    if kind == f.MULTI:
        wanted = [str(v) for v in (item.values or [item.value])]
        if op == "CONTAINS_TOKEN":
            return all(w in value for w in wanted)
        return any(w in value for w in wanted)
    if op == "CONTAINS_TOKEN":
        return str(item.value).strip("*").strip().lower() in value.lower()
    candidates = list(item.values) if op == "IN" else [item.value]
    if op in ("EQ", "IN"):
        resolved: list[Any] = []
        for candidate in candidates:
            if candidate == "me":
                resolved.append(viewer.pk)
            elif candidate == "my_team":
                resolved.extend(t.pk for t in viewer.teams.all())
            else:
                resolved.append(candidate)
        if kind == f.TEXT:
            return any(str(c).lower() == value.lower() for c in resolved)
        if kind == f.NUMBER:
            return any(float(c) == float(value) for c in resolved)
        if kind == f.CHECKBOX:
            return any((str(c).lower() == "true") == value for c in resolved)
        if kind in (f.USER, f.TEAM, f.REF):
            return any(int(c) == value for c in resolved)
        return any(str(c) == value for c in resolved)
    number = float(value)
    if op == "BETWEEN":
        low, high = sorted((float(item.value), float(item.high_value)))
        return low <= number <= high
    target = float(item.value)
    return {"LT": number < target, "LTE": number <= target,
            "GT": number > target, "GTE": number >= target}[op]  # fmt: skip


# --- Strategies -----------------------------------------------------------------------------


def _values_for(kind: str, prop: str, world: dict[str, Any]) -> st.SearchStrategy[Any]:
    viewer, other = world["viewer"], world["other"]
    teams = [t.pk for t in world["teams"] if t]
    if kind == f.TEXT:
        return st.sampled_from(["export", "EXPORT", "invoice", "xport", "*export*", "a_b%c",
                                "basic", "Export pro", "plain", "zzz", "*"])  # fmt: skip
    if kind == f.NUMBER:
        if prop == "id":
            first = Ticket.objects.order_by("pk").first().pk
            return st.integers(first - 2, first + 40)
        return st.sampled_from([-3, 0, 2.5, 10, 11, 1, -1])
    if kind in (f.DATE, f.DATETIME):
        days = st.integers(-25, 6).map(lambda n: (NOW + dt.timedelta(days=n)).date().isoformat())
        instants = st.sampled_from([
            "2024-03-31T22:30:00+00:00", "2024-04-01T00:00:00", "2024-03-31T21:59:59.500000+00:00",
            "2024-03-20T08:00:00+01:00",
        ])  # fmt: skip
        return st.one_of(days, instants)
    if kind == f.ENUM:
        if prop == "priority":
            return st.sampled_from(["LOW", "MEDIUM", "HIGH", "URGENT"])
        if prop == "category":
            return st.sampled_from(["BILLING_ISSUE", "PRODUCT_ISSUE", "GENERAL_INQUIRY"])
        if prop == "source":
            return st.sampled_from(["MANUAL", "EMAIL"])
        return st.sampled_from(TIERS)
    if kind == f.MULTI:
        return st.sampled_from(TAGS)
    if kind == f.CHECKBOX:
        return st.sampled_from(["true", "false"])
    if kind == f.USER:
        return st.sampled_from(["me", str(viewer.pk), str(other.pk)])
    if kind == f.TEAM:
        return st.sampled_from(["my_team", *map(str, teams)])
    if prop == "stage":
        return st.sampled_from([str(stage_named(n).pk) for n in ("New", "Closed", "Waiting on us")])
    if prop == "pipeline":
        return st.just(str(stage_named("New").pipeline_id))
    return st.sampled_from(
        [
            str(c)
            for c in Ticket.objects.exclude(contact=None).values_list("contact_id", flat=True)[:1]
        ]
        or ["1"]
    )


@st.composite
def filters(draw: Any, world: dict[str, Any]) -> Filter:
    prop = draw(st.sampled_from(sorted({**BUILTIN_KINDS, **CUSTOM_KINDS})))
    kind = BUILTIN_KINDS.get(prop) or CUSTOM_KINDS[prop]
    operator = draw(st.sampled_from(f.KIND_OPERATORS[kind]))
    values = _values_for(kind, prop, world)
    if operator in f.NO_VALUE:
        return Filter(prop, operator)
    if operator == "BETWEEN":
        if kind in (f.DATE, f.DATETIME) and draw(st.booleans()):
            direction = draw(st.sampled_from(["last", "next"]))
            return Filter(prop, operator, value=f"{direction}_{draw(st.integers(0, 30))}_days")
        return Filter(prop, operator, value=draw(values), high_value=draw(values))
    if operator in ("IN", "NOT_IN") or (kind == f.MULTI and "CONTAINS" in operator):
        return Filter(prop, operator, values=tuple(draw(st.lists(values, min_size=1, max_size=3))))
    return Filter(prop, operator, value=draw(values))


def _matching(items: list[Filter], viewer: Any) -> tuple[set[int], set[int]]:
    got = set(
        Ticket.objects.filter(compile_filters(items, viewer=viewer, now=NOW)).values_list(
            "pk", flat=True
        )
    )
    rows = [_row(t) for t in Ticket.objects.all()]
    expected = {row["id"] for row in rows if all(oracle(row, item, viewer) for item in items)}
    return got, expected


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_operator_matches_the_oracle(world, data):
    item = data.draw(filters(world))
    got, expected = _matching([item], world["viewer"])
    assert got == expected, item


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_conditions_join_with_and(world, data):
    items = data.draw(st.lists(filters(world), min_size=2, max_size=4))
    got, expected = _matching(items, world["viewer"])
    assert got == expected, items


@pytest.mark.parametrize(
    "item",
    [
        Filter("name", "CONTAINS_TOKEN", "export"),
        Filter("seats", "GT", "1"),
        Filter("renewal", "LTE", "2024-03-31"),
        Filter("called_at", "EQ", "2024-04-01"),
        Filter("tier", "IN", values=("gold",)),
        Filter("tags", "CONTAINS_TOKEN", values=("a", "b")),
        Filter("vip", "EQ", "false"),
        Filter("owner", "NOT_HAS_PROPERTY"),
        Filter("closed_at", "BETWEEN", "last_10_days"),
    ],
    ids=lambda item: f"{item.property}-{item.operator}",
)
def test_the_sample_data_splits_on_every_kind(world, item):
    """Each kind of condition keeps some tickets and drops others, so an engine answering
    "all" or "none" fails the oracle comparisons above."""
    got, expected = _matching([item], world["viewer"])
    assert got == expected
    assert 0 < len(got) < Ticket.objects.count()


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (Filter("nope", "EQ", "x"), "no property"),
        (Filter("priority", "LT", "HIGH"), "does not apply"),
        (Filter("seats", "GT", "ten"), "number"),
        (Filter("created_at", "EQ", "yesterday"), "date"),
        (Filter("owner", "IN"), "at least one"),
        (Filter("created_at", "EQ", "last_7_days"), "range"),
        (Filter("priority", "FUZZY", "x"), "Unknown operator"),
    ],
    ids=[
        "unknown-property",
        "wrong-operator",
        "bad-number",
        "bad-date",
        "no-values",
        "relative-needs-between",
        "unknown-operator",
    ],
)
def test_invalid_filters_are_refused_with_a_reason(world, item, message):
    with pytest.raises(FilterError, match=message):
        validate_filter(item)


def test_me_and_my_team_resolve_for_whoever_looks(world, support_team, billing_team):
    mine = Filter("owner", "EQ", "me")
    team = Filter("team", "IN", values=("my_team",))
    viewer, other = world["viewer"], world["other"]
    owned_by = set(Ticket.objects.filter(owner=viewer).values_list("pk", flat=True))
    assert (
        set(
            Ticket.objects.filter(compile_filters([mine], viewer=viewer)).values_list(
                "pk", flat=True
            )
        )
        == owned_by
    )
    theirs = set(Ticket.objects.filter(owner=other).values_list("pk", flat=True))
    assert (
        set(
            Ticket.objects.filter(compile_filters([mine], viewer=other)).values_list(
                "pk", flat=True
            )
        )
        == theirs
    )
    support = set(Ticket.objects.filter(team=support_team).values_list("pk", flat=True))
    assert (
        set(
            Ticket.objects.filter(compile_filters([team], viewer=viewer)).values_list(
                "pk", flat=True
            )
        )
        == support
    )
    assert not Ticket.objects.filter(compile_filters([team], viewer=other)).exists()


def test_last_days_follow_the_viewers_time_zone(world):
    """At 22:30 UTC on March 31st it is already April 1st in Stockholm: "in the last 0 days"
    (today) is a different day for a viewer in Stockholm than for one in UTC."""
    late_utc, early_utc = Ticket.objects.order_by("pk")[:2]
    Ticket.objects.filter(pk=late_utc.pk).update(
        last_activity_at=dt.datetime(2024, 3, 31, 21, 50, tzinfo=dt.UTC)
    )
    Ticket.objects.filter(pk=early_utc.pk).update(
        last_activity_at=dt.datetime(2024, 4, 1, 0, 10, tzinfo=dt.UTC)
    )
    today = [Filter("last_activity_at", "BETWEEN", "last_0_days")]
    utc_viewer = UserFactory(time_zone="UTC")

    def matching(viewer):
        condition = compile_filters(today, viewer=viewer, now=NOW)
        return set(Ticket.objects.filter(condition).values_list("pk", flat=True))

    stockholm, utc = matching(world["viewer"]), matching(utc_viewer)
    assert (late_utc.pk in stockholm, early_utc.pk in stockholm) == (False, True)
    assert (late_utc.pk in utc, early_utc.pk in utc) == (True, False)


def test_filter_data_round_trips():
    item = Filter("tags", "IN", values=("a", "b"))
    assert Filter.from_data(item.to_data()) == item
    with pytest.raises(FilterError):
        Filter.from_data({"property": "x"})
