"""Pipelines API (`/crm/v3/pipelines/…`) with the SDK: ticket pipelines and stages are the
ones Settings → Pipelines shows; the deal pipeline is read-only."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.pipelines import (
    PipelineInput,
    PipelinePatchInput,
    PipelineStageInput,
    PipelineStagePatchInput,
)
from hubspot.crm.pipelines.exceptions import ApiException, ForbiddenException, NotFoundException

from svardesk.tickets.models import Pipeline, Stage, Ticket
from svardesk.workspace.settings import queries as settings_queries
from tests.factories import TicketFactory, default_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


def stage_input(label: str, order: int, state: str = "OPEN") -> PipelineStageInput:
    return PipelineStageInput(label=label, display_order=order, metadata={"ticketState": state})


@pytest.fixture
def pipelines(hubspot):
    default_pipeline()
    return hubspot.crm.pipelines


def test_the_built_in_pipeline_is_0_with_its_four_stages(pipelines):
    listed = pipelines.pipelines_api.get_all("tickets").results

    assert [p.id for p in listed] == ["0"]
    support = listed[0]
    assert support.label == "Support pipeline"
    assert [s.label for s in support.stages] == ["New", "Waiting on contact", "Waiting on us",
                                                 "Closed"]  # fmt: skip
    assert [s.metadata["ticketState"] for s in support.stages] == ["OPEN"] * 3 + ["CLOSED"]
    assert support.created_at.tzinfo is not None
    assert pipelines.pipelines_api.get_by_id("0-5", "0").label == "Support pipeline"


def test_a_pipeline_created_over_the_api_is_the_one_settings_shows(pipelines):
    made = pipelines.pipelines_api.create(
        "tickets",
        PipelineInput(
            label="Returns",
            display_order=1,
            stages=[stage_input("Received", 0), stage_input("Refunded", 1, "CLOSED")],
        ),
    )

    assert made is not None  # 201, or the SDK would return None
    assert made.label == "Returns"
    assert [(s.label, s.metadata["ticketState"]) for s in made.stages] == [
        ("Received", "OPEN"),
        ("Refunded", "CLOSED"),
    ]
    shown = {p.name: p for p in settings_queries.list_pipelines_with_stage_counts()}
    assert [s.name for s in shown["Returns"].stages.all()] == ["Received", "Refunded"]
    assert str(shown["Returns"].pk) == made.id


def test_renaming_replacing_and_deleting_a_pipeline(pipelines):
    api = pipelines.pipelines_api
    made = api.create("tickets", PipelineInput(label="Returns", display_order=1,
                                               stages=[stage_input("Received", 0)]))  # fmt: skip
    received_id = made.stages[0].id

    renamed = api.update("tickets", made.id, PipelinePatchInput(label="Returns and refunds"))
    assert renamed.label == "Returns and refunds"

    replaced = api.replace(
        "tickets",
        made.id,
        PipelineInput(
            label="Returns",
            display_order=1,
            stages=[stage_input("Inspected", 1), stage_input("Received", 0),
                    stage_input("Done", 2, "CLOSED")],
        ),
    )  # fmt: skip
    assert [s.label for s in replaced.stages] == ["Received", "Inspected", "Done"]
    assert replaced.stages[0].id == received_id  # a stage of the same label keeps its id

    api.archive("tickets", made.id)
    assert not Pipeline.objects.filter(pk=int(made.id)).exists()
    with pytest.raises(NotFoundException):
        api.get_by_id("tickets", made.id)


def test_a_pipeline_with_tickets_cannot_be_deleted(pipelines, raw_api):
    TicketFactory()

    answer = raw_api.delete("/crm/v3/pipelines/tickets/0")

    assert answer.status == 409
    assert answer.body["category"] == "CONFLICT"
    assert Pipeline.objects.filter(pk=default_pipeline().pk).exists()


def test_stages_create_update_reorder_and_delete(pipelines):
    stages = pipelines.pipeline_stages_api

    made = stages.create("tickets", "0", stage_input("Escalated", 1))
    assert made is not None
    assert made.metadata["ticketState"] == "OPEN"
    labels = [s.label for s in stages.get_all("tickets", "0").results]
    assert labels == ["New", "Escalated", "Waiting on contact", "Waiting on us", "Closed"]

    closed = stages.update(
        "tickets", "0", made.id, PipelineStagePatchInput(metadata={"ticketState": "CLOSED"})
    )
    assert closed.metadata["ticketState"] == "CLOSED"
    assert Stage.objects.get(pk=int(made.id)).is_closed is True
    assert stages.get_by_id("tickets", "0", made.id).label == "Escalated"

    stages.archive("tickets", "0", made.id)
    assert not Stage.objects.filter(pk=int(made.id)).exists()


def test_closing_a_stage_closes_its_tickets(pipelines):
    ticket = TicketFactory()
    stage_id = str(ticket.stage_id)

    pipelines.pipeline_stages_api.replace("tickets", "0", stage_id, stage_input("New", 0, "CLOSED"))

    assert Ticket.objects.get(pk=ticket.pk).is_open is False


def test_a_stage_with_tickets_cannot_be_deleted(pipelines, raw_api):
    ticket = TicketFactory()

    answer = raw_api.delete(f"/crm/v3/pipelines/tickets/0/stages/{ticket.stage_id}")

    assert answer.status == 409
    assert Stage.objects.filter(pk=ticket.stage_id).exists()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"label": "X", "displayOrder": 0, "stages": []}, id="no-stages"),
        pytest.param({"displayOrder": 0, "stages": [{"label": "A", "displayOrder": 0,
                      "metadata": {"ticketState": "OPEN"}}]}, id="no-label"),
        pytest.param({"label": "X", "displayOrder": 0, "stages": [{"label": "A",
                      "displayOrder": 0, "metadata": {"ticketState": "DONE"}}]},
                     id="bad-ticket-state"),
    ],
)  # fmt: skip
def test_invalid_pipelines_answer_400(pipelines, raw_api, body):
    answer = raw_api.post("/crm/v3/pipelines/tickets", body)

    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert Pipeline.objects.count() == 1


def test_only_a_super_admins_token_changes_pipelines(make_client, make_token, agent):
    default_pipeline()
    client = make_client(make_token(agent))

    assert client.crm.pipelines.pipelines_api.get_all("tickets").results  # reading is fine
    with pytest.raises(ForbiddenException):
        client.crm.pipelines.pipelines_api.create(
            "tickets", PipelineInput(label="Mine", display_order=1,
                                     stages=[stage_input("A", 0)])
        )  # fmt: skip
    assert Pipeline.objects.count() == 1


def test_the_deal_pipeline_is_read_only(pipelines, raw_api):
    deals = pipelines.pipelines_api.get_all("deals").results

    assert [p.id for p in deals] == ["default"]
    assert deals[0].stages[0].id == "appointmentscheduled"
    assert deals[0].stages[-1].metadata == {"probability": "0.0", "isClosed": "true"}
    with pytest.raises(ApiException) as raised:
        pipelines.pipelines_api.create(
            "deals", PipelineInput(label="X", display_order=0, stages=[stage_input("A", 0)])
        )
    assert raised.value.status == 405
    assert json.loads(raised.value.body)["status"] == "error"


def test_display_order_places_a_pipeline_where_settings_lists_it(pipelines):
    api = pipelines.pipelines_api

    made = api.create("tickets", PipelineInput(label="Returns", display_order=0,
                                               stages=[stage_input("Received", 0)]))  # fmt: skip

    assert [p.label for p in api.get_all("tickets").results] == ["Returns", "Support pipeline"]
    names = [p.name for p in settings_queries.list_pipelines_with_stage_counts()]
    assert names == ["Returns", "Support pipeline"]

    api.update("tickets", made.id, PipelinePatchInput(display_order=1))

    assert [p.id for p in api.get_all("tickets").results] == ["0", made.id]
