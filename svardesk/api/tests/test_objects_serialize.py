"""The objects' shape as the API shows them, and the fixed number of queries a page costs."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.api.errors import ApiError
from svardesk.api.objects.serialize import object_type_from_path, serialize_objects
from svardesk.crm import associations
from svardesk.tickets.models import TicketRedirect
from tests.factories import ContactFactory, TicketFactory, stage_named

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("tickets", "tickets"), ("0-5", "tickets"), ("Contacts", "contacts"), ("0-2", "companies"),
     ("0-3", "deals")],
)  # fmt: skip
def test_object_types_by_name_or_type_id(raw, expected):
    assert object_type_from_path(raw) == expected


def test_an_unknown_object_type_is_a_404():
    with pytest.raises(ApiError) as caught:
        object_type_from_path("lines")
    assert caught.value.status == 404


def test_a_ticket_shows_default_properties_as_strings(super_admin):
    ticket = TicketFactory(name="Printer on fire", description="Smoke", category="BILLING_ISSUE")
    [shown] = serialize_objects("tickets", [ticket], properties=None, user=super_admin)
    assert shown["id"] == str(ticket.pk)
    assert shown["archived"] is False
    assert shown["createdAt"].endswith("Z")
    props = shown["properties"]
    assert props["subject"] == "Printer on fire"
    assert props["content"] == "Smoke"
    assert props["hs_pipeline"] == "0"  # the built-in pipeline
    assert props["hs_pipeline_stage"] == str(stage_named("New").pk)
    assert props["hs_ticket_priority"] == "MEDIUM"
    assert props["hs_ticket_category"] == "BILLING_ISSUE"
    assert props["hs_object_id"] == str(ticket.pk)
    assert props["createdate"] == shown["createdAt"]
    assert props["hs_lastmodifieddate"] == shown["updatedAt"]
    assert set(props) == {
        "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_category",
        "hs_ticket_priority", "subject", "createdate", "hs_lastmodifieddate", "hs_object_id",
    }  # fmt: skip


def test_asked_properties_plus_the_always_ones_and_unknown_names_ignored(super_admin):
    ticket = TicketFactory(stage=stage_named("Closed"), is_open=False)
    TicketRedirect.objects.create(old_id=900, ticket=ticket, merged_at=ticket.created_at)
    TicketRedirect.objects.create(old_id=77, ticket=ticket, merged_at=ticket.created_at)
    [shown] = serialize_objects(
        "tickets",
        [ticket],
        properties=["hs_is_closed", "hs_merged_object_ids", "nonsense", "hubspot_owner_id"],
        user=super_admin,
    )
    assert shown["properties"] == {
        "hs_is_closed": "true",
        "hs_merged_object_ids": "77;900",
        "hubspot_owner_id": None,
        "hs_object_id": str(ticket.pk),
        "createdate": shown["createdAt"],
        "hs_lastmodifieddate": shown["updatedAt"],
    }


def test_a_page_costs_the_same_queries_for_one_or_many_tickets(super_admin):
    contact = ContactFactory()
    one = [TicketFactory(contact=contact)]
    many = [TicketFactory(contact=contact) for _ in range(20)]
    asked = ["subject", "hs_merged_object_ids", "hs_is_closed"]

    def count(tickets):
        serialize_objects("tickets", tickets, properties=asked, user=super_admin,
                          associations=["contacts"])  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            shown = serialize_objects("tickets", tickets, properties=asked, user=super_admin,
                                      associations=["contacts"])  # fmt: skip
        return len(queries), shown

    few, _ = count(one)
    lots, shown = count(many)
    assert few == lots
    assert shown[0]["associations"] == {
        "contacts": {"results": [{"id": str(contact.pk), "type": "ticket_to_contact"}]}
    }


def test_a_contact_shows_hubspot_names(super_admin):
    contact = ContactFactory(first_name="Greta", last_name="Garbo", email="greta@example.com")
    ticket = TicketFactory()
    associations.associate("ticket", ticket.pk, "contact", contact.pk)
    [shown] = serialize_objects("contacts", [contact], properties=None, user=super_admin,
                                associations=["tickets"])  # fmt: skip
    assert shown["properties"]["firstname"] == "Greta"
    assert shown["properties"]["email"] == "greta@example.com"
    assert shown["properties"]["lastmodifieddate"] == shown["updatedAt"]
    assert shown["associations"]["tickets"]["results"] == [
        {"id": str(ticket.pk), "type": "contact_to_ticket"}
    ]
