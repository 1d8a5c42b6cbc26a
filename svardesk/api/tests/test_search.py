"""CRM search (`POST /crm/v3/objects/{type}/search`) through the official SDK: filter groups,
every operator on each kind of property, sorting, paging, free text, limits, scope and the
search rate limit."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
from hubspot.crm.companies import PublicObjectSearchRequest as CompanySearch
from hubspot.crm.contacts import PublicObjectSearchRequest as ContactSearch
from hubspot.crm.objects import PublicObjectSearchRequest as ObjectSearch
from hubspot.crm.tickets import ApiException, Filter, FilterGroup, PublicObjectSearchRequest

from svardesk.crm import associations
from svardesk.tickets import services as ticket_services
from svardesk.tickets.models import SlaStatus, Source, Stage, Ticket
from tests.factories import UserFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db(transaction=True)

BASE = dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)


def ms(moment: dt.datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def make_ticket(name="Ticket", *, at=None, **kwargs):
    ticket = ticket_services.create_ticket(
        actor=None,
        name=name,
        pipeline=default_pipeline(),
        stage=kwargs.pop("stage", None) or stage_named("New"),
        **kwargs,
    )
    # The creation date searches sort and filter by: set apart, as an import would.
    Ticket.objects.filter(pk=ticket.pk).update(created_at=at or BASE)
    ticket.refresh_from_db()
    return ticket


def search(client, *groups, **kwargs):
    request = PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(filters=[Filter(**f) for f in group]) for group in groups if group
        ]
        or None,
        **kwargs,
    )
    return client.crm.tickets.search_api.do_search(public_object_search_request=request)


def ids(page):
    return [int(result.id) for result in page.results]


def f(name, operator, value=None, **extra):
    item = {"property_name": name, "operator": operator}
    if value is not None:
        item["value"] = value
    if "values" in extra:
        item["values"] = extra["values"]
    if "high" in extra:
        item["high_value"] = extra["high"]
    return item


def error_of(exc: ApiException) -> dict:
    return json.loads(exc.body)


# --- Groups and operators -------------------------------------------------------------------


def test_filters_in_a_group_and_groups_or(hubspot):
    waiting = Stage.objects.get(pipeline=default_pipeline(), name="Waiting on contact")
    high_new = make_ticket("High new", priority="HIGH")
    make_ticket("Low new", priority="LOW")
    high_waiting = make_ticket("High waiting", priority="HIGH", stage=waiting)
    low_waiting = make_ticket("Low waiting", priority="LOW", stage=waiting)

    both = search(
        hubspot,
        [f("hs_pipeline_stage", "EQ", str(waiting.pk)), f("hs_ticket_priority", "EQ", "HIGH")],
    )
    assert ids(both) == [high_waiting.pk]
    assert both.total == 1

    either = search(
        hubspot,
        [f("hs_pipeline_stage", "EQ", str(waiting.pk)), f("hs_ticket_priority", "EQ", "LOW")],
        [f("subject", "EQ", "high new")],
    )
    assert sorted(ids(either)) == sorted([low_waiting.pk, high_new.pk])
    assert either.total == 2


def test_a_group_every_ticket_meets_makes_the_or_match_everything(hubspot):
    first = make_ticket("First")
    second = make_ticket("Second")
    page = search(hubspot, [f("subject", "EQ", "first")], [f("hs_pipeline_stage", "HAS_PROPERTY")])
    assert sorted(ids(page)) == sorted([first.pk, second.pk])
    none = search(hubspot, [f("hs_pipeline_stage", "NOT_HAS_PROPERTY")])
    assert ids(none) == []


def test_an_empty_search_lists_every_ticket_oldest_first_with_the_default_properties(hubspot):
    later = make_ticket("Later", at=BASE + dt.timedelta(hours=1))
    first = make_ticket("First", at=BASE)
    page = search(hubspot)
    assert ids(page) == [first.pk, later.pk]
    assert page.total == 2
    assert page.paging is None
    result = page.results[0]
    assert result.properties["subject"] == "First"
    assert result.properties["hs_object_id"] == str(first.pk)
    assert result.properties["createdate"] == "2024-05-01T09:00:00.000Z"
    assert result.properties["hs_pipeline"] == "0"
    assert "hs_lastmodifieddate" in result.properties
    assert result.created_at == BASE


def test_text_operators(hubspot):
    export = make_ticket("Cannot EXPORT the report", description="Export fails")
    invoice = make_ticket("Invoice question", description="")
    make_ticket("Login loop", description="Customer is stuck")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("subject", "EQ", "cannot export the report")) == [export.pk]
    assert found(f("subject", "CONTAINS_TOKEN", "export")) == [export.pk]
    assert found(f("subject", "CONTAINS_TOKEN", "*voice*")) == [invoice.pk]
    assert found(f("subject", "NOT_CONTAINS_TOKEN", "o")) == []
    assert len(found(f("subject", "NEQ", "invoice question"))) == 2
    assert found(f("subject", "IN", values=["invoice question", "nothing"])) == [invoice.pk]
    assert invoice.pk not in found(f("subject", "NOT_IN", values=["invoice question"]))
    assert found(f("content", "HAS_PROPERTY"), f("content", "CONTAINS_TOKEN", "fails")) == [
        export.pk
    ]
    assert found(f("content", "NOT_HAS_PROPERTY")) == [invoice.pk]


def test_number_operators_on_the_id_and_a_custom_number(hubspot):
    ticket_services.create_property_definition(
        actor=None, name="score", label="Score", type="number"
    )
    low = make_ticket("Low", custom={"score": 3})
    mid = make_ticket("Mid", custom={"score": 7.5})
    high = make_ticket("High", custom={"score": 12})
    none = make_ticket("None")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("score", "EQ", "7.5")) == [mid.pk]
    assert found(f("score", "NEQ", "7.5")) == sorted([low.pk, high.pk, none.pk])
    assert found(f("score", "LT", "7.5")) == [low.pk]
    assert found(f("score", "LTE", "7.5")) == sorted([low.pk, mid.pk])
    assert found(f("score", "GT", "7.5")) == [high.pk]
    assert found(f("score", "GTE", "7.5")) == sorted([mid.pk, high.pk])
    assert found(f("score", "BETWEEN", "3", high="8")) == sorted([low.pk, mid.pk])
    assert found(f("score", "IN", values=["3", "12"])) == sorted([low.pk, high.pk])
    assert found(f("score", "NOT_IN", values=["3", "12"])) == sorted([mid.pk, none.pk])
    assert found(f("score", "HAS_PROPERTY")) == sorted([low.pk, mid.pk, high.pk])
    assert found(f("score", "NOT_HAS_PROPERTY")) == [none.pk]
    assert found(f("hs_object_id", "GT", str(mid.pk))) == sorted([high.pk, none.pk])
    assert found(f("hs_ticket_id", "EQ", str(low.pk))) == [low.pk]
    assert found(f("hs_object_id", "BETWEEN", str(low.pk), high=str(mid.pk))) == sorted(
        [low.pk, mid.pk]
    )


def test_datetime_and_date_operators_take_epoch_milliseconds_and_iso(hubspot):
    ticket_services.create_property_definition(
        actor=None, name="due_on", label="Due on", type="date"
    )
    may1 = make_ticket("May 1", at=BASE, custom={"due_on": "2024-06-01"})
    may2 = make_ticket("May 2", at=BASE + dt.timedelta(days=1), custom={"due_on": "2024-06-02"})
    may3 = make_ticket("May 3", at=BASE + dt.timedelta(days=2))

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    second = BASE + dt.timedelta(days=1)
    assert found(f("createdate", "EQ", ms(second))) == [may2.pk]
    assert found(f("createdate", "LT", ms(second))) == [may1.pk]
    assert found(f("createdate", "LTE", ms(second))) == sorted([may1.pk, may2.pk])
    assert found(f("createdate", "GT", ms(second))) == [may3.pk]
    assert found(f("createdate", "GTE", "2024-05-02T09:00:00Z")) == sorted([may2.pk, may3.pk])
    assert found(f("createdate", "BETWEEN", ms(BASE), high=ms(second))) == sorted(
        [may1.pk, may2.pk]
    )
    assert found(f("createdate", "GT", "2024-05-02T09:00:00.000+02:00")) == sorted(
        [may2.pk, may3.pk]
    )
    assert found(f("due_on", "EQ", "2024-06-02")) == [may2.pk]
    midnight = dt.datetime(2024, 6, 2, tzinfo=dt.UTC)
    assert found(f("due_on", "LT", ms(midnight))) == [may1.pk]
    assert found(f("due_on", "BETWEEN", "2024-05-01", high="2024-06-01")) == [may1.pk]
    assert found(f("due_on", "NOT_HAS_PROPERTY")) == [may3.pk]


def test_dates_and_times_without_an_offset_are_utc_whatever_the_users_time_zone(
    make_client, make_token, super_admin
):
    super_admin.time_zone = "Europe/Stockholm"
    super_admin.save(update_fields=["time_zone"])
    late = make_ticket("Late on May 1 in UTC", at=dt.datetime(2024, 5, 1, 23, 30, tzinfo=dt.UTC))
    make_ticket("Early on May 1 in UTC", at=dt.datetime(2024, 5, 1, 0, 30, tzinfo=dt.UTC))
    client = make_client(make_token(super_admin))

    def found(*filters):
        return ids(search(client, list(filters)))

    assert found(f("createdate", "EQ", "2024-05-02")) == []
    assert found(f("createdate", "GT", "2024-05-01T23:00:00")) == [late.pk]
    assert len(found(f("createdate", "EQ", "2024-05-01"))) == 2


def test_select_values_are_case_sensitive(hubspot):
    high = make_ticket("High", priority="HIGH", category="BILLING_ISSUE")
    low = make_ticket("Low", priority="LOW")
    none = make_ticket("None", priority="")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("hs_ticket_priority", "EQ", "HIGH")) == [high.pk]
    assert found(f("hs_ticket_priority", "EQ", "high")) == []
    assert found(f("hs_ticket_priority", "IN", values=["high", "low"])) == []
    assert found(f("hs_ticket_priority", "IN", values=["HIGH", "LOW"])) == sorted([high.pk, low.pk])
    assert found(f("hs_ticket_priority", "NOT_IN", values=["HIGH"])) == sorted([low.pk, none.pk])
    assert found(f("hs_ticket_priority", "NEQ", "LOW")) == sorted([high.pk, none.pk])
    assert found(f("hs_ticket_priority", "NOT_HAS_PROPERTY")) == [none.pk]
    assert found(f("hs_ticket_category", "HAS_PROPERTY")) == [high.pk]


def test_multi_select_operators(hubspot):
    ticket_services.create_property_definition(
        actor=None,
        name="areas",
        label="Areas",
        type="multiselect",
        options=[{"value": v, "label": v.title()} for v in ("api", "billing", "ui")],
    )
    api_ui = make_ticket("API and UI", custom={"areas": ["api", "ui"]})
    billing = make_ticket("Billing", custom={"areas": ["billing"]})
    bare = make_ticket("Bare")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("areas", "IN", values=["ui", "billing"])) == sorted([api_ui.pk, billing.pk])
    assert found(f("areas", "NOT_IN", values=["ui"])) == sorted([billing.pk, bare.pk])
    assert found(f("areas", "EQ", "api")) == [api_ui.pk]
    assert found(f("areas", "CONTAINS_TOKEN", values=["api", "ui"])) == [api_ui.pk]
    assert found(f("areas", "CONTAINS_TOKEN", values=["api", "billing"])) == []
    assert found(f("areas", "IN", values=["UI"])) == []  # options are case-sensitive
    assert found(f("areas", "NOT_HAS_PROPERTY")) == [bare.pk]


def test_checkbox_and_date_operators_the_engine_does_not_apply(hubspot, raw_api):
    ticket_services.create_property_definition(actor=None, name="vip", label="VIP", type="checkbox")
    vip = make_ticket("VIP", custom={"vip": True})
    plain = make_ticket("Plain", custom={"vip": False})
    unknown = make_ticket("Unknown")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("vip", "EQ", "true")) == [vip.pk]
    assert found(f("vip", "EQ", "false")) == [plain.pk]
    assert found(f("vip", "NEQ", "true")) == sorted([plain.pk, unknown.pk])
    assert found(f("vip", "HAS_PROPERTY")) == sorted([vip.pk, plain.pk])
    # Text has no order and dates no "not equal" in the engine: 400, never a guess.
    for name, operator in (("subject", "LT"), ("createdate", "NEQ"), ("createdate", "IN")):
        answer = raw_api.post(
            "/crm/v3/objects/tickets/search",
            {"filters": [{"propertyName": name, "operator": operator, "value": "1",
                          "values": ["1"]}]},
        )  # fmt: skip
        assert answer.status == 400
        assert answer.body["category"] == "VALIDATION_ERROR"
        assert operator in answer.body["message"]


def test_owner_pipeline_stage_and_source(hubspot, agent):
    other = UserFactory()
    waiting = stage_named("Waiting on contact")
    mine = make_ticket("Mine", owner=agent, source=Source.CALL)
    theirs = make_ticket("Theirs", owner=other, stage=waiting, source=Source.EMAIL)
    nobody = make_ticket("Nobody")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("hubspot_owner_id", "EQ", str(agent.pk))) == [mine.pk]
    assert found(f("hubspot_owner_id", "IN", values=[str(agent.pk), str(other.pk)])) == sorted(
        [mine.pk, theirs.pk]
    )
    assert found(f("hubspot_owner_id", "NEQ", str(agent.pk))) == sorted([theirs.pk, nobody.pk])
    assert found(f("hubspot_owner_id", "NOT_HAS_PROPERTY")) == [nobody.pk]
    assert len(found(f("hs_pipeline", "EQ", "0"))) == 3
    assert found(f("hs_pipeline", "NEQ", "0")) == []
    assert found(f("hs_pipeline_stage", "EQ", str(waiting.pk))) == [theirs.pk]
    assert found(f("hs_pipeline_stage", "NOT_IN", values=[str(waiting.pk)])) == sorted(
        [mine.pk, nobody.pk]
    )
    assert found(f("source_type", "EQ", "PHONE")) == [mine.pk]
    assert found(f("source_type", "IN", values=["EMAIL", "PHONE"])) == sorted([mine.pk, theirs.pk])


def test_sla_status_filters_read_hubspots_option_ids(hubspot):
    overdue = make_ticket("Overdue")
    make_ticket("On track")
    Ticket.objects.filter(pk=overdue.pk).update(sla_close_status=SlaStatus.OVERDUE)
    page = search(hubspot, [f("hs_time_to_close_sla_status", "EQ", "1")])
    assert ids(page) == [overdue.pk]


def test_association_pseudo_properties(hubspot, raw_api):
    from tests.factories import ContactFactory

    anna, bo = ContactFactory(), ContactFactory()
    with_anna = make_ticket("Anna's", contact=anna)
    with_bo = make_ticket("Bo's", contact=bo)
    neither = make_ticket("Neither")

    def found(*filters):
        return sorted(ids(search(hubspot, list(filters))))

    assert found(f("associations.contact", "EQ", str(anna.pk))) == [with_anna.pk]
    assert found(f("associations.contact", "IN", values=[str(anna.pk), str(bo.pk)])) == sorted(
        [with_anna.pk, with_bo.pk]
    )
    assert found(f("associations.contact", "NEQ", str(anna.pk))) == sorted([with_bo.pk, neither.pk])
    assert (
        found(f("associations.contact", "EQ", str(bo.pk)), f("subject", "CONTAINS_TOKEN", "anna"))
        == []
    )
    # The docs' form: a top-level "filters" array is one AND group.
    answer = raw_api.post(
        "/crm/v3/objects/tickets/search",
        {"filters": [{"propertyName": "associations.contact", "operator": "EQ",
                      "value": str(bo.pk)}]},
    )  # fmt: skip
    assert answer.status == 200
    assert [r["id"] for r in answer.body["results"]] == [str(with_bo.pk)]
    # From the contact's side: the contacts of a ticket.
    contacts = hubspot.crm.contacts.search_api.do_search(
        public_object_search_request=ContactSearch(
            filter_groups=[
                {"filters": [{"propertyName": "associations.ticket", "operator": "EQ",
                              "value": str(with_anna.pk)}]}
            ]
        )
    )  # fmt: skip
    assert [int(r.id) for r in contacts.results] == [anna.pk]


# --- Sorting, paging, properties --------------------------------------------------------------


def test_one_sort_is_honoured_in_either_form_with_ties_by_id(hubspot, raw_api):
    a = make_ticket("Alpha", at=BASE + dt.timedelta(hours=2), priority="LOW")
    b = make_ticket("Bravo", at=BASE, priority="URGENT")
    c = make_ticket("Charlie", at=BASE, priority="HIGH")

    newest = search(hubspot, sorts=[{"propertyName": "createdate", "direction": "DESCENDING"}])
    assert ids(newest) == [a.pk, c.pk, b.pk]
    oldest = search(hubspot, sorts=["createdate"])
    assert ids(oldest) == [b.pk, c.pk, a.pk]
    by_string = search(hubspot, sorts=["-createdate"])
    assert ids(by_string) == [a.pk, c.pk, b.pk]
    by_name = search(
        hubspot, sorts=[{"propertyName": "subject", "direction": "DESCENDING"}, "createdate"]
    )
    assert ids(by_name) == [c.pk, b.pk, a.pk]
    by_id = search(hubspot, sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}])
    assert ids(by_id) == [c.pk, b.pk, a.pk]
    answer = raw_api.post("/crm/v3/objects/tickets/search", {"sorts": ["nonsense"]})
    assert answer.status == 400
    assert answer.body["category"] == "PROPERTY_DOESNT_EXIST"


def test_paging_by_offset_with_total(hubspot):
    made = [make_ticket(f"T{i}", at=BASE + dt.timedelta(minutes=i)) for i in range(7)]
    seen = []
    after = None
    pages = 0
    while True:
        page = search(hubspot, limit=3, after=after)
        assert page.total == 7
        seen.extend(ids(page))
        pages += 1
        if page.paging is None:
            break
        after = page.paging.next.after
        assert after == str(len(seen))
    assert seen == [t.pk for t in made]
    assert pages == 3


def test_total_past_the_last_page_and_with_limit_zero(raw_api):
    for i in range(3):
        make_ticket(f"T{i}")
    past = raw_api.post("/crm/v3/objects/tickets/search", {"after": "5", "limit": 2})
    assert past.body == {"total": 3, "results": []}
    counted = raw_api.post("/crm/v3/objects/tickets/search", {"limit": 0})
    assert counted.body == {"total": 3, "results": []}
    full = raw_api.post("/crm/v3/objects/tickets/search", {"limit": 3})
    assert full.body["total"] == 3
    assert "paging" not in full.body
    partial = raw_api.post("/crm/v3/objects/tickets/search", {"limit": 2, "after": 1})
    assert partial.body["total"] == 3
    assert len(partial.body["results"]) == 2


def test_requested_properties_and_the_always_present_ones(hubspot):
    ticket = make_ticket("Ask", priority="HIGH")
    page = search(hubspot, properties=["hs_ticket_priority"])
    assert page.results[0].properties == {
        "hs_ticket_priority": "HIGH",
        "hs_object_id": str(ticket.pk),
        "createdate": "2024-05-01T09:00:00.000Z",
        "hs_lastmodifieddate": page.results[0].properties["hs_lastmodifieddate"],
    }


def test_query_matches_subject_and_content(hubspot):
    subject = make_ticket("Exporting reports fails")
    content = make_ticket("Question", description="The invoice export is blank")
    make_ticket("Unrelated", description="Nothing here")
    page = search(hubspot, query="export")
    assert sorted(ids(page)) == sorted([subject.pk, content.pk])
    assert page.total == 2
    narrowed = search(hubspot, [f("subject", "EQ", "question")], query="export")
    assert ids(narrowed) == [content.pk]
    assert ids(search(hubspot, query=str(content.pk))) == [content.pk]  # hs_ticket_id
    assert ids(search(hubspot, query="expo fail")) == [subject.pk]  # words begin words


def test_archived_tickets_never_appear(hubspot):
    kept = make_ticket("Kept")
    gone = make_ticket("Gone")
    hubspot.crm.tickets.basic_api.archive(str(gone.pk))
    assert ids(search(hubspot)) == [kept.pk]


# --- Limits and errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "HAS_PROPERTY"}]}]
          * 6}, "filter groups"),
        ({"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "HAS_PROPERTY"}]
                            * 7}]}, "in a group"),
        ({"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "HAS_PROPERTY"}]
                            * 4}] * 4 + [{"filters": [{"propertyName": "subject",
                                                       "operator": "HAS_PROPERTY"}] * 3}]},
         "Too many filters: 19"),
        ({"limit": 201}, "limit"),
        ({"after": "9995", "limit": 10}, "10000"),
        ({"after": "-1"}, "after"),
        ({"after": "ten"}, "after"),
        ({"query": "x" * 3000}, "3000"),
        ({"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "LIKE",
                                         "value": "x"}]}]}, "LIKE"),
        ({"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GT",
                                         "value": "yesterday"}]}]}, "valid date"),
        ({"filterGroups": [{"filters": [{"propertyName": "hs_ticket_priority",
                                         "operator": "LT", "value": "HIGH"}]}]}, "LT"),
        ({"sorts": [{"propertyName": "createdate", "direction": "UP"}]}, "direction"),
    ],
    ids=["6-groups", "7-in-a-group", "19-filters", "limit-201", "after-past-10000",
         "negative-after", "non-numeric-after", "body-over-3000", "unknown-operator",
         "bad-date", "operator-not-for-select", "bad-direction"],
)  # fmt: skip
def test_limits_and_malformed_requests_are_validation_errors(raw_api, body, fragment):
    answer = raw_api.post("/crm/v3/objects/tickets/search", body)
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert answer.body["correlationId"]
    assert fragment in answer.body["message"]


ODD_BODIES = [
    [],
    "text",
    {"query": "a\u0000b@example.com"},
    {"query": 5},
    {"filterGroups": {"filters": []}},
    {"filterGroups": [{"filters": [{"propertyName": "subject", "operator": "EQ",
                                    "value": "a\u0000"}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "EQ",
                                    "value": 1e300}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT",
                                    "value": "99999999999999999999999"}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "hubspot_owner_id", "operator": "IN",
                                    "values": ["99999999999999999999999", "x"]}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "hs_pipeline", "operator": "EQ",
                                    "value": "pipeline"}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "BETWEEN",
                                    "value": "0001-01-01"}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "createdate", "operator": "GT",
                                    "value": "99999999999999999"}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "IN",
                                    "values": [{"id": 1}]}]}]},
    {"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "EQ",
                                    "value": "-1"}]}]},
    {"filterGroups": [{"filters": [{"operator": "EQ", "value": "1"}]}]},
    {"sorts": [{"propertyName": "content"}]},
    {"sorts": "createdate"},
    {"sorts": [None]},
    {"limit": 10.5},
    {"limit": True},
    {"after": 1e30},
    {"properties": "subject"},
]  # fmt: skip


@pytest.mark.parametrize("body", ODD_BODIES, ids=[str(i) for i in range(len(ODD_BODIES))])
def test_odd_requests_are_answered_never_with_a_server_error(raw_api, body):
    make_ticket("One")
    answer = raw_api.post("/crm/v3/objects/tickets/search", body)
    assert answer.status in (200, 400), answer.body
    if answer.status == 400:
        assert answer.body["category"] in ("VALIDATION_ERROR", "PROPERTY_DOESNT_EXIST")


def test_deeply_nested_json_is_a_validation_error(raw_api):
    answer = raw_api.post("/crm/v3/objects/tickets/search", data=b"[" * 1400 + b"]" * 1400)
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"


def test_the_largest_allowed_requests_are_answered(raw_api):
    make_ticket("One")
    five_groups = {
        "filterGroups": [{"filters": [{"propertyName": "subject", "operator": "HAS_PROPERTY"}] * 3}]
        * 5
        + [],
        "limit": 200,
        "after": "9800",
    }
    answer = raw_api.post("/crm/v3/objects/tickets/search", five_groups)
    assert answer.status == 200
    assert answer.body == {"total": 1, "results": []}


def test_error_messages_are_english_whatever_the_accept_language(raw_api):
    answer = raw_api.post(
        "/crm/v3/objects/tickets/search",
        {"filters": [{"propertyName": "createdate", "operator": "GT", "value": "igår"}]},
        headers={"Accept-Language": "sv"},
    )
    assert answer.status == 400
    assert answer.body["message"] == "Enter a valid date for Create date."


def test_the_sdk_sees_validation_errors_as_api_exceptions(hubspot):
    with pytest.raises(ApiException) as caught:
        search(hubspot, limit=201)
    assert caught.value.status == 400
    assert error_of(caught.value)["category"] == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "name", ["nonsense", "name", "stage", "associations.widget", "associations.ticket"]
)
def test_unknown_properties_do_not_exist(hubspot, name):
    """Svardesk's own names (`name`, `stage`) are not the API's; a ticket is not associated
    with tickets."""
    with pytest.raises(ApiException) as caught:
        search(hubspot, [f(name, "EQ", "1")])
    body = error_of(caught.value)
    assert caught.value.status == 400
    assert body["category"] == "PROPERTY_DOESNT_EXIST"
    assert body["message"] == f'Property "{name}" does not exist'


# --- Who sees what ----------------------------------------------------------------------------


def test_a_restricted_agent_finds_only_their_tickets(make_client, make_token, own_agent):
    mine = make_ticket("Mine", owner=own_agent)
    make_ticket("Someone else's")
    client = make_client(make_token(own_agent, ["tickets"]))
    page = search(client)
    assert ids(page) == [mine.pk]
    assert page.total == 1
    assert ids(search(client, [f("subject", "EQ", "someone else's")])) == []


def test_searching_needs_the_objects_read_scope(make_client, make_token, super_admin):
    client = make_client(make_token(super_admin, ["crm.objects.contacts.read"]))
    with pytest.raises(ApiException) as caught:
        search(client)
    assert caught.value.status == 403
    assert error_of(caught.value)["category"] == "MISSING_SCOPES"
    contacts = client.crm.contacts.search_api.do_search(
        public_object_search_request=ContactSearch()
    )
    assert contacts.total == 0


def test_the_search_rate_limit_answers_429(settings, monkeypatch, raw_api):
    from svardesk.api import ratelimit

    settings.API_SEARCH_RATE_LIMIT = 5
    # One fixed second, so a slow machine cannot spread the calls over two.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.25))
    statuses = [raw_api.post("/crm/v3/objects/tickets/search", {}).status for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = raw_api.post("/crm/v3/objects/tickets/search", {})
    assert limited.status == 429
    assert limited.body["policyName"] == "SECONDLY"
    assert limited.body["category"] == "RATE_LIMITS"
    assert limited.headers["Retry-After"] == "1"
    # Other calls are not searches: the search limit leaves them alone.
    assert raw_api.post("/crm/v3/objects/tickets/batch/read", {"inputs": []}).status != 429


# --- Contacts, companies, deals and object type ids ---------------------------------------------


def test_contacts_search_by_filter_and_query(hubspot):
    from svardesk.crm import services as crm

    anna = crm.create_contact(
        actor=None, first_name="Anna", last_name="Berg", emails=["anna@acme.example"]
    )
    crm.create_contact(actor=None, first_name="Bo", last_name="Ek", emails=["bo@other.example"])
    by_email = hubspot.crm.contacts.search_api.do_search(
        public_object_search_request=ContactSearch(
            filter_groups=[
                {"filters": [{"propertyName": "email", "operator": "CONTAINS_TOKEN",
                              "value": "*@acme.example"}]}
            ],
            properties=["firstname", "email"],
        )
    )  # fmt: skip
    assert [int(r.id) for r in by_email.results] == [anna.pk]
    assert by_email.results[0].properties["email"] == "anna@acme.example"
    assert "lastmodifieddate" in by_email.results[0].properties
    asa = crm.create_contact(actor=None, first_name="Åsa", last_name="Ström", emails=[])

    def found(text):
        page = hubspot.crm.contacts.search_api.do_search(
            public_object_search_request=ContactSearch(query=text)
        )
        assert page.total == len(page.results)
        return sorted(int(r.id) for r in page.results)

    assert found("anna berg") == [anna.pk]
    assert found("ber an") == [anna.pk]  # words begin words, in any order
    assert found("acme.exam") == [anna.pk]  # part of an address
    assert found("asa strom") == [asa.pk]  # accents and case do not matter
    assert found("anna ek") == []


def test_companies_and_deals_search_and_object_type_ids(hubspot):
    from svardesk.crm import services as crm

    acme = crm.create_company(actor=None, name="Acme AB", domain="acme.example")
    crm.create_company(actor=None, name="Other Ltd", domain="other.example")
    page = hubspot.crm.companies.search_api.do_search(
        public_object_search_request=CompanySearch(query="acme")
    )
    assert [int(r.id) for r in page.results] == [acme.pk]
    by_id = hubspot.crm.objects.search_api.do_search(
        "0-2",
        public_object_search_request=ObjectSearch(
            filter_groups=[
                {"filters": [{"propertyName": "domain", "operator": "EQ",
                              "value": "OTHER.example"}]}
            ]
        ),
    )  # fmt: skip
    assert [r.properties["name"] for r in by_id.results] == ["Other Ltd"]
    deal = crm.create_deal(actor=None, name="Big deal", amount="5000")
    associations.associate("deal", deal.pk, "company", acme.pk)
    deals = hubspot.crm.objects.search_api.do_search(
        "deals",
        public_object_search_request=ObjectSearch(
            filter_groups=[
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "1000"},
                             {"propertyName": "associations.company", "operator": "EQ",
                              "value": str(acme.pk)}]}
            ]
        ),
    )  # fmt: skip
    assert [int(r.id) for r in deals.results] == [deal.pk]
    assert deals.results[0].properties["dealname"] == "Big deal"


def test_an_unknown_object_type_is_not_found(raw_api):
    answer = raw_api.post("/crm/v3/objects/widgets/search", {})
    assert answer.status == 404
    assert answer.body["category"] == "OBJECT_NOT_FOUND"
