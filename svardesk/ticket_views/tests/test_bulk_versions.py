"""Bulk actions carry the version of each ticket as it was listed: a ticket someone changed
after the list was shown is left alone, and the result says which."""

import re

import pytest
from django.urls import reverse

from svardesk.tickets.models import Ticket, TicketEvent
from svardesk.tickets.services import update_ticket
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def _listed_selection(client, url: str) -> dict[int, str]:  # type: ignore[no-untyped-def]
    """What each row's checkbox posts, by ticket id, as the list page renders it."""
    page = client.get(url).content.decode()
    values = re.findall(r'<input type="checkbox" name="ticket" value="([^"]+)"', page)
    return {int(value.split(":")[0]): value for value in values}


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/tickets/", id="default-layout"),
        pytest.param("/tickets/?col=team", id="chosen-columns"),
    ],
)
def test_each_row_posts_its_ticket_and_version(client, agent, url):
    ticket = TicketFactory()
    update_ticket(ticket.pk, actor=agent, changes={"priority": "HIGH"})  # now version 2
    client.force_login(agent)
    assert _listed_selection(client, url) == {ticket.pk: f"{ticket.pk}:2"}


def test_bulk_update_skips_a_ticket_changed_after_listing_and_says_so(client, agent, super_admin):
    kept, edited = TicketFactory(priority="LOW"), TicketFactory(priority="LOW")
    client.force_login(agent)
    listed = _listed_selection(client, reverse("ticket_views:all"))
    # Someone else changes one of them while the list is on the agent's screen.
    update_ticket(edited.pk, actor=super_admin, changes={"priority": "MEDIUM"})
    events_before = TicketEvent.objects.filter(ticket=edited).count()

    response = client.post(
        reverse("ticket_views:bulk"),
        {"ticket": [listed[kept.pk], listed[edited.pk]], "priority": "URGENT", "action": "update"},
        follow=True,
    )

    assert Ticket.objects.get(pk=kept.pk).priority == "URGENT"
    edited_now = Ticket.objects.get(pk=edited.pk)
    assert (edited_now.priority, edited_now.version) == ("MEDIUM", 2)  # their change stands
    assert TicketEvent.objects.filter(ticket=edited).count() == events_before
    page = response.content.decode()
    assert "Updated 1 ticket." in page
    assert (
        f"1 ticket was changed by someone else after the list was shown and was left alone: "
        f"#{edited.pk}." in page
    )


def test_bulk_spam_skips_a_ticket_changed_after_listing_and_says_so(client, agent, super_admin):
    kept, edited = TicketFactory(), TicketFactory(priority="LOW")
    client.force_login(agent)
    listed = _listed_selection(client, reverse("ticket_views:all"))
    update_ticket(edited.pk, actor=super_admin, changes={"priority": "HIGH"})

    response = client.post(
        reverse("ticket_views:bulk"),
        {"ticket": [listed[kept.pk], listed[edited.pk]], "action": "spam"},
        follow=True,
    )

    assert Ticket.objects.get(pk=kept.pk).is_spam is True
    assert Ticket.objects.get(pk=edited.pk).is_spam is False
    page = response.content.decode()
    assert "Marked 1 ticket as spam." in page
    assert f"left alone: #{edited.pk}." in page


@pytest.mark.parametrize("action", ["update", "spam"])
def test_a_selection_without_versions_is_refused_and_changes_nothing(client, agent, action):
    ticket = TicketFactory(priority="LOW")
    client.force_login(agent)
    response = client.post(
        reverse("ticket_views:bulk"),
        {"ticket": [str(ticket.pk)], "priority": "URGENT", "action": action},
        follow=True,
    )
    assert "Reload the list and select the tickets again." in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.is_spam, ticket.version) == ("LOW", False, 1)
