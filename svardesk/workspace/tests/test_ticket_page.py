"""The ticket page, composed above tickets and conversations (workspace/ticket_page.py): who
may open it, the header's and the sidebar's in-place edits that redraw it, its cards."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing_ticket(billing_team):
    return TicketFactory(name="Invoice twice", team=billing_team)


@pytest.fixture
def support_ticket(support_team):
    return TicketFactory(name="Cannot log in", team=support_team)


@pytest.mark.parametrize(
    ("who", "ticket", "status"),
    [
        pytest.param(None, "billing_ticket", 302, id="anonymous-to-login"),
        pytest.param("no_seat_user", "billing_ticket", 403, id="no-seat-403"),
        pytest.param("agent", "billing_ticket", 200, id="all-scope-200"),
        pytest.param("super_admin", "billing_ticket", 200, id="super-admin-200"),
        pytest.param("team_agent", "billing_ticket", 200, id="team-scope-own-team-200"),
        pytest.param("team_agent", "support_ticket", 404, id="team-scope-other-team-404"),
        pytest.param("own_agent", "billing_ticket", 404, id="own-scope-404"),
    ],
)
def test_ticket_detail_permissions(client, request, who, ticket, status):
    if who:
        client.force_login(request.getfixturevalue(who))
    target = request.getfixturevalue(ticket)
    response = client.get(reverse("tickets:detail", args=[target.pk]))
    assert response.status_code == status
    if status == 200:
        assert target.name in response.content.decode()
    if status == 403:
        assert "help desk seat" in response.content.decode()


def test_unknown_ticket_is_a_404_page(client, agent):
    client.force_login(agent)
    response = client.get("/tickets/987654/")
    assert response.status_code == 404
    assert "find that" in response.content.decode()


def test_header_edit_changes_priority_and_records_it(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update_properties", args=[support_ticket.pk]),
        {"priority": "URGENT", "version": support_ticket.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "URGENT"
    assert "changed Priority from Medium to Urgent" in response.content.decode()


def test_stale_header_edit_is_shown_not_saved(client, agent, super_admin, support_ticket):
    from svardesk.tickets.services import update_ticket

    update_ticket(support_ticket.pk, actor=super_admin, changes={"priority": "HIGH"})
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update_properties", args=[support_ticket.pk]),
        {"priority": "LOW", "version": 1},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409
    assert "data-conflict" in response.content.decode()
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "HIGH"


def test_sidebar_property_edit_with_invalid_value_shows_error(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[support_ticket.pk, "priority"]),
        {"value": "NOT-A-PRIORITY", "version": support_ticket.version},
    )
    assert response.status_code == 422
    support_ticket.refresh_from_db()
    assert support_ticket.priority == "MEDIUM"


def test_sidebar_property_edit_saves(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[support_ticket.pk, "description"]),
        {"value": "Customer cannot log in since Monday", "version": support_ticket.version},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#ticket-detail"
    support_ticket.refresh_from_db()
    assert support_ticket.description == "Customer cannot log in since Monday"


def test_detail_shows_contact_card(client, agent):
    from svardesk.crm.models import Company

    company = Company.objects.create(name="Acme AB", domain="acme.example")
    contact = ContactFactory(first_name="Åsa", last_name="Öberg", company=company)
    ticket = TicketFactory(contact=contact)
    client.force_login(agent)
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "Åsa Öberg" in body
    assert "Acme AB" in body


def test_the_thread_reads_each_kind_of_event_escaped_in_the_readers_language(client, agent):
    from django.utils import timezone

    from svardesk.tickets.models import TicketEvent, TicketEventKind

    ticket = TicketFactory(name="Printer")
    agent.first_name, agent.last_name = "Ann <b>", "Lind"
    agent.save(update_fields=["first_name", "last_name"])
    rows = [
        (TicketEventKind.CREATED, agent, {}),
        (TicketEventKind.CREATED, None, {}),
        (
            TicketEventKind.PROPERTY_CHANGED,
            None,
            {"property": "x", "label": "Size", "new_display": "L"},
        ),
        (TicketEventKind.MERGED, agent, {"tickets": [[7, "Old <i>one</i>"], [8, "Other"]]}),
        (
            TicketEventKind.CONVERSATION_MOVED,
            agent,
            {"conversation": "Hi", "channel": "Chat", "from_inbox": "A", "to_inbox": "B"},
        ),
    ]
    for kind, actor, data in rows:
        TicketEvent.objects.create(
            ticket=ticket, kind=kind, actor=actor, data=data, created_at=timezone.now()
        )
    client.force_login(agent)
    url = reverse("tickets:detail", args=[ticket.pk])

    body = client.get(url).content.decode()
    assert "Ann &lt;b&gt; Lind created the ticket" in body
    assert "The ticket was created" in body
    assert "Svardesk changed Size from — to L" in body
    assert "merged #7 “Old &lt;i&gt;one&lt;/i&gt;” and #8 “Other” into this ticket" in body
    assert "moved the conversation “Hi” (Chat) from A to B" in body
    assert "<b>" not in body.split('class="thread-items"')[1]

    agent.language = "sv"
    agent.save(update_fields=["language"])
    swedish = client.get(url).content.decode()
    assert "Ann &lt;b&gt; Lind skapade ärendet" in swedish
    assert "Svardesk ändrade Size från — till L" in swedish
