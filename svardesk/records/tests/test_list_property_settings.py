"""Settings → Properties: the record-type switch (tickets, contacts, companies, deals), custom
properties created per type, built-in ones listed per type; and a contact property as a
column and filter of the contact list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from svardesk.crm.models import Contact
from svardesk.tickets.models import PropertyDefinition, PropertyType
from svardesk.tickets.services import create_property_definition

pytestmark = pytest.mark.django_db


def test_switch_lists_builtin_and_custom_properties_per_type(client, super_admin):
    create_property_definition(actor=None, name="plan", label="Plan", type="text")
    create_property_definition(
        actor=None, name="tier", label="Tier", type="text", object_type="contact"
    )
    client.force_login(super_admin)
    url = reverse("settings:properties")
    tickets = client.get(url).content.decode()
    assert "Plan" in tickets
    assert "Tier" not in tickets
    assert "<code>priority</code>" in tickets
    contacts = client.get(url, {"type": "contact"}).content.decode()
    assert "Tier" in contacts
    assert "Plan" not in contacts
    assert "<code>firstname</code>" in contacts
    assert "<code>hs_language</code>" in contacts
    assert f'href="{url}?type=company"' in contacts
    assert 'aria-current="page">Contacts' in contacts
    deals = client.get(url, {"type": "deal"}).content.decode()
    assert "<code>dealstage</code>" in deals
    # An unknown type is the tickets' page.
    assert "<code>priority</code>" in client.get(url, {"type": "nope"}).content.decode()


def test_create_property_for_companies(client, super_admin):
    client.force_login(super_admin)
    url = reverse("settings:property_create") + "?type=company"
    form = client.get(url).content.decode()
    assert 'action="/settings/properties/new/?type=company"' in form
    response = client.post(url, {"label": "Segment", "name": "segment", "type": PropertyType.TEXT})
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:properties") + "?type=company"
    assert PropertyDefinition.objects.get(name="segment").object_type == "company"


def test_record_builtin_names_are_refused(client, super_admin):
    client.force_login(super_admin)
    url = reverse("settings:property_create") + "?type=contact"
    response = client.post(url, {"label": "Email", "name": "email", "type": PropertyType.TEXT})
    assert response.status_code == 422
    assert not PropertyDefinition.objects.filter(name="email").exists()


def test_only_super_admins(client, agent):
    client.force_login(agent)
    assert client.get(reverse("settings:properties"), {"type": "contact"}).status_code == 403


def test_edit_and_delete_return_to_the_type(client, super_admin):
    definition = create_property_definition(
        actor=None, name="tier", label="Tier", type="text", object_type="deal"
    )
    client.force_login(super_admin)
    response = client.post(
        reverse("settings:property_edit", args=[definition.pk]), {"label": "Deal tier"}
    )
    assert response["Location"] == reverse("settings:properties") + "?type=deal"
    response = client.post(reverse("settings:property_delete", args=[definition.pk]))
    assert response["Location"] == reverse("settings:properties") + "?type=deal"


def test_contact_property_is_a_list_column_and_filter(client, super_admin):
    create_property_definition(
        actor=None, name="tier", label="Tier", type="select", object_type="contact",
        options=[{"value": "gold", "label": "Gold"}, {"value": "tin", "label": "Tin"}],
    )  # fmt: skip
    gold = Contact.objects.create(first_name="G", email="g@x.se", custom={"tier": "gold"})
    Contact.objects.create(first_name="T", email="t@x.se", custom=None)
    client.force_login(super_admin)
    html = client.get(
        reverse("records:contacts"), {"cols": "firstname,tier", "f": "tier:IN:gold"}
    ).content.decode()
    assert f'data-record-id="{gold.pk}"' in html
    assert html.count('data-record-id="') == 1
    assert "Gold" in html
    assert "Tier is any of Gold" in html
