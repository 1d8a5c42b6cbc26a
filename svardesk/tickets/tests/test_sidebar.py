"""The ticket page's right sidebar, arranged per user: card order and shown properties."""

import re

import pytest
from django.urls import reverse

from svardesk.tickets import sidebar
from svardesk.tickets.models import PropertyDefinition, PropertyGroup
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():  # type: ignore[no-untyped-def]
    group = PropertyGroup.objects.create(label="Contract")
    PropertyDefinition.objects.create(name="seats", label="Seats", type="number", group=group)
    PropertyDefinition.objects.create(name="plan", label="Plan", type="text")
    return TicketFactory(
        name="Printer on fire",
        contact=ContactFactory(first_name="Åsa"),
        custom={"seats": 12, "plan": "Pro"},
    )


def cards_on_page(client, ticket) -> list[str]:  # type: ignore[no-untyped-def]
    body = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    return re.findall(r'<section class="sidebar-card[^"]*" data-card="([^"]+)"', body)


def test_default_layout_is_association_cards_then_property_groups(client, agent, ticket):
    client.force_login(agent)
    assert cards_on_page(client, ticket) == [
        "contact",
        "company",
        "deal",
        "group:builtin",
        "group:Contract",
        "group:other",
    ]


def test_order_is_saved_per_user_and_new_cards_keep_their_place(client, agent, super_admin, ticket):
    client.force_login(agent)
    response = client.post(
        reverse("tickets:sidebar_layout"), {"order": ["group:Contract", "contact", "gone"]}
    )
    assert response.status_code == 204
    # Placed cards first in the user's order; a card never placed keeps its default place.
    assert cards_on_page(client, ticket) == [
        "group:Contract",
        "contact",
        "company",
        "deal",
        "group:builtin",
        "group:other",
    ]
    client.force_login(super_admin)
    assert cards_on_page(client, ticket)[0] == "contact"


def test_chosen_properties_only_are_shown(client, agent, ticket):
    client.force_login(agent)
    page = reverse("tickets:detail", args=[ticket.pk])
    response = client.post(
        reverse("tickets:sidebar_layout"),
        {"choosing": "1", "shown": ["priority", "seats"], "next": page},
    )
    assert response.status_code == 302
    assert response.url == page
    body = client.get(page).content.decode()
    assert 'id="prop-priority"' in body
    assert 'id="prop-seats"' in body
    assert 'id="prop-owner"' not in body
    assert 'id="prop-plan"' not in body
    # The chooser still offers the hidden ones, unticked.
    assert 'name="shown" value="owner" aria-label' in body
    assert 'name="shown" value="priority" checked aria-label' in body
    # Choosing nothing at all is possible too.
    client.post(reverse("tickets:sidebar_layout"), {"choosing": "1"})
    body = client.get(page).content.decode()
    assert 'id="prop-priority"' not in body
    assert "No properties shown here." in body


def test_bad_layouts_are_refused_with_a_reason(client, agent, ticket):
    client.force_login(agent)
    url = reverse("tickets:sidebar_layout")
    response = client.post(url, {"choosing": "1", "shown": ["priority", "nope"]})
    assert response.status_code == 400
    assert "nope" in response.content.decode()
    response = client.post(url, {"order": ["x"] * (sidebar.MAX_KEYS + 1)})
    assert response.status_code == 400
    assert client.get(url).status_code == 405
    agent.refresh_from_db()
    assert agent.ticket_sidebar == {}  # nothing of the refused layouts was kept
    # Somewhere else to go after saving is ignored: no open redirect.
    response = client.post(url, {"order": ["contact"], "next": "https://evil.example/"})
    assert response.status_code == 204
    agent.refresh_from_db()
    assert agent.ticket_sidebar == {"order": ["contact"], "hidden": []}


def test_only_workspace_users_arrange_it(client, no_seat_user):
    client.force_login(no_seat_user)
    response = client.post(reverse("tickets:sidebar_layout"), {"order": ["contact"]})
    assert response.status_code == 403
    no_seat_user.refresh_from_db()
    assert no_seat_user.ticket_sidebar == {}
