"""The Create ticket panel picks or creates the ticket's contact and company in place."""

import pytest
from django.urls import reverse

from svardesk.crm import associations
from svardesk.crm.models import Company, Contact
from svardesk.tickets.models import Ticket
from tests.factories import ContactFactory, TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _data(**extra: object) -> dict[str, object]:
    return {
        "name": "Printer on fire",
        "pipeline": default_pipeline().pk,
        "stage": stage_named("New").pk,
        **extra,
    }


def test_the_panel_offers_pickers_not_a_list_of_contacts(client, agent):
    ContactFactory(first_name="Listed", last_name="Nowhere")
    client.force_login(agent)
    body = client.get(reverse("tickets:create")).content.decode()
    assert 'role="combobox"' in body
    assert reverse("records:pick", args=["contact"]) in body
    assert reverse("records:pick", args=["company"]) in body
    assert "Listed Nowhere" not in body
    assert 'name="new_contact-email"' in body
    assert 'name="new_company-domain"' in body


def test_a_ticket_for_a_new_contact_of_a_new_company(client, agent):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:create"),
        _data(
            **{
                "new_contact-name": "Nils Nyman",
                "new_contact-email": "nils@nyman.example",
                "new_company-name": "Nyman AB",
                "new_company-domain": "https://www.nyman.example/",
            }
        ),
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:500]
    ticket = Ticket.objects.get(name="Printer on fire")
    company = Company.objects.get(name="Nyman AB")
    contact = Contact.objects.get(email="nils@nyman.example")
    assert response.headers["HX-Redirect"] == reverse("tickets:detail", args=[ticket.pk])
    assert (contact.first_name, contact.last_name) == ("Nils", "Nyman")
    assert company.domain == "nyman.example"
    assert contact.company_id == company.pk  # the new contact belongs to the new company
    assert ticket.contact_id == contact.pk
    assert set(associations.associated_ids("ticket", ticket.pk, "company")) == {company.pk}
    assert associations.primary_id("ticket", ticket.pk, "company") == company.pk


def test_a_picked_contact_and_company(client, agent):
    contact = ContactFactory(first_name="Åsa")
    company = Company.objects.create(name="Kund AB", domain="kund.example")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:create"), _data(contact=contact.pk, company=company.pk), **HTMX
    )
    assert response.status_code == 200
    ticket = Ticket.objects.get(name="Printer on fire")
    assert ticket.contact_id == contact.pk
    assert set(associations.associated_ids("ticket", ticket.pk, "company")) == {company.pk}
    assert not Contact.objects.exclude(pk=contact.pk).exists()


def test_a_team_agent_creates_a_ticket_for_a_new_contact(client, team_agent, billing_team):
    client.force_login(team_agent)
    response = client.post(
        reverse("tickets:create"),
        _data(team=billing_team.pk, **{"new_contact-name": "Ny Kund"}),
        **HTMX,
    )
    assert response.status_code == 200, response.content.decode()[:800]
    ticket = Ticket.objects.get(name="Printer on fire")
    assert ticket.contact.display_name == "Ny Kund"


def test_bad_new_records_show_field_errors_and_save_nothing(client, agent):
    from svardesk.crm.services import create_contact

    create_contact(actor=None, first_name="Taken", emails=["taken@kund.example"])
    client.force_login(agent)
    before = (Ticket.objects.count(), Contact.objects.count(), Company.objects.count())
    response = client.post(
        reverse("tickets:create"),
        _data(
            **{
                "new_contact-name": "Dup",
                "new_contact-email": "taken@kund.example",
                "new_company-name": "Fine AB",
            }
        ),
        **HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="err-new_contact-email"' in body
    assert 'id="new-contact"' in body
    assert 'id="new-contact" hidden' not in body  # shown again with its error
    assert (Ticket.objects.count(), Contact.objects.count(), Company.objects.count()) == before
    response = client.post(
        reverse("tickets:create"),
        _data(**{"new_contact-email": "not an address", "new_company-domain": "x.example"}),
        **HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="err-new_contact-email"' in body
    assert "Give the company a name." in body
    assert (Ticket.objects.count(), Contact.objects.count(), Company.objects.count()) == before


def test_a_contact_or_company_out_of_scope_is_refused(client, own_agent):
    hidden_contact = ContactFactory()
    hidden_company = Company.objects.create(name="Secret AB")
    TicketFactory(contact=hidden_contact)  # someone else's ticket
    client.force_login(own_agent)
    response = client.post(
        reverse("tickets:create"),
        _data(owner=own_agent.pk, contact=hidden_contact.pk, company=hidden_company.pk),
        **HTMX,
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Choose an existing contact." in body
    assert "Choose an existing company." in body
    assert not Ticket.objects.filter(name="Printer on fire").exists()


def test_owner_fields_are_a_select_for_few_users_and_search_for_many(client, agent):
    from tests.factories import UserFactory

    ticket = TicketFactory(name="Whose")
    client.force_login(agent)
    user_picker = reverse("records:pick", args=["user"])
    panel = client.get(reverse("tickets:create")).content.decode()
    assert '<select name="owner"' in panel
    assert user_picker not in panel
    UserFactory.create_batch(30)  # 31 users who may own tickets
    panel = client.get(reverse("tickets:create")).content.decode()
    assert '<select name="owner"' not in panel
    assert user_picker in panel
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert 'id="hdr-owner" class="picker-input"' in page
    editor = client.get(reverse("tickets:edit_property", args=[ticket.pk, "owner"]))
    assert user_picker in editor.content.decode()
    # The picker posts an id, as the select did.
    response = client.post(
        reverse("tickets:create"), _data(owner=agent.pk, name="Mine now"), **HTMX
    )
    assert response.status_code == 200
    assert Ticket.objects.get(name="Mine now").owner_id == agent.pk
