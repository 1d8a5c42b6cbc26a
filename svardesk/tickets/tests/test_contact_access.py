"""Which contacts a user may see and put on a ticket (`queries.visible_contacts`): super
admins and "all tickets" users every contact; team- and own-scoped agents only contacts
already on a ticket they can see. Every way a contact id comes in — the sidebar's property
editor, the header's property post, the Create ticket panel, `update_ticket` and
`create_ticket` — keeps to it."""

import pytest
from django.urls import reverse

from svardesk.channels.email.models import BlockedSender
from svardesk.tickets import queries, services
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket, TicketEvent
from tests.factories import ContactFactory, TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def people(support_team, billing_team, team_agent, own_agent):  # type: ignore[no-untyped-def]
    """A contact on a Support ticket, one on a Billing ticket, one on the own agent's ticket
    and one on no ticket at all."""
    support = ContactFactory(first_name="Sara", last_name="Support", email="sara@kund.example")
    billing = ContactFactory(first_name="Bengt", last_name="Billing", email="bengt@kund.example")
    owned = ContactFactory(first_name="Olga", last_name="Owned", email="olga@kund.example")
    loose = ContactFactory(first_name="Lars", last_name="Loose", email="lars@kund.example")
    TicketFactory(name="Support's", team=support_team, contact=support)
    TicketFactory(name="Billing's", team=billing_team, contact=billing)
    TicketFactory(name="Olle's", owner=own_agent, contact=owned)
    return {"support": support, "billing": billing, "owned": owned, "loose": loose}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        pytest.param("super_admin", {"support", "billing", "owned", "loose"}, id="super-admin"),
        pytest.param("agent", {"support", "billing", "owned", "loose"}, id="all-tickets"),
        pytest.param("team_agent", {"billing"}, id="team-scope"),
        pytest.param("own_agent", {"owned"}, id="own-scope"),
    ],
)
def test_visible_contacts_follow_ticket_access(request, people, who, expected):
    user = request.getfixturevalue(who)
    names = {key for key, contact in people.items() if contact.pk in _ids(user)}
    assert names == expected


def _ids(user) -> set[int]:  # type: ignore[no-untyped-def]
    return set(queries.visible_contacts(user).values_list("pk", flat=True))


@pytest.fixture
def own_ticket(own_agent):  # type: ignore[no-untyped-def]
    return TicketFactory(name="Olle made this", owner=own_agent)


def _unchanged(ticket: Ticket) -> tuple[object, ...]:
    ticket.refresh_from_db()
    return ticket.contact_id, ticket.version, TicketEvent.objects.filter(ticket=ticket).count()


def test_an_own_scope_agent_cannot_put_another_teams_contact_on_their_ticket(
    client, own_agent, own_ticket, people
):
    before = _unchanged(own_ticket)
    client.force_login(own_agent)
    response = client.post(
        reverse("tickets:edit_property", args=[own_ticket.pk, "contact"]),
        {"value": people["support"].pk, "version": own_ticket.version},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Sara" not in response.content.decode()
    assert _unchanged(own_ticket) == before == (None, own_ticket.version, 0)


def test_the_header_post_keeps_to_the_same_rule(client, own_agent, own_ticket, people):
    before = _unchanged(own_ticket)
    client.force_login(own_agent)
    response = client.post(
        reverse("tickets:update_properties", args=[own_ticket.pk]),
        {"contact": people["billing"].pk, "version": own_ticket.version},
        **HTMX,
    )
    assert response.status_code == 422
    assert _unchanged(own_ticket) == before


def test_an_own_scope_agent_may_use_a_contact_of_their_own_tickets(
    client, own_agent, own_ticket, people
):
    client.force_login(own_agent)
    response = client.post(
        reverse("tickets:edit_property", args=[own_ticket.pk, "contact"]),
        {"value": people["owned"].pk, "version": own_ticket.version},
        **HTMX,
    )
    assert response.status_code == 200
    own_ticket.refresh_from_db()
    assert own_ticket.contact_id == people["owned"].pk


def test_the_contact_editor_lists_only_visible_contacts(client, team_agent, billing_team, people):
    ticket = TicketFactory(name="Billing again", team=billing_team)
    client.force_login(team_agent)
    body = client.get(reverse("tickets:edit_property", args=[ticket.pk, "contact"])).content
    # The editor is a search picker: it lists what the search answers, nothing up front.
    assert reverse("records:pick", args=["contact"]) in body.decode()
    text = _picked(client)
    assert "Bengt Billing" in text
    assert "Sara Support" not in text
    assert "Olga Owned" not in text
    assert "Lars Loose" not in text


def _picked(client) -> str:  # type: ignore[no-untyped-def]
    """What the contact picker answers for each of the people's first names."""
    url = reverse("records:pick", args=["contact"])
    names = ["Bengt", "Sara", "Olga", "Lars"]
    return "".join(client.get(url, {"q": name}).content.decode() for name in names)


def test_an_all_tickets_agent_may_use_any_contact(client, agent, support_team, people):
    ticket = TicketFactory(name="Support work", team=support_team)
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[ticket.pk, "contact"]),
        {"value": people["loose"].pk, "version": ticket.version},
        **HTMX,
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.contact_id == people["loose"].pk


def test_update_ticket_refuses_a_contact_out_of_the_actors_scope(own_agent, own_ticket, people):
    before = _unchanged(own_ticket)
    with pytest.raises(TicketValidationError) as caught:
        services.update_ticket(
            own_ticket.pk, actor=own_agent, changes={"contact": people["loose"].pk}
        )
    assert set(caught.value.errors) == {"contact"}
    assert _unchanged(own_ticket) == before
    # Mail and scripts (no actor) attach any contact.
    services.update_ticket(own_ticket.pk, actor=None, changes={"contact": people["loose"].pk})
    assert Ticket.objects.get(pk=own_ticket.pk).contact_id == people["loose"].pk


def test_the_create_panel_offers_and_accepts_only_visible_contacts(client, own_agent, people):
    client.force_login(own_agent)
    panel = client.get(reverse("tickets:create")).content.decode()
    assert reverse("records:pick", args=["contact"]) in panel
    picked = _picked(client)
    assert "Olga Owned" in picked
    assert "Sara Support" not in picked
    assert "Lars Loose" not in picked
    tickets_before = Ticket.objects.count()
    data = {
        "name": "Sneaky",
        "pipeline": default_pipeline().pk,
        "stage": stage_named("New").pk,
        "owner": own_agent.pk,
        "contact": people["support"].pk,
    }
    response = client.post(reverse("tickets:create"), data, **HTMX)
    assert response.status_code == 422
    assert Ticket.objects.count() == tickets_before
    response = client.post(reverse("tickets:create"), {**data, "contact": people["owned"].pk})
    assert response.status_code == 302
    assert Ticket.objects.get(name="Sneaky").contact_id == people["owned"].pk


def test_create_ticket_refuses_a_contact_out_of_the_actors_scope(own_agent, people):
    with pytest.raises(TicketValidationError) as caught:
        services.create_ticket(
            actor=own_agent,
            name="Sneaky",
            pipeline=default_pipeline(),
            owner=own_agent,
            contact=people["billing"],
        )
    assert set(caught.value.errors) == {"contact"}
    assert not Ticket.objects.filter(name="Sneaky").exists()


def test_the_reported_path_to_blocking_another_teams_customer_is_closed(
    client, own_agent, own_ticket, people
):
    """The issue's steps: an own-scope agent puts another team's contact on their ticket,
    then marks it spam with "block sender"."""
    own_agent.has_account_access = False
    client.force_login(own_agent)
    client.post(
        reverse("tickets:edit_property", args=[own_ticket.pk, "contact"]),
        {"value": people["support"].pk, "version": own_ticket.version},
        **HTMX,
    )
    response = client.post(
        reverse("conversations:spam", args=[own_ticket.pk]), {"block_sender": "on"}, **HTMX
    )
    assert response.status_code == 403
    assert not BlockedSender.objects.exists()
    own_ticket.refresh_from_db()
    assert (own_ticket.contact_id, own_ticket.is_spam) == (None, False)
