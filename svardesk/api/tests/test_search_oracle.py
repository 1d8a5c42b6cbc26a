"""Search against a brute-force oracle: random filter groups over 60 varied tickets, every
answer (paged through, in its sort order, with its total) compared with a plain Python
evaluation of the same filters over the tickets as the API reads them back."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import pytest
from hubspot.crm.contacts import PublicObjectSearchRequest as ContactSearch
from hubspot.crm.tickets import PublicObjectSearchRequest

from svardesk.tickets import services as ticket_services
from svardesk.tickets.models import Stage, Ticket
from tests.factories import UserFactory, default_pipeline

pytestmark = pytest.mark.django_db(transaction=True)

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
WORDS = ["alpha", "Beta", "gamma", "DELTA", "echo", "foxtrot"]
PROPERTIES = [
    "subject", "content", "hs_ticket_priority", "hs_ticket_category", "hs_pipeline_stage",
    "hubspot_owner_id", "createdate", "hs_object_id", "score", "tags", "due_on",
]  # fmt: skip
KINDS = {
    "subject": "text",
    "content": "text",
    "hs_ticket_priority": "enum",
    "hs_ticket_category": "enum",
    "hs_pipeline_stage": "ref",
    "hubspot_owner_id": "ref",
    "createdate": "datetime",
    "hs_object_id": "number",
    "score": "number",
    "tags": "multi",
    "due_on": "date",
}
OPERATORS = {
    "text": ["EQ", "NEQ", "IN", "NOT_IN", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
             "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
    "enum": ["EQ", "NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
    "ref": ["EQ", "NEQ", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
    "number": ["EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
               "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
    "datetime": ["EQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "HAS_PROPERTY",
                 "NOT_HAS_PROPERTY"],
    "date": ["EQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
    "multi": ["EQ", "NEQ", "IN", "NOT_IN", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
              "HAS_PROPERTY", "NOT_HAS_PROPERTY"],
}  # fmt: skip
NEGATIVE = {"NEQ": "EQ", "NOT_IN": "IN", "NOT_CONTAINS_TOKEN": "CONTAINS_TOKEN"}
SORTS: list[Any] = [
    None,
    "createdate",
    "-createdate",
    {"propertyName": "createdate", "direction": "DESCENDING"},
    {"propertyName": "hs_object_id", "direction": "DESCENDING"},
    {"propertyName": "score", "direction": "ASCENDING"},
    {"propertyName": "score", "direction": "DESCENDING"},
]


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def tickets(super_admin):
    ticket_services.create_property_definition(
        actor=None, name="score", label="Score", type="number"
    )
    ticket_services.create_property_definition(
        actor=None, name="due_on", label="Due on", type="date"
    )
    ticket_services.create_property_definition(
        actor=None,
        name="tags",
        label="Tags",
        type="multiselect",
        options=[{"value": v, "label": v.upper()} for v in ("a", "b", "c")],
    )
    rng = random.Random(1405)
    pipeline = default_pipeline()
    stages = list(Stage.objects.filter(pipeline=pipeline))
    owners = [None, UserFactory(), UserFactory()]
    made = []
    for _ in range(60):
        custom: dict[str, Any] = {}
        if rng.random() < 0.7:
            custom["score"] = rng.choice([rng.randint(0, 20), rng.randint(0, 20) + 0.5])
        if rng.random() < 0.6:
            custom["due_on"] = f"2024-06-{rng.randint(1, 9):02d}"
        tags = [t for t in ("a", "b", "c") if rng.random() < 0.4]
        if tags:
            custom["tags"] = tags
        ticket = ticket_services.create_ticket(
            actor=None,
            name=" ".join(rng.sample(WORDS, 2)),
            description=" ".join(rng.sample(WORDS, 2)) if rng.random() < 0.6 else "",
            pipeline=pipeline,
            stage=rng.choice(stages),
            priority=rng.choice(["", "LOW", "MEDIUM", "HIGH", "URGENT"]),
            category=rng.choice(["", "PRODUCT_ISSUE", "BILLING_ISSUE"]),
            owner=rng.choice(owners),
            custom=custom,
        )
        made.append(ticket.pk)
        # Creation dates in whole hours, many shared: sorting must break ties by id.
        created = BASE + dt.timedelta(hours=rng.randint(0, 30))
        Ticket.objects.filter(pk=ticket.pk).update(created_at=created)
    return made


def read_back(client) -> dict[int, dict[str, str | None]]:
    page = client.crm.tickets.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(properties=PROPERTIES, limit=100)
    )
    assert page.paging is None
    return {int(r.id): r.properties for r in page.results}


# --- The oracle -------------------------------------------------------------------------------


def known(value: str | None) -> bool:
    return value not in (None, "")


def holds(
    item: dict[str, Any], props: dict[str, str | None], kinds: dict[str, str] = KINDS
) -> bool:
    name, operator = item["propertyName"], item["operator"]
    value = props.get(name)
    if operator == "HAS_PROPERTY":
        return known(value)
    if operator == "NOT_HAS_PROPERTY":
        return not known(value)
    if operator in NEGATIVE:
        return not holds({**item, "operator": NEGATIVE[operator]}, props, kinds)
    if not known(value):
        return False
    assert value is not None
    kind = kinds[name]
    wanted = item.get("values") or [item.get("value")]
    if kind == "text":
        if operator == "CONTAINS_TOKEN":
            return item["value"].strip("*").lower() in value.lower()
        return value.lower() in {w.lower() for w in wanted}
    if kind in ("enum", "ref"):
        return value in wanted
    if kind == "multi":
        held = set(value.split(";"))
        if operator == "CONTAINS_TOKEN":
            return set(wanted) <= held
        return bool(held & set(wanted))
    convert: Callable[[Any], Any]
    if kind == "number":
        convert = float
    elif kind == "datetime":
        convert = lambda v: ms(parse_iso(v)) if "T" in str(v) else int(v)  # noqa: E731
    else:
        convert = str
    mine = convert(value)
    if operator in ("EQ", "IN"):
        return mine in {convert(w) for w in wanted}
    target = convert(item["value"])
    if operator == "BETWEEN":
        low, high = sorted([target, convert(item["highValue"])])
        return low <= mine <= high
    return {
        "LT": mine < target,
        "LTE": mine <= target,
        "GT": mine > target,
        "GTE": mine >= target,
    }[operator]


def expected(
    groups: list[list[dict[str, Any]]],
    sort: Any,
    back: dict[int, dict[str, str | None]],
    kinds: dict[str, str] = KINDS,
) -> list[int]:
    matching = [pk for pk, props in back.items() if any(all(holds(f, props, kinds) for f in g) for g in groups)]  # fmt: skip
    if not groups:
        matching = list(back)
    name, descending = "createdate", False
    if isinstance(sort, str):
        name, descending = sort.lstrip("-"), sort.startswith("-")
    elif isinstance(sort, dict):
        name, descending = sort["propertyName"], sort["direction"] == "DESCENDING"

    def key(pk: int) -> tuple[Any, int]:
        value = back[pk].get(name)
        if name == "createdate":
            return (parse_iso(value or ""), pk)
        return (float(value) if known(value) else -1e300, pk)

    return sorted(matching, key=key, reverse=descending)


# --- Random requests ------------------------------------------------------------------------


def random_filter(
    rng: random.Random,
    back: dict[int, dict[str, str | None]],
    kinds: dict[str, str] = KINDS,
) -> dict[str, Any]:
    name = rng.choice(list(kinds))
    kind = kinds[name]
    operator = rng.choice(OPERATORS[kind])
    item: dict[str, Any] = {"propertyName": name, "operator": operator}
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return item
    seen = [p[name] for p in back.values() if known(p.get(name))]

    def sample() -> str:
        if kind == "text":
            word = rng.choice(WORDS)
            if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
                if name == "email":
                    return rng.choice(["*@acme.example", "acme", "EXAMPLE", word[:3]])
                return rng.choice([word, word.upper()[:3], f"*{word[1:4]}*"])
            # A whole value, in another case now and then (text ignores case).
            value = rng.choice(seen) if seen and rng.random() < 0.7 else word
            return value.swapcase() if rng.random() < 0.3 else value
        if kind == "multi":
            return rng.choice(["a", "b", "c"])
        if kind == "datetime":
            moment = parse_iso(rng.choice(seen))
            return str(ms(moment + dt.timedelta(minutes=rng.choice([0, 0, -30, 30]))))
        if kind == "date":
            return f"2024-06-{rng.randint(1, 9):02d}"
        if kind == "number" and name in ("score", "visits"):
            return str(rng.choice([rng.randint(0, 20), rng.randint(0, 20) + 0.5]))
        return rng.choice(seen) if seen else "1"

    if operator in ("IN", "NOT_IN") or (kind == "multi" and "CONTAINS" in operator):
        item["values"] = list(dict.fromkeys(sample() for _ in range(rng.randint(1, 3))))
        if kind == "text" and operator in ("IN", "NOT_IN"):
            # HubSpot: IN values of string properties are lowercase.
            item["values"] = [v.lower() for v in item["values"]]
        if kind == "multi" and "CONTAINS" in operator and rng.random() < 0.5:
            item["value"] = item.pop("values")[0]
    elif operator == "BETWEEN":
        item["value"], item["highValue"] = sample(), sample()
    else:
        item["value"] = sample()
    return item


def test_random_searches_match_the_oracle(hubspot, tickets):
    back = read_back(hubspot)
    assert sorted(back) == sorted(tickets)
    rng = random.Random(20261206)
    checked_nonempty = 0
    for _round in range(45):
        groups = [
            [random_filter(rng, back) for _ in range(rng.randint(1, 3))]
            for _ in range(rng.randint(1, 3))
        ]
        sort = rng.choice(SORTS)
        limit = rng.randint(4, 30)
        want = expected(groups, sort, back)
        got: list[int] = []
        after = None
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[{"filters": group} for group in groups],
                sorts=[sort] if sort else None,
                limit=limit,
                after=after,
                properties=["subject"],
            )
            page = hubspot.crm.tickets.search_api.do_search(public_object_search_request=request)
            assert page.total == len(want), (groups, sort)
            got.extend(int(r.id) for r in page.results)
            if page.paging is None:
                break
            after = page.paging.next.after
        assert got == want, (groups, sort)
        checked_nonempty += bool(want) and len(want) < len(back)
    # The random requests were selective: most found some tickets but not all of them.
    assert checked_nonempty >= 20


# --- Contacts: the same oracle over the records' registry ------------------------------------

CONTACT_KINDS = {
    "firstname": "text",
    "lastname": "text",
    "email": "text",
    "hs_language": "enum",
    "hubspot_owner_id": "ref",
    "createdate": "datetime",
    "hs_object_id": "number",
    "visits": "number",
}


def test_random_contact_searches_match_the_oracle(hubspot, super_admin):
    from svardesk.crm import services as crm
    from svardesk.crm.models import Contact

    ticket_services.create_property_definition(
        actor=None, name="visits", label="Visits", type="number", object_type="contact"
    )
    rng = random.Random(77)
    owners = [None, UserFactory(), UserFactory()]
    for n in range(45):
        custom = {"visits": rng.randint(0, 9)} if rng.random() < 0.6 else {}
        owner = rng.choice(owners)
        contact = crm.create_contact(
            actor=None,
            first_name=rng.choice([*WORDS, ""]),
            last_name=rng.choice([*WORDS, ""]),
            emails=[f"c{n}@{rng.choice(['acme.example', 'other.example'])}"]
            if rng.random() < 0.8
            else [],
            language=rng.choice(["", "en", "sv"]),
            owner_id=owner.pk if owner else None,
            custom=custom,
        )
        created = BASE + dt.timedelta(hours=rng.randint(0, 20))
        Contact.objects.filter(pk=contact.pk).update(created_at=created)
    page = hubspot.crm.contacts.search_api.do_search(
        public_object_search_request=ContactSearch(properties=list(CONTACT_KINDS), limit=100)
    )
    back = {int(r.id): r.properties for r in page.results}
    assert len(back) == 45
    checked = 0
    for _round in range(35):
        groups = [
            [random_filter(rng, back, CONTACT_KINDS) for _ in range(rng.randint(1, 3))]
            for _ in range(rng.randint(1, 2))
        ]
        sort = rng.choice(SORTS[:5])
        want = expected(groups, sort, back, CONTACT_KINDS)
        got: list[int] = []
        after = None
        while True:
            found = hubspot.crm.contacts.search_api.do_search(
                public_object_search_request=ContactSearch(
                    filter_groups=[{"filters": group} for group in groups],
                    sorts=[sort] if sort else None,
                    limit=9,
                    after=after,
                )
            )
            assert found.total == len(want), (groups, sort)
            got.extend(int(r.id) for r in found.results)
            if found.paging is None:
                break
            after = found.paging.next.after
        assert got == want, (groups, sort)
        checked += bool(want) and len(want) < len(back)
    assert checked >= 15
