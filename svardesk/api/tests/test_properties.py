"""Properties API (`/crm/v3/properties/…`) with the SDK: built-in properties under HubSpot's
names, custom ones from Settings → Properties, and property groups."""

from __future__ import annotations

import json

import pytest
from hubspot.crm.properties import (
    BatchInputPropertyCreate,
    BatchInputPropertyName,
    BatchReadInputPropertyName,
    OptionInput,
    PropertyCreate,
    PropertyGroupCreate,
    PropertyGroupUpdate,
    PropertyUpdate,
)
from hubspot.crm.properties.exceptions import ApiException, ForbiddenException, NotFoundException

from svardesk.records import properties as record_props
from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyDefinition, PropertyGroup, PropertyType
from svardesk.workspace.settings import queries as settings_queries
from tests.factories import default_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def properties(hubspot):
    default_pipeline()
    return hubspot.crm.properties


def error_of(raised) -> dict:
    return json.loads(raised.value.body)


def test_built_in_ticket_properties_use_hubspots_names_and_types(properties):
    listed = {p.name: p for p in properties.core_api.get_all("tickets").results}

    assert {"subject", "content", "hs_pipeline", "hs_pipeline_stage", "hs_ticket_priority",
            "hubspot_owner_id", "createdate", "hs_object_id"} <= set(listed)  # fmt: skip
    priority = listed["hs_ticket_priority"]
    assert (priority.type, priority.field_type) == ("enumeration", "select")
    assert [o.value for o in priority.options] == ["LOW", "MEDIUM", "HIGH", "URGENT"]
    assert priority.hubspot_defined is True
    assert priority.modification_metadata.archivable is False
    assert priority.group_name == "ticketinformation"
    owner = listed["hubspot_owner_id"]
    assert owner.referenced_object_type == "OWNER"
    assert [o.value for o in listed["hs_pipeline"].options] == ["0"]
    assert (listed["createdate"].type, listed["createdate"].field_type) == ("datetime", "date")
    assert listed["createdate"].modification_metadata.read_only_value is True
    assert listed["subject"].modification_metadata.read_only_value is False
    assert (listed["content"].type, listed["content"].field_type) == ("string", "textarea")
    assert "PHONE" in {o.value for o in listed["source_type"].options}
    assert properties.core_api.get_by_name("tickets", "subject").label == "Ticket name"


def test_contacts_companies_and_deals_list_their_built_in_properties(properties):
    contacts = {p.name for p in properties.core_api.get_all("contacts").results}
    deals = {p.name: p for p in properties.core_api.get_all("0-3").results}

    assert {"firstname", "lastname", "email", "lastmodifieddate"} <= contacts
    assert "appointmentscheduled" in {o.value for o in deals["dealstage"].options}
    assert deals["amount"].type == "number"


@pytest.mark.parametrize(
    ("kind", "field_type", "expected"),
    [
        ("string", "text", PropertyType.TEXT),
        ("string", "textarea", PropertyType.TEXTAREA),
        ("number", "number", PropertyType.NUMBER),
        ("date", "date", PropertyType.DATE),
        ("datetime", "date", PropertyType.DATETIME),
        ("enumeration", "select", PropertyType.SELECT),
        ("enumeration", "radio", PropertyType.SELECT),
        ("enumeration", "checkbox", PropertyType.MULTISELECT),
        ("bool", "booleancheckbox", PropertyType.CHECKBOX),
    ],
)
def test_creating_a_custom_property_maps_hubspots_types(properties, kind, field_type, expected):
    options = (
        [OptionInput(label="Gold", value="gold", hidden=False, display_order=1),
         OptionInput(label="Silver", value="silver", hidden=False, display_order=0)]
        if kind == "enumeration" else None
    )  # fmt: skip

    made = properties.core_api.create(
        "tickets",
        PropertyCreate(name="tier", label="Tier", type=kind, field_type=field_type,
                       group_name="ticketinformation", options=options),
    )  # fmt: skip

    assert made is not None  # 201
    definition = PropertyDefinition.objects.get(name="tier")
    assert definition.type == expected
    assert definition.object_type == "ticket"
    assert made.hubspot_defined is False
    assert made.modification_metadata.archivable is True
    if options:
        assert [o["value"] for o in definition.options] == ["silver", "gold"]
    # The workspace's registry and settings see it.
    assert props.get_spec("tier") is not None
    listed = settings_queries.list_custom_properties_by_group("ticket")
    assert [d.name for listing in listed for d in listing.definitions] == ["tier"]


def test_an_owner_property_is_a_user_property(properties):
    made = properties.core_api.create(
        "contacts",
        PropertyCreate(name="account_manager", label="Account manager", type="enumeration",
                       field_type="select", group_name="contactinformation",
                       referenced_object_type="OWNER"),
    )  # fmt: skip

    assert made.referenced_object_type == "OWNER"
    assert PropertyDefinition.objects.get(name="account_manager").type == PropertyType.USER
    assert record_props.get_spec("contact", "account_manager") is not None


def test_a_property_name_in_use_answers_409(properties):
    core = properties.core_api
    core.create(
        "tickets",
        PropertyCreate(
            name="tier",
            label="Tier",
            type="string",
            field_type="text",
            group_name="ticketinformation",
        ),
    )

    for object_type, name in (("tickets", "tier"), ("deals", "tier"), ("tickets", "subject"),
                              ("contacts", "email")):  # fmt: skip
        with pytest.raises(ApiException) as raised:
            core.create(
                object_type,
                PropertyCreate(
                    name=name, label="X", type="string", field_type="text", group_name="x"
                ),
            )
        assert raised.value.status == 409, name
        assert error_of(raised)["category"] == "CONFLICT"
    assert PropertyDefinition.objects.count() == 1


def test_update_and_archive_a_custom_property(properties):
    core = properties.core_api
    core.create("tickets", PropertyCreate(
        name="tier", label="Tier", type="enumeration", field_type="select",
        group_name="ticketinformation", options=[OptionInput(label="Gold", value="gold",
                                                             hidden=False)]))  # fmt: skip

    updated = core.update(
        "tickets",
        "tier",
        PropertyUpdate(label="Service tier", description="Support plan",
                       options=[OptionInput(label="Gold", value="gold", hidden=False),
                                OptionInput(label="Bronze", value="bronze", hidden=False)]),
    )  # fmt: skip

    assert updated.label == "Service tier"
    assert [o.value for o in updated.options] == ["gold", "bronze"]
    definition = PropertyDefinition.objects.get(name="tier")
    assert (definition.label, definition.description) == ("Service tier", "Support plan")
    with pytest.raises(ApiException) as raised:
        core.update("tickets", "tier", PropertyUpdate(type="number", field_type="number"))
    assert raised.value.status == 400

    core.archive("tickets", "tier")
    assert not PropertyDefinition.objects.filter(name="tier").exists()
    with pytest.raises(NotFoundException):
        core.get_by_name("tickets", "tier")


def test_built_in_properties_cannot_be_archived_or_redefined(properties):
    with pytest.raises(ApiException) as raised:
        properties.core_api.archive("tickets", "hs_ticket_priority")
    assert raised.value.status == 400
    assert error_of(raised)["category"] == "VALIDATION_ERROR"
    with pytest.raises(ApiException) as raised:
        properties.core_api.update("contacts", "firstname", PropertyUpdate(label="Given name"))
    assert raised.value.status == 400


def test_unknown_types_and_missing_groups_answer_400(properties, raw_api):
    bad_type = raw_api.post("/crm/v3/properties/tickets", {
        "name": "x1", "label": "X", "type": "string", "fieldType": "file",
        "groupName": "ticketinformation"})  # fmt: skip
    bad_group = raw_api.post("/crm/v3/properties/tickets", {
        "name": "x2", "label": "X", "type": "string", "fieldType": "text",
        "groupName": "nowhere"})  # fmt: skip

    assert bad_type.status == 400
    assert bad_group.status == 400
    assert not PropertyDefinition.objects.exists()


def test_batch_read_create_and_archive(properties):
    batch = properties.batch_api

    made = batch.create(
        "companies",
        BatchInputPropertyCreate(inputs=[
            PropertyCreate(name="segment", label="Segment", type="string", field_type="text",
                           group_name="companyinformation"),
            PropertyCreate(name="domain", label="Clash", type="string", field_type="text",
                           group_name="companyinformation"),
        ]),
    )  # fmt: skip
    assert made.num_errors == 1
    assert [p.name for p in made.results] == ["segment"]

    read = batch.read(
        "companies",
        BatchReadInputPropertyName(archived=False, inputs=[{"name": "segment"},
                                                           {"name": "domain"},
                                                           {"name": "nope"}]),
    )  # fmt: skip
    assert sorted(p.name for p in read.results) == ["domain", "segment"]
    assert read.num_errors == 1

    batch.archive("companies", BatchInputPropertyName(inputs=[{"name": "segment"}]))
    assert not PropertyDefinition.objects.filter(name="segment").exists()


def test_property_groups(properties):
    groups = properties.groups_api

    made = groups.create(
        "tickets", PropertyGroupCreate(name="billing_details", label="Billing details")
    )
    assert made is not None
    assert made.name == "billing_details"
    names = [g.name for g in groups.get_all("tickets").results]
    assert names == ["ticketinformation", "billing_details"]
    properties.core_api.create("tickets", PropertyCreate(
        name="invoice", label="Invoice", type="string", field_type="text",
        group_name="billing_details"))  # fmt: skip
    assert PropertyDefinition.objects.get(name="invoice").group.label == "Billing details"

    renamed = groups.update("tickets", "billing_details", PropertyGroupUpdate(label="Invoicing"))
    assert (renamed.name, renamed.label) == ("invoicing", "Invoicing")
    assert properties.core_api.get_by_name("tickets", "invoice").group_name == "invoicing"

    groups.archive("tickets", "invoicing")
    assert not PropertyGroup.objects.exists()
    assert properties.core_api.get_by_name("tickets", "invoice").group_name == "ticketinformation"
    with pytest.raises(ApiException) as raised:
        groups.create("tickets", PropertyGroupCreate(name="ticketinformation", label="Ticket"))
    assert raised.value.status == 409


def test_only_a_super_admins_token_changes_properties(make_client, make_token, agent):
    client = make_client(make_token(agent))

    assert client.crm.properties.core_api.get_all("tickets").results
    with pytest.raises(ForbiddenException):
        client.crm.properties.core_api.create(
            "tickets", PropertyCreate(name="tier", label="Tier", type="string",
                                      field_type="text", group_name="ticketinformation"))  # fmt: skip
    assert not PropertyDefinition.objects.exists()


def test_properties_need_the_object_types_scope(make_client, make_token, super_admin):
    client = make_client(make_token(super_admin, ["crm.objects.contacts.read"]))

    assert client.crm.properties.core_api.get_all("contacts").results
    with pytest.raises(ForbiddenException):
        client.crm.properties.core_api.get_all("tickets")
    with pytest.raises(ForbiddenException):
        client.crm.properties.core_api.create(
            "contacts", PropertyCreate(name="tier", label="Tier", type="string",
                                       field_type="text", group_name="contactinformation"))  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"name": "x", "label": "A\x00B", "type": "string", "fieldType": "text"},
                     id="nul-in-label"),
        pytest.param({"name": "x", "label": "L" * 101, "type": "string", "fieldType": "text"},
                     id="label-too-long"),
        pytest.param({"name": "x", "label": "X", "type": "string", "fieldType": "text",
                      "description": "d" * 256}, id="description-too-long"),
        pytest.param({"name": 5, "label": "X", "type": "string", "fieldType": "text"},
                     id="name-not-a-string"),
        pytest.param({"name": "x", "label": "X", "type": "enumeration", "fieldType": "select",
                      "options": [{"label": "A"}]}, id="option-without-value"),
    ],
)  # fmt: skip
def test_malformed_property_bodies_answer_400(properties, raw_api, body):
    answer = raw_api.post("/crm/v3/properties/tickets", body)

    assert answer.status == 400
    assert not PropertyDefinition.objects.exists()


def test_a_name_no_property_can_have_is_simply_missing(properties, raw_api):
    assert raw_api.get("/crm/v3/properties/tickets/a%00b").status == 404
    assert raw_api.get("/crm/v3/properties/tickets/" + "n" * 200).status == 404
