"""The ticket page reads its cards' records as JSON in the ticket's own statement
(`records.cards.card_annotations`); a card redrawn alone reads them with its own query. Both
must draw the same card: same records, order, primary marks and displayed properties."""

import datetime as dt
from decimal import Decimal

import pytest

from svardesk.crm import associations
from svardesk.crm.models import Company, Contact, Deal
from svardesk.records import cards
from svardesk.tickets.models import Ticket
from svardesk.tickets.services import save_sidebar_layout
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


def _drawn(card: cards.AssociationCard) -> tuple[object, ...]:
    return (
        card.count,
        [(r.id, r.label, r.initials, r.url, r.is_primary, r.rows) for r in card.records],
    )


def test_cards_read_with_the_ticket_draw_what_their_own_queries_draw(agent, super_admin):
    acme = Company.objects.create(name="Acme AB", domain="acme.se", phone="+46812345678")
    beta = Company.objects.create(name="beta", domain="beta.example", owner=super_admin)
    first = ContactFactory(first_name="Åsa", last_name="Lind", email="asa@acme.se")
    Contact.objects.filter(pk=first.pk).update(company=acme, phone="+46701234567", owner=agent)
    ticket = TicketFactory(name="Cards", contact=first)
    for name in ("Örjan", "bo", "Cecilia"):
        other = ContactFactory(first_name=name, email=f"{name.lower()}@x.example")
        associations.associate("ticket", ticket.pk, "contact", other.pk)
    associations.associate("ticket", ticket.pk, "company", acme.pk, primary=True)
    associations.associate("ticket", ticket.pk, "company", beta.pk)
    for n, amount in enumerate((Decimal("1234.50"), None, Decimal("0.05"))):
        deal = Deal.objects.create(
            name=f"Deal {n}",
            amount=amount,
            currency="EUR",
            close_date=dt.date(2027, 1, n + 1),
            owner=agent if n else None,
        )
        associations.associate("ticket", ticket.pk, "deal", deal.pk)
    save_sidebar_layout(
        agent,
        card="deal",
        card_properties=["amount", "dealstage", "closedate", "hubspot_owner_id", "createdate"],
    )
    save_sidebar_layout(
        agent, card="contact", card_properties=["email", "phone", "company", "hubspot_owner_id"]
    )
    users = {agent.pk: agent, super_admin.pk: super_admin}

    with_ticket = Ticket.objects.annotate(**cards.card_annotations()).get(pk=ticket.pk)
    alone = Ticket.objects.get(pk=ticket.pk)
    for object_type in ("contact", "company", "deal"):
        read_with_ticket = cards.association_card(with_ticket, object_type, user=agent, users=users)
        read_alone = cards.association_card(alone, object_type, user=agent, users=users)
        assert _drawn(read_with_ticket) == _drawn(read_alone), object_type
    contact_card = cards.association_card(with_ticket, "contact", user=agent, users=users)
    assert contact_card.records[0].is_primary
    assert [r.label.split()[0] for r in contact_card.records] == ["Åsa", "bo", "Cecilia", "Örjan"]
    assert contact_card.count == 4
