"""The ticket sidebar's association cards: add, create in place, remove, make primary, the
properties each user chooses, card order — through the services and the views."""

import re

import pytest
from django.urls import reverse

from svardesk.crm import associations
from svardesk.crm import services as crm_services
from svardesk.crm.models import Association, Company, Contact, Deal
from svardesk.records import card_services
from svardesk.records.cards import association_cards
from svardesk.tickets.models import Ticket, TicketEvent
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _contacts_of(ticket: Ticket, label: str | None = None) -> set[int]:
    return set(associations.associated_ids("ticket", ticket.pk, "contact", label=label))


@pytest.fixture
def ticket(support_team):  # type: ignore[no-untyped-def]
    return TicketFactory(
        name="Printer on fire",
        team=support_team,
        contact=ContactFactory(first_name="Åsa", last_name="Lind", email="asa@kund.example"),
    )


# --- Services -----------------------------------------------------------------------------------


def test_adding_a_contact_keeps_the_primary_and_a_first_contact_becomes_primary(agent, ticket):
    other = ContactFactory(first_name="Bo")
    changed = card_services.add_to_ticket(ticket, "contact", other.pk, actor=agent)
    assert changed is False
    ticket.refresh_from_db()
    assert _contacts_of(ticket) == {ticket.contact_id, other.pk}
    assert _contacts_of(ticket, "primary") == {ticket.contact_id}

    bare = TicketFactory(name="No contact yet")
    assert card_services.add_to_ticket(bare, "contact", other.pk, actor=agent) is True
    bare.refresh_from_db()
    assert bare.contact_id == other.pk
    assert _contacts_of(bare, "primary") == {other.pk}


def test_make_primary_moves_the_label_and_ticket_contact_with_a_timeline_line(agent, ticket):
    first = ticket.contact
    other = ContactFactory(first_name="Bo")
    card_services.add_to_ticket(ticket, "contact", other.pk, actor=agent)
    card_services.make_primary_contact(ticket, other.pk, actor=agent)
    ticket.refresh_from_db()
    assert ticket.contact_id == other.pk
    assert _contacts_of(ticket, "primary") == {other.pk}
    assert _contacts_of(ticket) == {first.pk, other.pk}  # the earlier one stays associated
    assert TicketEvent.objects.filter(ticket=ticket, data__property="contact").exists()


def test_removing_the_primary_contact_empties_ticket_contact(agent, ticket):
    contact_id = ticket.contact_id
    version = ticket.version
    assert card_services.remove_from_ticket(ticket, "contact", contact_id, actor=agent) is True
    ticket.refresh_from_db()
    assert ticket.contact_id is None
    assert ticket.version == version + 1
    assert _contacts_of(ticket) == set()
    assert not Association.objects.filter(to_type="contact", to_id=contact_id).exists()
    assert Contact.objects.filter(pk=contact_id).exists()  # only the association went


def test_a_first_company_becomes_primary_and_a_second_does_not(agent, ticket):
    first = crm_services.create_company(actor=agent, name="Första AB")
    second = crm_services.create_company(actor=agent, name="Andra AB")
    card_services.add_to_ticket(ticket, "company", first.pk, actor=agent)
    card_services.add_to_ticket(ticket, "company", second.pk, actor=agent)
    assert associations.primary_id("ticket", ticket.pk, "company") == first.pk
    ticket = Ticket.objects.get(pk=ticket.pk)
    card = association_cards(ticket, user=agent, users={})["company"]
    assert [(r.label, r.is_primary) for r in card.records] == [
        ("Första AB", True),
        ("Andra AB", False),
    ]


def test_removing_another_record_leaves_the_ticket_alone(agent, ticket):
    deal = crm_services.create_deal(actor=agent, name="Renewal", amount="1200")
    card_services.add_to_ticket(ticket, "deal", deal.pk, actor=agent)
    version = Ticket.objects.get(pk=ticket.pk).version
    assert card_services.remove_from_ticket(ticket, "deal", deal.pk, actor=agent) is False
    assert Ticket.objects.get(pk=ticket.pk).version == version
    assert not set(associations.associated_ids("ticket", ticket.pk, "deal"))


def test_a_team_agent_cannot_add_a_record_they_may_not_see(team_agent, billing_team):
    ticket = TicketFactory(team=billing_team)
    stranger = ContactFactory()  # on no ticket of theirs
    with pytest.raises(card_services.CardActionError):
        card_services.add_to_ticket(ticket, "contact", stranger.pk, actor=team_agent)
    assert _contacts_of(ticket) == set()
    # Created in place, it is theirs to see: it is on their ticket.
    record, changed = card_services.create_on_ticket(
        ticket, "contact", {"name": "Nils Nyman", "email": "nils@ny.example"}, actor=team_agent
    )
    assert changed is True
    ticket.refresh_from_db()
    assert ticket.contact_id == record.pk
    assert (record.first_name, record.last_name, record.email) == (
        "Nils",
        "Nyman",
        "nils@ny.example",
    )


def test_creating_in_place_with_a_bad_email_saves_nothing(agent, ticket):
    before = (Contact.objects.count(), Association.objects.count())
    with pytest.raises(crm_services.RecordValidationError) as caught:
        card_services.create_on_ticket(
            ticket, "contact", {"name": "Bad", "email": "not-an-address"}, actor=agent
        )
    assert "email" in caught.value.errors
    assert (Contact.objects.count(), Association.objects.count()) == before


def test_cards_list_records_with_the_chosen_properties_in_a_fixed_number_of_queries(
    agent, ticket, django_assert_num_queries
):
    company = crm_services.create_company(actor=agent, name="Kund AB", domain="kund.example")
    card_services.add_to_ticket(ticket, "company", company.pk, actor=agent)
    for n in range(3):
        deal = crm_services.create_deal(actor=agent, name=f"Deal {n}", amount=str(100 * (n + 1)))
        card_services.add_to_ticket(ticket, "deal", deal.pk, actor=agent)
    ticket = Ticket.objects.select_related("contact").get(pk=ticket.pk)
    association_cards(ticket, user=agent, users={})  # the property registry, kept per process
    with django_assert_num_queries(3):
        cards = association_cards(ticket, user=agent, users={})
    assert cards["contact"].count == 1
    assert cards["contact"].records[0].is_primary
    assert cards["contact"].records[0].label == "Åsa Lind"
    assert ("Email", "asa@kund.example") in cards["contact"].records[0].rows
    assert [r.label for r in cards["company"].records] == ["Kund AB"]
    assert cards["deal"].count == 3
    assert "?back=%2Ftickets%2F" in cards["company"].records[0].url


# --- Views --------------------------------------------------------------------------------------


def _card_url(name: str, ticket: Ticket, *args: object) -> str:
    return reverse(f"tickets:{name}", args=[ticket.pk, *args])


def test_add_view_redraws_only_the_card(client, agent, ticket):
    client.force_login(agent)
    company = crm_services.create_company(actor=agent, name="Kund AB", domain="kund.example")
    response = client.post(_card_url("card_add", ticket, "company"), {"record": company.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith("<section") or body.lstrip().startswith("<section")
    assert 'id="assoc-card-company"' in body
    assert "Kund AB" in body
    assert "(1)" in body
    assert "ticket-detail" not in body


def test_add_view_refuses_an_unknown_or_hidden_record(client, team_agent, billing_team):
    ticket = TicketFactory(team=billing_team)
    hidden = Company.objects.create(name="Secret AB")
    client.force_login(team_agent)
    response = client.post(_card_url("card_add", ticket, "company"), {"record": hidden.pk})
    assert response.status_code == 422
    assert "Choose one of the listed records." in response.content.decode()
    response = client.post(_card_url("card_add", ticket, "company"), {"record": "abc"})
    assert response.status_code == 422
    assert not Association.objects.filter(from_type="ticket", from_id=ticket.pk).exists()


def test_cards_of_a_ticket_out_of_scope_are_404(client, own_agent, ticket):
    client.force_login(own_agent)
    deal = Deal.objects.create(name="Renewal")
    response = client.post(_card_url("card_add", ticket, "deal"), {"record": deal.pk})
    assert response.status_code == 404
    assert client.get(_card_url("card", ticket, "deal")).status_code == 404
    assert client.get(reverse("tickets:card", args=[ticket.pk, "nonsense"])).status_code in (404,)


def test_create_view_shows_field_errors_and_saves_nothing(client, agent, ticket):
    client.force_login(agent)
    count = Deal.objects.count()
    response = client.post(
        _card_url("card_create", ticket, "deal"), {"name": "", "amount": "12", "stage": ""}
    )
    assert response.status_code == 422
    assert "Give the deal a name." in response.content.decode()
    response = client.post(
        _card_url("card_create", ticket, "deal"),
        {"name": "Big one", "amount": "-5", "stage": "qualifiedtobuy"},
    )
    assert response.status_code == 422
    assert Deal.objects.count() == count
    response = client.post(
        _card_url("card_create", ticket, "deal"),
        {"name": "Big one", "amount": "12 500,50", "stage": "qualifiedtobuy"},
    )
    assert response.status_code == 200
    deal = Deal.objects.get(name="Big one")
    assert str(deal.amount) == "12500.50"
    assert deal.stage == "qualifiedtobuy"
    assert set(associations.associated_ids("ticket", ticket.pk, "deal")) == {deal.pk}


def test_make_primary_and_remove_primary_redraw_the_whole_ticket(client, agent, ticket):
    client.force_login(agent)
    other = ContactFactory(first_name="Bo", last_name="Berg")
    client.post(_card_url("card_add", ticket, "contact"), {"record": other.pk})
    response = client.post(_card_url("card_primary", ticket, other.pk))
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#ticket-detail"
    ticket.refresh_from_db()
    assert ticket.contact_id == other.pk
    body = response.content.decode()
    assert f'data-version="{ticket.version}"' in body
    response = client.post(_card_url("card_remove", ticket, "contact", other.pk))
    assert response.headers["HX-Retarget"] == "#ticket-detail"
    ticket.refresh_from_db()
    assert ticket.contact_id is None


def test_choose_properties_per_user_and_card(client, agent, super_admin, ticket):
    client.force_login(agent)
    response = client.post(
        _card_url("card_properties", ticket, "contact"), {"shown": ["hs_language", "email"]}
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.ticket_sidebar["cards"] == {"contact": ["email", "hs_language"]}
    response = client.post(_card_url("card_properties", ticket, "contact"), {"shown": ["nope"]})
    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.ticket_sidebar["cards"] == {"contact": ["email", "hs_language"]}
    # Nothing chosen: the card shows names only.
    client.post(_card_url("card_properties", ticket, "contact"), {})
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    card = body[body.index('id="assoc-card-contact"') :]
    card = card[: card.index("</section>")]
    assert "asa@kund.example" not in card
    client.force_login(super_admin)  # another user's choice is theirs only
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "asa@kund.example" in body


def test_card_order_is_saved_with_the_sidebar_layout(client, agent, ticket):
    client.force_login(agent)
    client.post(reverse("tickets:sidebar_layout"), {"order": ["deal", "group:builtin", "contact"]})
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    order = re.findall(r'<section class="sidebar-card[^"]*" data-card="([^"]+)"', body)
    assert order[:3] == ["deal", "group:builtin", "contact"]
    assert "company" in order


def test_a_card_with_more_records_than_it_shows_says_how_many_more(client, agent, ticket):
    for number in range(27):
        contact = ContactFactory(email=f"more{number}@kund.example")
        card_services.add_to_ticket(ticket, "contact", contact.pk, actor=agent)
    client.force_login(agent)

    body = client.get(_card_url("card", ticket, "contact")).content.decode()
    assert "(28)" in body
    assert '<p class="muted assoc-more">and 3 more</p>' in body  # 25 shown of 28

    agent.language = "sv"
    agent.save(update_fields=["language"])
    body = client.get(_card_url("card", ticket, "contact")).content.decode()
    assert '<p class="muted assoc-more">och 3 till</p>' in body


def test_a_refused_new_record_keeps_what_was_typed_and_points_at_the_error(client, agent, ticket):
    client.force_login(agent)
    response = client.post(
        _card_url("card_create", ticket, "deal"),
        {"name": "Big <b>one</b>", "amount": "-5", "stage": "qualifiedtobuy"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert 'value="Big &lt;b&gt;one&lt;/b&gt;"' in body
    assert 'name="amount" id="card-new-deal-amount" value="-5"' in body
    assert 'aria-invalid="true" aria-describedby="card-new-deal-amount-error"' in body
    assert 'id="card-new-deal-amount-error" role="alert"' in body
    assert '<option value="qualifiedtobuy" selected>' in body
