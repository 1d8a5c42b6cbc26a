"""Contacts, companies and deals through the official SDK."""

import json

import pytest
from hubspot.crm.companies.exceptions import ApiException as CompanyApiException
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputUpsert,
    PublicGdprDeleteInput,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.deals.exceptions import ApiException as DealApiException

from svardesk.api.models import ArchivedRecord
from svardesk.crm.models import Association, Company, Contact, ContactEmail, Deal, RecordEvent
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _new(properties, associations=None):
    return SimplePublicObjectInputForCreate(properties=properties, associations=associations)


def test_contact_crud_by_id_and_email(hubspot, super_admin):
    created = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=_new(
            {"firstname": "Greta", "lastname": "Garbo", "email": "Greta@Example.com",
             "phone": "+46701234567"}
        )
    )  # fmt: skip
    assert created is not None
    assert created.properties["firstname"] == "Greta"
    assert created.properties["email"] == "Greta@Example.com"
    assert created.properties["lastmodifieddate"] == created.properties["lastmodifieddate"]
    contact = Contact.objects.get(pk=created.id)
    assert contact.phone == "+46701234567"

    by_email = hubspot.crm.contacts.basic_api.get_by_id("greta@example.com", id_property="email")
    assert by_email.id == created.id
    ContactEmail.objects.create(
        contact=contact, email="g@garbo.se", email_key="g@garbo.se", is_primary=False
    )
    assert (
        hubspot.crm.contacts.basic_api.get_by_id("G@garbo.se", id_property="email").id == created.id
    )

    updated = hubspot.crm.contacts.basic_api.update(
        created.id,
        simple_public_object_input=SimplePublicObjectInput(
            properties={"lastname": "", "email": "greta@hollywood.com"}
        ),
    )
    assert updated.properties["lastname"] is None
    assert updated.properties["email"] == "greta@hollywood.com"
    contact.refresh_from_db()
    assert contact.last_name == ""
    # The new address is primary; the other one stays, the replaced one goes.
    assert list(
        ContactEmail.objects.filter(contact=contact)
        .order_by("-is_primary", "email")
        .values_list("email", "is_primary")
    ) == [("greta@hollywood.com", True), ("g@garbo.se", False)]
    assert RecordEvent.objects.filter(
        object_type="contact", object_id=contact.pk, kind="changed", property_name="last_name"
    ).exists()

    hubspot.crm.contacts.basic_api.archive(created.id)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    assert ArchivedRecord.objects.get(object_type="contact").properties["firstname"] == "Greta"
    with pytest.raises(NotFoundException):
        hubspot.crm.contacts.basic_api.get_by_id(created.id)
    assert hubspot.crm.contacts.basic_api.get_by_id(created.id, archived=True).archived


def test_a_contact_with_an_existing_email_is_a_conflict(hubspot):
    existing = ContactFactory(email="taken@example.com")
    ContactEmail.objects.create(
        contact=existing, email="taken@example.com", email_key="taken@example.com", is_primary=True
    )
    with pytest.raises(ApiException) as caught:
        hubspot.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=_new({"email": "TAKEN@example.com"})
        )
    assert caught.value.status == 409
    body = json.loads(caught.value.body)
    assert body["category"] == "CONFLICT"
    assert body["message"] == f"Contact already exists. Existing ID: {existing.pk}"
    assert Contact.objects.count() == 1


def test_invalid_contact_values_are_validation_errors(hubspot):
    with pytest.raises(ApiException) as caught:
        hubspot.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=_new({"email": "not an address"})
        )
    body = json.loads(caught.value.body)
    assert caught.value.status == 400
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["context"]["propertyName"] == ["email"]
    with pytest.raises(ApiException) as caught:
        hubspot.crm.contacts.basic_api.create(
            simple_public_object_input_for_create=_new({"hs_object_id": "1"})
        )
    assert json.loads(caught.value.body)["errors"][0]["code"] == "READ_ONLY_VALUE"
    assert not Contact.objects.exists()


def test_upsert_contacts_by_email(hubspot):
    existing = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=_new({"email": "old@example.com", "firstname": "O"})
    )
    answer = hubspot.crm.contacts.batch_api.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    SimplePublicObjectBatchInputUpsert(
                        id="OLD@example.com", id_property="email", properties={"firstname": "Olga"}
                    ),
                    SimplePublicObjectBatchInputUpsert(
                        id="new@example.com", id_property="email", properties={"firstname": "Nils"}
                    ),
                ]
            )
        )
    )
    assert [(r.id == existing.id, r.new, r.properties["firstname"]) for r in answer.results] == [
        (True, False, "Olga"),
        (False, True, "Nils"),
    ]
    assert Contact.objects.get(pk=answer.results[1].id).email == "new@example.com"


def test_gdpr_delete_leaves_nothing(hubspot):
    made = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=_new({"email": "forget@example.com"})
    )
    hubspot.crm.contacts.basic_api.purge(
        public_gdpr_delete_input=PublicGdprDeleteInput(
            object_id="forget@example.com", id_property="email"
        )
    )
    assert not Contact.objects.exists()
    assert not ArchivedRecord.objects.exists()
    with pytest.raises(NotFoundException):
        hubspot.crm.contacts.basic_api.purge(
            public_gdpr_delete_input=PublicGdprDeleteInput(object_id=made.id)
        )


def test_company_crud_and_contact_association(hubspot):
    company = hubspot.crm.companies.basic_api.create(
        simple_public_object_input_for_create=_new(
            {"name": "Acme", "domain": "https://www.Acme.example/about", "city": "Lund"}
        )
    )
    assert company.properties["domain"] == "acme.example"
    assert company.properties["name"] == "Acme"
    contact = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=_new(
            {"firstname": "Wile"},
            associations=[
                {
                    "to": {"id": company.id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}],
                }
            ],
        )
    )
    assert Contact.objects.get(pk=contact.id).company_id == int(company.id)
    got = hubspot.crm.companies.basic_api.get_by_id(company.id, associations=["contacts"])
    assert [(a.id, a.type) for a in got.associations["contacts"].results] == [
        (contact.id, "company_to_contact")
    ]
    with pytest.raises(CompanyApiException) as caught:
        hubspot.crm.companies.basic_api.update(
            company.id, simple_public_object_input=SimplePublicObjectInput(properties={"name": ""})
        )
    assert caught.value.status == 400
    hubspot.crm.companies.basic_api.archive(company.id)
    assert not Company.objects.exists()
    assert Contact.objects.get(pk=contact.id).company_id is None
    assert not Association.objects.filter(to_type="company").exists()


def test_deal_crud_with_string_values(hubspot):
    deal = hubspot.crm.deals.basic_api.create(
        simple_public_object_input_for_create=_new(
            {"dealname": "Big one", "amount": "1500.50", "dealstage": "qualifiedtobuy",
             "closedate": "2024-06-30T00:00:00.000Z", "deal_currency_code": "EUR"}
        )
    )  # fmt: skip
    assert deal.properties["amount"] == "1500.5"
    assert deal.properties["dealstage"] == "qualifiedtobuy"
    assert deal.properties["closedate"] == "2024-06-30"
    assert deal.properties["pipeline"] == "default"
    row = Deal.objects.get(pk=deal.id)
    assert str(row.amount) == "1500.50"
    with pytest.raises(DealApiException) as caught:
        hubspot.crm.deals.basic_api.update(
            deal.id,
            simple_public_object_input=SimplePublicObjectInput(properties={"dealstage": "won"}),
        )
    assert json.loads(caught.value.body)["errors"][0]["code"] == "INVALID_OPTION"
    page = hubspot.crm.deals.basic_api.get_page(properties=["amount"])
    assert [(d.id, d.properties["amount"]) for d in page.results] == [(deal.id, "1500.5")]


def test_records_visible_to_a_restricted_agent_follow_their_tickets(
    make_client, make_token, team_agent
):
    from svardesk.teams.models import Team

    seen = ContactFactory()
    hidden = ContactFactory()
    TicketFactory(team=Team.objects.get(name="Billing"), contact=seen)
    TicketFactory(contact=hidden)
    client = make_client(make_token(team_agent))
    assert [c.id for c in client.crm.contacts.get_all()] == [str(seen.pk)]
    with pytest.raises(NotFoundException):
        client.crm.contacts.basic_api.get_by_id(str(hidden.pk))


def test_a_merged_away_contact_id_reads_the_contact_it_went_into(hubspot, super_admin):
    from svardesk.crm.services import merge_contacts

    primary = ContactFactory(first_name="Kept")
    other = ContactFactory(first_name="Gone")
    merge_contacts(actor=super_admin, primary=primary, other=other)
    got = hubspot.crm.contacts.basic_api.get_by_id(str(other.pk))
    assert got.id == str(primary.pk)
    assert got.properties["firstname"] == "Kept"
    assert [c.id for c in hubspot.crm.contacts.get_all()] == [str(primary.pk)]


def test_a_contacts_property_history(hubspot):
    made = hubspot.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=_new({"firstname": "Ann"})
    )
    hubspot.crm.contacts.basic_api.update(
        made.id, simple_public_object_input=SimplePublicObjectInput(properties={"firstname": "Bo"})
    )
    got = hubspot.crm.contacts.basic_api.get_by_id(
        made.id, properties_with_history=["firstname", "lastname"]
    )
    assert [h.value for h in got.properties_with_history["firstname"]] == ["Bo", "Ann"]
    assert [h.value for h in got.properties_with_history["lastname"]] == [""]
