"""Associations API v4 (per record, batches, labels) and the legacy v3 batch, with the SDK."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.associations import BatchInputPublicAssociation, BatchInputPublicObjectId
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiArchive,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicDefaultAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
)
from hubspot.crm.associations.v4.exceptions import (
    ApiException,
    ForbiddenException,
    NotFoundException,
)

from svardesk.crm import associations
from svardesk.crm.models import Company, Contact, Deal, RecordEvent
from svardesk.tickets.models import Ticket
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def spec(type_id: int) -> AssociationSpec:
    return AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=type_id)


def type_ids(result) -> set[int]:
    return {t.type_id for t in result.association_types}


@pytest.fixture
def ticket(db):
    return TicketFactory()


@pytest.fixture
def contact(db):
    return ContactFactory()


@pytest.fixture
def company(db):
    return Company.objects.create(name="Acme", domain="acme.test")


def test_a_ticket_contact_association_reads_from_both_sides_and_archives_in_both(
    hubspot, ticket, contact
):
    v4 = hubspot.crm.associations.v4.basic_api

    made = v4.create("tickets", str(ticket.pk), "contacts", str(contact.pk), [spec(16)])

    assert made.from_object_type_id == "0-5"
    assert made.from_object_id == str(ticket.pk)
    assert made.to_object_type_id == "0-1"
    assert made.to_object_id == str(contact.pk)
    from_contact = v4.get_page("contacts", str(contact.pk), "tickets").results
    assert [r.to_object_id for r in from_contact] == [str(ticket.pk)]
    assert type_ids(from_contact[0]) == {15}
    from_ticket = v4.get_page("0-5", str(ticket.pk), "0-1").results
    assert type_ids(from_ticket[0]) == {16}
    # As the ticket's card does: the ticket's first contact is its primary contact.
    assert Ticket.objects.get(pk=ticket.pk).contact_id == contact.pk

    v4.archive("contact", str(contact.pk), "ticket", str(ticket.pk))

    assert v4.get_page("tickets", str(ticket.pk), "contacts").results == []
    assert v4.get_page("contacts", str(contact.pk), "tickets").results == []
    assert Ticket.objects.get(pk=ticket.pk).contact_id is None


def test_default_association_of_a_ticket_and_a_company_makes_the_first_company_primary(
    hubspot, ticket, company
):
    v4 = hubspot.crm.associations.v4.basic_api

    answer = v4.create_default("tickets", str(ticket.pk), "companies", str(company.pk))

    assert answer.status == "COMPLETE"
    assert answer.results[0].association_spec.association_type_id == 339
    assert answer.results[0]._from.id == str(ticket.pk)
    from_ticket = v4.get_page("tickets", str(ticket.pk), "companies").results
    assert type_ids(from_ticket[0]) == {339, 26}
    from_company = v4.get_page("companies", str(company.pk), "tickets").results
    assert type_ids(from_company[0]) == {340, 25}
    assert {t.label for t in from_company[0].association_types} == {None, "Primary"}


def test_the_primary_type_makes_a_company_the_contacts_primary_company(hubspot, contact, company):
    v4 = hubspot.crm.associations.v4.basic_api
    other = Company.objects.create(name="Other")
    v4.create("contacts", str(contact.pk), "companies", str(other.pk), [spec(279)])
    assert Contact.objects.get(pk=contact.pk).company_id == other.pk  # the first one

    made = v4.create("companies", str(company.pk), "contacts", str(contact.pk), [spec(2)])

    assert made.labels == ["Primary"]
    assert Contact.objects.get(pk=contact.pk).company_id == company.pk
    listed = {
        r.to_object_id: type_ids(r)
        for r in v4.get_page("contacts", str(contact.pk), "companies").results
    }
    assert listed == {str(company.pk): {279, 1}, str(other.pk): {279}}
    # The contact's timeline notes the association, as a record page's change does.
    assert RecordEvent.objects.filter(
        object_type="contact", object_id=contact.pk, kind="associated"
    ).exists()


def test_archiving_only_the_primary_label_keeps_the_association(hubspot, contact, company):
    v4 = hubspot.crm.associations.v4
    v4.basic_api.create("contacts", str(contact.pk), "companies", str(company.pk), [spec(1)])

    v4.batch_api.archive_labels(
        "contacts",
        "companies",
        BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": str(contact.pk)}, "to": {"id": str(company.pk)},
                     "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": 1}]}]
        ),
    )  # fmt: skip

    results = v4.basic_api.get_page("contacts", str(contact.pk), "companies").results
    assert [type_ids(r) for r in results] == [{279}]
    assert Contact.objects.get(pk=contact.pk).company_id is None


def test_listing_pages_through_associations_in_id_order(hubspot, contact):
    tickets = [TicketFactory(contact=contact) for _ in range(5)]
    v4 = hubspot.crm.associations.v4.basic_api

    first = v4.get_page("contacts", str(contact.pk), "tickets", limit=2)
    second = v4.get_page(
        "contacts", str(contact.pk), "tickets", limit=2, after=first.paging.next.after
    )
    third = v4.get_page(
        "contacts", str(contact.pk), "tickets", limit=2, after=second.paging.next.after
    )

    seen = [r.to_object_id for page in (first, second, third) for r in page.results]
    assert seen == [str(t.pk) for t in sorted(tickets, key=lambda t: t.pk)]
    assert third.paging is None


def test_batch_create_with_one_missing_record_answers_207_and_makes_the_rest(
    hubspot, ticket, contact
):
    other = ContactFactory()
    batch = hubspot.crm.associations.v4.batch_api

    answer = batch.create(
        "tickets",
        "contacts",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                {"from": {"id": str(ticket.pk)}, "to": {"id": str(cid)},
                 "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}]}
                for cid in (contact.pk, 999_999, other.pk)
            ]
        ),
    )  # fmt: skip

    assert answer.num_errors == 1
    assert answer.errors[0].category == "OBJECT_NOT_FOUND"
    assert sorted(r.to_object_id for r in answer.results) == sorted(
        [str(contact.pk), str(other.pk)]
    )
    linked = set(associations.associated_ids("ticket", ticket.pk, "contact"))
    assert linked == {contact.pk, other.pk}


def test_batch_create_of_good_inputs_answers_201(hubspot, ticket, contact):
    answer = hubspot.crm.associations.v4.batch_api.create(
        "0-5",
        "0-1",
        BatchInputPublicAssociationMultiPost(
            inputs=[{"from": {"id": str(ticket.pk)}, "to": {"id": str(contact.pk)},
                     "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": 16}]}]
        ),
    )  # fmt: skip

    assert answer is not None  # the SDK returns None for a status it does not expect
    assert answer.status == "COMPLETE"
    assert answer.results[0].to_object_id == str(contact.pk)


def test_batch_read_default_and_archive(hubspot, ticket, contact):
    deal = Deal.objects.create(name="Renewal")
    batch = hubspot.crm.associations.v4.batch_api

    made = batch.create_default(
        "deals",
        "tickets",
        BatchInputPublicDefaultAssociationMultiPost(
            inputs=[{"from": {"id": str(deal.pk)}, "to": {"id": str(ticket.pk)}}]
        ),
    )
    assert made.results[0].association_spec.association_type_id == 27

    read = batch.get_page(
        "tickets",
        "deals",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[{"id": str(ticket.pk)}, {"id": "999999"}]
        ),
    )
    assert read.num_errors == 1
    assert [r._from.id for r in read.results] == [str(ticket.pk)]
    assert [(t.to_object_id, type_ids(t)) for t in read.results[0].to] == [(str(deal.pk), {28})]

    batch.archive(
        "tickets",
        "deals",
        BatchInputPublicAssociationMultiArchive(
            inputs=[{"from": {"id": str(ticket.pk)}, "to": [{"id": str(deal.pk)}]}]
        ),
    )
    assert not associations.associated_ids("deal", deal.pk, "ticket").exists()


def test_labels_between_two_object_types(hubspot):
    labels = hubspot.crm.associations.v4.schema.definitions_api.get_all("tickets", "companies")

    assert {(r.type_id, r.label) for r in labels.results} == {(339, None), (26, "Primary")}


def test_v3_batch_create_read_and_archive(hubspot, ticket, contact):
    v3 = hubspot.crm.associations.batch_api

    made = v3.create(
        "tickets",
        "contacts",
        BatchInputPublicAssociation(
            inputs=[{"from": {"id": str(ticket.pk)}, "to": {"id": str(contact.pk)},
                     "type": "ticket_to_contact"}]
        ),
    )  # fmt: skip
    assert made.results[0].type == "ticket_to_contact"

    read = v3.read(
        "contacts", "tickets", BatchInputPublicObjectId(inputs=[{"id": str(contact.pk)}])
    )
    assert [(a.id, a.type) for a in read.results[0].to] == [(str(ticket.pk), "contact_to_ticket")]

    v3.archive(
        "contacts",
        "tickets",
        BatchInputPublicAssociation(
            inputs=[{"from": {"id": str(contact.pk)}, "to": {"id": str(ticket.pk)},
                     "type": "contact_to_ticket"}]
        ),
    )  # fmt: skip
    assert not associations.associated_ids("ticket", ticket.pk, "contact").exists()


def test_a_restricted_agent_cannot_associate_records_out_of_scope(
    make_client, make_token, team_agent, billing_team, support_team
):
    own_ticket = TicketFactory(team=billing_team)
    other_ticket = TicketFactory(team=support_team)
    hidden_contact = ContactFactory()
    TicketFactory(team=support_team, contact=hidden_contact)
    client = make_client(make_token(team_agent))
    v4 = client.crm.associations.v4.basic_api

    with pytest.raises(NotFoundException):
        v4.create("tickets", str(own_ticket.pk), "contacts", str(hidden_contact.pk), [spec(16)])
    with pytest.raises(NotFoundException):
        v4.get_page("tickets", str(other_ticket.pk), "contacts")

    assert not associations.associated_ids("ticket", own_ticket.pk, "contact").exists()
    # The hidden contact's tickets do not show through a visible record either.
    visible_contact = ContactFactory()
    TicketFactory(team=billing_team, contact=visible_contact)
    TicketFactory(team=support_team, contact=visible_contact)
    listed = v4.get_page("contacts", str(visible_contact.pk), "tickets").results
    assert len(listed) == 1


def test_writing_needs_the_write_scope_of_both_object_types(
    make_client, make_token, super_admin, ticket, contact
):
    client = make_client(make_token(super_admin, ["tickets", "crm.objects.contacts.read"]))
    v4 = client.crm.associations.v4.basic_api

    with pytest.raises(ForbiddenException) as raised:
        v4.create("tickets", str(ticket.pk), "contacts", str(contact.pk), [spec(16)])

    assert json.loads(raised.value.body)["category"] == "MISSING_SCOPES"
    assert v4.get_page("tickets", str(ticket.pk), "contacts").results == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("/crm/v4/objects/tickets/{t}/associations/contacts/{c}", [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 15}],
            id="type-of-the-other-direction"),
        pytest.param("/crm/v4/objects/tickets/{t}/associations/contacts/{c}", [
            {"associationCategory": "USER_DEFINED", "associationTypeId": 16}],
            id="no-user-defined-labels"),
        pytest.param("/crm/v4/objects/gadgets/{t}/associations/contacts/{c}", [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}],
            id="unknown-object-type"),
        pytest.param("/crm/v4/objects/contacts/{c}/associations/contacts/{c}", [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}],
            id="contact-with-contact"),
    ],
)  # fmt: skip
def test_invalid_associations_answer_400_and_change_nothing(raw_api, ticket, contact, path, body):
    answer = raw_api.put(path.format(t=ticket.pk, c=contact.pk), body)

    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert not associations.associated_ids("ticket", ticket.pk, "contact").exists()


def test_an_unknown_record_answers_404(hubspot, ticket):
    with pytest.raises(ApiException) as raised:
        hubspot.crm.associations.v4.basic_api.create(
            "tickets", str(ticket.pk), "contacts", "999999", [spec(16)]
        )
    assert raised.value.status == 404
    assert json.loads(raised.value.body)["category"] == "OBJECT_NOT_FOUND"


def test_a_merged_away_ticket_id_reads_the_merged_ticket(hubspot, ticket, contact):
    from django.utils import timezone

    from svardesk.tickets.models import TicketRedirect

    hubspot.crm.associations.v4.basic_api.create(
        "tickets", str(ticket.pk), "contacts", str(contact.pk), [spec(16)]
    )
    old_id = ticket.pk + 1000
    TicketRedirect.objects.create(old_id=old_id, ticket=ticket, merged_at=timezone.now())

    results = hubspot.crm.associations.v4.basic_api.get_page(
        "tickets", str(old_id), "contacts"
    ).results

    assert [r.to_object_id for r in results] == [str(contact.pk)]


def test_deals_keep_no_primary_company_so_the_primary_type_associates_unlabelled(hubspot, company):
    deal = Deal.objects.create(name="Renewal")

    made = hubspot.crm.associations.v4.basic_api.create(
        "deals", str(deal.pk), "companies", str(company.pk), [spec(5)]
    )

    assert made.labels == []
    results = hubspot.crm.associations.v4.basic_api.get_page(
        "companies", str(company.pk), "deals"
    ).results
    assert [(r.to_object_id, type_ids(r)) for r in results] == [(str(deal.pk), {342})]


def test_a_restricted_agents_batch_reports_records_out_of_scope_per_input(
    make_client, make_token, team_agent, billing_team, support_team
):
    own_ticket = TicketFactory(team=billing_team)
    shared_contact = ContactFactory()
    TicketFactory(team=billing_team, contact=shared_contact)
    hidden_contact = ContactFactory()
    TicketFactory(team=support_team, contact=hidden_contact)
    client = make_client(make_token(team_agent))

    answer = client.crm.associations.v4.batch_api.create(
        "tickets",
        "contacts",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                {"from": {"id": str(own_ticket.pk)}, "to": {"id": str(cid)},
                 "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}]}
                for cid in (shared_contact.pk, hidden_contact.pk)
            ]
        ),
    )  # fmt: skip

    assert answer.num_errors == 1
    assert answer.errors[0].context == {"id": [str(hidden_contact.pk)]}
    linked = set(associations.associated_ids("ticket", own_ticket.pk, "contact"))
    assert linked == {shared_contact.pk}


def test_malformed_batch_inputs_are_per_input_errors(raw_api, ticket, contact):
    answer = raw_api.post(
        "/crm/v4/associations/tickets/contacts/batch/create",
        {"inputs": ["not an object", {"from": {"id": str(ticket.pk)},
                    "to": {"id": str(contact.pk)},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED",
                               "associationTypeId": 1e300}]}]},
    )  # fmt: skip

    assert answer.status == 207
    assert answer.body["numErrors"] == 2
    assert {e["category"] for e in answer.body["errors"]} == {"VALIDATION_ERROR"}
