"""Query counts of the associations, owners, pipelines and properties reads: constant in the
number of records listed (no query per row)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.accounts.services import set_user_teams
from svardesk.tickets import services as ticket_services
from tests.factories import (
    ContactFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    default_pipeline,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def get(client, make_token, super_admin):
    token = make_token(super_admin)

    client.get("/crm/v3/owners/", HTTP_AUTHORIZATION=f"Bearer {token}")  # notes the token's use

    def call(path: str) -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        return len(queries), response.json()

    return call


def test_listing_associations_costs_the_same_for_2_or_12_partners(get):
    contact = ContactFactory()
    for _ in range(2):
        TicketFactory(contact=contact)
    few, body = get(f"/crm/v4/objects/contacts/{contact.pk}/associations/tickets")
    assert len(body["results"]) == 2
    for _ in range(10):
        TicketFactory(contact=contact)

    many, body = get(f"/crm/v4/objects/contacts/{contact.pk}/associations/tickets")

    assert len(body["results"]) == 12
    assert many == few


def test_listing_owners_costs_the_same_for_2_or_12_owners(get):
    team = TeamFactory()
    for _ in range(2):
        set_user_teams(UserFactory(), actor=None, primary_team=team, teams=[team])
    few, _body = get("/crm/v3/owners/")
    for _ in range(10):
        set_user_teams(UserFactory(), actor=None, primary_team=team, teams=[team])

    many, body = get("/crm/v3/owners/")

    assert len(body["results"]) == 13
    assert many == few


def test_listing_pipelines_and_properties_costs_the_same_for_more_of_them(get, super_admin):
    default_pipeline()
    few_pipelines, _ = get("/crm/v3/pipelines/tickets")
    few_properties, _ = get("/crm/v3/properties/tickets")
    for n in range(3):
        ticket_services.create_pipeline(actor=super_admin, name=f"P{n}")
        ticket_services.create_property_definition(
            actor=super_admin, name=f"custom_{n}", label=f"Custom {n}", type="text"
        )

    many_pipelines, body = get("/crm/v3/pipelines/tickets")
    many_properties, _ = get("/crm/v3/properties/tickets")

    assert len(body["results"]) == 4
    assert many_pipelines == few_pipelines
    assert many_properties == few_properties
