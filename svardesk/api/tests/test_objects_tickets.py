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
