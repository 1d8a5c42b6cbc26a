"""Tickets through the official SDK: create, read, list, update, archive, and the errors."""

import datetime as dt
import json

import pytest
from hubspot.crm.tickets import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.tickets.exceptions import NotFoundException

from svardesk.api.models import ArchivedRecord
from svardesk.tickets.models import Source, Ticket, TicketEvent, TicketRedirect
from tests.factories import ContactFactory, TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


def _body(error):
    return json.loads(error.body)


@pytest.fixture
def stages(transactional_db):
    default_pipeline()
    return {name: str(stage_named(name).pk) for name in ("New", "Waiting on us", "Closed")}


def test_create_read_update_archive_a_ticket(hubspot, stages, super_admin):
    created = hubspot.crm.tickets.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={
                "subject": "Printer on fire",
                "content": "Smoke everywhere",
                "hs_pipeline_stage": stages["New"],
                "hs_ticket_priority": "HIGH",
            }
        )
    )
    assert created is not None  # 201, or the SDK would return None
    assert created.properties["subject"] == "Printer on fire"
    assert created.properties["hs_pipeline"] == "0"
    assert created.properties["hs_object_id"] == created.id
    assert created.created_at.tzinfo is not None
    assert isinstance(created.created_at, dt.datetime)
    ticket = Ticket.objects.get(pk=created.id)
    assert ticket.source == Source.API
    assert ticket.priority == "HIGH"

    got = hubspot.crm.tickets.basic_api.get_by_id(created.id)
    assert got.properties["content"] == "Smoke everywhere"
    assert got.properties["hs_pipeline_stage"] == stages["New"]
    assert all(isinstance(v, str) for v in got.properties.values() if v is not None)

    updated = hubspot.crm.tickets.basic_api.update(
        created.id,
        simple_public_object_input=SimplePublicObjectInput(
            properties={"hs_pipeline_stage": stages["Closed"], "hs_ticket_priority": ""}
        ),
    )
    assert updated.properties["hs_pipeline_stage"] == stages["Closed"]
    assert updated.properties["hs_ticket_priority"] is None
    ticket.refresh_from_db()
    assert not ticket.is_open
    assert ticket.priority == ""
    assert TicketEvent.objects.filter(ticket=ticket, kind="property_changed").count() == 2
    closed = hubspot.crm.tickets.basic_api.get_by_id(created.id, properties=["hs_is_closed"])
    assert closed.properties["hs_is_closed"] == "true"

    assert hubspot.crm.tickets.basic_api.archive(created.id) is None
    assert not Ticket.objects.filter(pk=created.id).exists()
    with pytest.raises(NotFoundException):
        hubspot.crm.tickets.basic_api.get_by_id(created.id)
    archived = hubspot.crm.tickets.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True
    assert archived.archived_at is not None
    assert archived.properties["subject"] == "Printer on fire"
    # Archiving again (or an unknown id) answers 204 as well.
    hubspot.crm.tickets.basic_api.archive(created.id)
    hubspot.crm.tickets.basic_api.archive("987654321")


def _create(hubspot, **properties):
    return hubspot.crm.tickets.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties=properties
        )
    )


def test_create_without_a_stage_is_hubspots_validation_error(hubspot, stages):
    with pytest.raises(ApiException) as caught:
        _create(hubspot, subject="No stage")
    assert caught.value.status == 400
    body = _body(caught.value)
    assert body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"]
    assert body["message"] == (
        "Cannot create object with type: TICKET. The following required properties were "
        "missing: [hs_pipeline_stage]"
    )
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("properties", "category", "code"),
    [
        ({"nonsense": "x"}, "PROPERTY_DOESNT_EXIST", None),
        ({"hs_ticket_priority": "high"}, "VALIDATION_ERROR", "INVALID_OPTION"),
        ({"hs_ticket_category": "REPORTS"}, "VALIDATION_ERROR", "INVALID_OPTION"),
        ({"hs_object_id": "5"}, "VALIDATION_ERROR", "READ_ONLY_VALUE"),
        ({"hubspot_owner_id": "999999"}, "VALIDATION_ERROR", "INVALID_OPTION"),
        ({"hs_pipeline": "987654"}, "VALIDATION_ERROR", "INVALID_OPTION"),
    ],
    ids=["unknown", "priority-case", "category", "read-only", "owner", "pipeline"],
)
def test_invalid_properties_are_refused(hubspot, stages, properties, category, code):
    with pytest.raises(ApiException) as caught:
        _create(hubspot, subject="Bad", hs_pipeline_stage=stages["New"], **properties)
    assert caught.value.status == 400
    body = _body(caught.value)
    assert body["category"] == category
    if code:
        assert [e["code"] for e in body["errors"]] == [code]
        assert body["errors"][0]["context"]["propertyName"] == list(properties)
    else:
        assert body["message"] == 'Property "nonsense" does not exist'
    assert not Ticket.objects.exists()


def test_a_stage_of_another_pipeline_is_an_invalid_option(hubspot, stages):
    from svardesk.tickets.services import create_pipeline

    other = create_pipeline(actor=None, name="Returns")
    other_stage = other.stages.first()
    with pytest.raises(ApiException) as caught:
        _create(hubspot, subject="Wrong", hs_pipeline_stage=str(other_stage.pk))
    assert _body(caught.value)["errors"][0]["code"] == "INVALID_OPTION"
    made = _create(
        hubspot, subject="Right", hs_pipeline=str(other.pk), hs_pipeline_stage=str(other_stage.pk)
    )
    assert made.properties["hs_pipeline"] == str(other.pk)


def test_an_unknown_id_is_not_found(hubspot, stages):
    with pytest.raises(NotFoundException) as caught:
        hubspot.crm.tickets.basic_api.get_by_id("999999")
    assert _body(caught.value)["category"] == "OBJECT_NOT_FOUND"
    with pytest.raises(NotFoundException):
        hubspot.crm.tickets.basic_api.get_by_id("abc")
    with pytest.raises(NotFoundException):
        hubspot.crm.tickets.basic_api.update(
            "999999", simple_public_object_input=SimplePublicObjectInput(properties={})
        )


def test_get_all_pages_through_every_ticket(hubspot, stages, super_admin):
    from svardesk.tickets.services import NewTicket, create_tickets

    pipeline = default_pipeline()
    create_tickets(
        [NewTicket(name=f"Bulk {i}", pipeline=pipeline) for i in range(123)], actor=super_admin
    )
    everything = hubspot.crm.tickets.get_all(properties=["subject"])
    assert len(everything) == 123
    ids = [int(t.id) for t in everything]
    assert ids == sorted(ids)
    assert {t.properties["subject"] for t in everything} == {f"Bulk {i}" for i in range(123)}
    first = hubspot.crm.tickets.basic_api.get_page(limit=5, archived=False)
    assert len(first.results) == 5
    second = hubspot.crm.tickets.basic_api.get_page(limit=5, after=first.paging.next.after)
    assert int(second.results[0].id) > int(first.results[-1].id)
    last = hubspot.crm.tickets.basic_api.get_page(limit=100, after=str(ids[-4]))
    assert [t.id for t in last.results] == [str(i) for i in ids[-3:]]
    assert last.paging is None


def test_a_limit_over_100_is_refused(raw_api, stages):
    answer = raw_api.get("/crm/v3/objects/tickets?limit=101")
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"


def test_batch_read_with_one_bad_id_is_207(hubspot, stages):
    tickets = [TicketFactory(name=f"T{i}") for i in range(3)]
    answer = hubspot.crm.tickets.batch_api.read(
        batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=str(t.pk)) for t in tickets]
            + [SimplePublicObjectId(id="999999")],
            properties=["subject"],
        ),
        archived=False,
    )
    assert answer.num_errors == 1
    assert answer.errors[0].category == "OBJECT_NOT_FOUND"
    assert answer.errors[0].context == {"ids": ["999999"]}
    assert [r.properties["subject"] for r in answer.results] == ["T0", "T1", "T2"]
    assert answer.status == "COMPLETE"
    assert answer.completed_at.tzinfo is not None


def test_more_than_100_inputs_is_refused(hubspot, stages):
    with pytest.raises(ApiException) as caught:
        hubspot.crm.tickets.batch_api.read(
            batch_read_input_simple_public_object_id=BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=str(i)) for i in range(1, 102)], properties=[]
            )
        )
    assert caught.value.status == 400
    assert _body(caught.value)["category"] == "VALIDATION_ERROR"


def test_batch_create_update_and_archive(hubspot, stages):
    created = hubspot.crm.tickets.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(
                inputs=[
                    SimplePublicObjectBatchInputForCreate(
                        properties={"subject": f"Batch {i}", "hs_pipeline_stage": stages["New"]},
                        object_write_trace_id=f"trace-{i}",
                    )
                    for i in range(3)
                ]
            )
        )
    )
    assert [r.properties["subject"] for r in created.results] == ["Batch 0", "Batch 1", "Batch 2"]
    assert [r.object_write_trace_id for r in created.results] == ["trace-0", "trace-1", "trace-2"]
    ids = [r.id for r in created.results]

    updated = hubspot.crm.tickets.batch_api.update(
        batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=ids[0], properties={"subject": "Renamed"}),
                SimplePublicObjectBatchInput(id="999999", properties={"subject": "Ghost"}),
            ]
        )
    )
    assert updated.num_errors == 1
    assert [r.properties["subject"] for r in updated.results] == ["Renamed"]
    assert Ticket.objects.get(pk=ids[0]).name == "Renamed"

    with pytest.raises(ApiException) as caught:
        hubspot.crm.tickets.batch_api.update(
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    SimplePublicObjectBatchInput(id=ids[1], properties={"subject": "A"}),
                    SimplePublicObjectBatchInput(id=ids[1], properties={"subject": "B"}),
                ]
            )
        )
    assert caught.value.status == 400
    assert "Duplicate IDs" in _body(caught.value)["message"]

    hubspot.crm.tickets.batch_api.archive(
        batch_input_simple_public_object_id=BatchInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=ids[0]), SimplePublicObjectId(id=ids[1])]
        )
    )
    assert list(Ticket.objects.values_list("pk", flat=True)) == [int(ids[2])]
    assert set(ArchivedRecord.objects.values_list("object_id", flat=True)) == {
        int(ids[0]),
        int(ids[1]),
    }
    archived = hubspot.crm.tickets.basic_api.get_page(archived=True, properties=["subject"])
    assert [(t.id, t.archived, t.properties["subject"]) for t in archived.results] == [
        (ids[0], True, "Renamed"),
        (ids[1], True, "Batch 1"),
    ]
    live = hubspot.crm.tickets.basic_api.get_page()
    assert [t.id for t in live.results] == [ids[2]]


def test_a_batch_create_with_one_invalid_ticket_creates_none(hubspot, stages):
    with pytest.raises(ApiException) as caught:
        hubspot.crm.tickets.batch_api.create(
            batch_input_simple_public_object_batch_input_for_create=(
                BatchInputSimplePublicObjectBatchInputForCreate(
                    inputs=[
                        SimplePublicObjectBatchInputForCreate(
                            properties={"subject": "Fine", "hs_pipeline_stage": stages["New"]}
                        ),
                        SimplePublicObjectBatchInputForCreate(
                            properties={"subject": "Bad", "hs_pipeline_stage": "nope"}
                        ),
                    ]
                )
            )
        )
    assert caught.value.status == 400
    assert not Ticket.objects.exists()


def test_upsert_updates_existing_and_creates_new(hubspot, stages):
    existing = TicketFactory(name="Old")
    answer = hubspot.crm.tickets.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    SimplePublicObjectBatchInputUpsert(
                        id=str(existing.pk),
                        id_property="hs_object_id",
                        properties={"subject": "New"},
                    ),
                    SimplePublicObjectBatchInputUpsert(
                        id="888888",
                        id_property="hs_object_id",
                        properties={"subject": "Fresh", "hs_pipeline_stage": stages["New"]},
                    ),
                ]
            )
        )
    )
    assert [(r.properties["subject"], r.new) for r in answer.results] == [
        ("New", False),
        ("Fresh", True),
    ]
    assert Ticket.objects.count() == 2


def test_inline_contact_association_shows_on_the_ticket(hubspot, stages):
    contact = ContactFactory()
    created = hubspot.crm.tickets.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"subject": "With contact", "hs_pipeline_stage": stages["New"]},
            associations=[
                {
                    "to": {"id": str(contact.pk)},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}],
                }
            ],
        )
    )
    assert Ticket.objects.get(pk=created.id).contact_id == contact.pk
    got = hubspot.crm.tickets.basic_api.get_by_id(created.id, associations=["contacts"])
    assert got.associations["contacts"].results[0].id == str(contact.pk)
    assert got.associations["contacts"].results[0].type == "ticket_to_contact"


def test_an_association_to_a_missing_record_is_refused(hubspot, stages):
    with pytest.raises(ApiException) as caught:
        hubspot.crm.tickets.basic_api.create(
            simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
                properties={"subject": "Lonely", "hs_pipeline_stage": stages["New"]},
                associations=[
                    {
                        "to": {"id": "999999"},
                        "types": [
                            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}
                        ],
                    }
                ],
            )
        )
    assert caught.value.status == 400
    assert not Ticket.objects.exists()


def test_a_merged_ticket_id_resolves_to_the_ticket_it_went_into(hubspot, stages):
    survivor = TicketFactory(name="Merged")
    TicketRedirect.objects.create(old_id=777_777, ticket=survivor, merged_at=survivor.created_at)
    got = hubspot.crm.tickets.basic_api.get_by_id("777777", properties=["hs_merged_object_ids"])
    assert got.id == str(survivor.pk)
    assert got.properties["hs_merged_object_ids"] == "777777"


def test_a_restricted_agent_sees_only_tickets_in_scope(make_client, make_token, team_agent, stages):
    from svardesk.teams.models import Team

    billing = Team.objects.get(name="Billing")
    mine = TicketFactory(team=billing)
    theirs = TicketFactory()
    client = make_client(make_token(team_agent))
    assert [t.id for t in client.crm.tickets.get_all()] == [str(mine.pk)]
    assert client.crm.tickets.basic_api.get_by_id(str(mine.pk)).id == str(mine.pk)
    with pytest.raises(NotFoundException):
        client.crm.tickets.basic_api.get_by_id(str(theirs.pk))
    with pytest.raises(NotFoundException):
        client.crm.tickets.basic_api.update(
            str(theirs.pk),
            simple_public_object_input=SimplePublicObjectInput(properties={"subject": "Mine now"}),
        )
    client.crm.tickets.basic_api.archive(str(theirs.pk))  # 204, and nothing happens
    assert Ticket.objects.filter(pk=theirs.pk, name=theirs.name).exists()


def test_a_token_without_the_scope_is_forbidden(make_client, make_token, super_admin, stages):
    from hubspot.crm.tickets.exceptions import ForbiddenException

    client = make_client(make_token(super_admin, scopes=["crm.objects.contacts.read"]))
    with pytest.raises(ForbiddenException) as caught:
        client.crm.tickets.basic_api.get_page()
    assert _body(caught.value)["category"] == "MISSING_SCOPES"
    contacts = client.crm.contacts.basic_api.get_page()
    assert contacts.results == []


def test_object_type_ids_and_custom_properties(raw_api, stages):
    from svardesk.tickets.services import create_property_definition

    create_property_definition(actor=None, name="renewal_date", label="Renewal", type="date")
    created = raw_api.post(
        "/crm/v3/objects/0-5",
        {
            "properties": {
                "subject": "Custom",
                "hs_pipeline_stage": int(stages["New"]),
                "renewal_date": 1714521600000,  # epoch ms: 2024-05-01
            }
        },
    )
    assert created.status == 201, created.body
    assert created.body["properties"]["renewal_date"] == "2024-05-01"
    got = raw_api.get(f"/crm/v3/objects/tickets/{created.body['id']}?properties=renewal_date")
    assert got.body["properties"]["renewal_date"] == "2024-05-01"
    cleared = raw_api.patch(
        f"/crm/v3/objects/tickets/{created.body['id']}", {"properties": {"renewal_date": ""}}
    )
    assert cleared.body["properties"]["renewal_date"] is None


def test_properties_with_history_lists_changes_newest_first(hubspot, stages):
    made = _create(hubspot, subject="History", hs_pipeline_stage=stages["New"])
    hubspot.crm.tickets.basic_api.update(
        made.id,
        simple_public_object_input=SimplePublicObjectInput(
            properties={"hs_pipeline_stage": stages["Waiting on us"]}
        ),
    )
    got = hubspot.crm.tickets.basic_api.get_by_id(
        made.id, properties_with_history=["hs_pipeline_stage"]
    )
    history = got.properties_with_history["hs_pipeline_stage"]
    assert [h.value for h in history] == [stages["Waiting on us"], stages["New"]]
    assert history[0].timestamp >= history[1].timestamp


def test_a_naive_date_time_is_read_as_utc(raw_api, stages, settings):
    from svardesk.tickets.services import create_property_definition

    create_property_definition(actor=None, name="callback_at", label="Callback", type="datetime")
    created = raw_api.post(
        "/crm/v3/objects/tickets",
        {
            "properties": {
                "subject": "Call back",
                "hs_pipeline_stage": stages["New"],
                "callback_at": "2024-05-01T10:00:00",
            }
        },
    )
    assert created.body["properties"]["callback_at"] == "2024-05-01T10:00:00.000Z"
    changed = raw_api.patch(
        f"/crm/v3/objects/tickets/{created.body['id']}",
        {"properties": {"callback_at": "1714557600000"}},  # epoch ms: 2024-05-01T10:00Z
    )
    assert changed.body["properties"]["callback_at"] == "2024-05-01T10:00:00.000Z"


def test_a_batch_update_with_one_invalid_change_changes_nothing(hubspot, stages):
    first, second = TicketFactory(name="First"), TicketFactory(name="Second")
    with pytest.raises(ApiException) as caught:
        hubspot.crm.tickets.batch_api.update(
            batch_input_simple_public_object_batch_input=BatchInputSimplePublicObjectBatchInput(
                inputs=[
                    # Changed first (lower id), then undone when the second fails.
                    SimplePublicObjectBatchInput(id=str(first.pk), properties={"subject": "A"}),
                    SimplePublicObjectBatchInput(
                        id=str(second.pk), properties={"hs_ticket_priority": "SOMEDAY"}
                    ),
                ]
            )
        )
    assert caught.value.status == 400
    assert _body(caught.value)["errors"][0]["code"] == "INVALID_OPTION"
    assert sorted(Ticket.objects.values_list("name", flat=True)) == ["First", "Second"]
    assert not TicketEvent.objects.filter(kind="property_changed").exists()
