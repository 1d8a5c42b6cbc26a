"""The ticket page's Merge ticket dialog and the redirects of merged ticket ids."""

import pytest
from django.urls import reverse

from svardesk.tickets.merge import merge_tickets
from svardesk.tickets.models import Priority, Ticket, TicketRedirect
from svardesk.tickets.services import create_ticket
from tests.factories import default_pipeline

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _ticket(name, **kwargs):
    return create_ticket(actor=None, name=name, pipeline=default_pipeline(), **kwargs)


def _merge_url(ticket):
    return reverse("tickets:merge", args=[ticket.pk])


def test_the_ticket_header_offers_merge_in_its_actions_menu(client, agent):
    ticket = _ticket("Printer")
    client.force_login(agent)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert 'aria-label="More actions"' in page
    assert f'hx-get="{_merge_url(ticket)}"' in page
    assert "Merge ticket" in page


def test_the_dialog_explains_the_merge_and_offers_the_primary_choice(client, agent):
    ticket = _ticket("Printer")
    client.force_login(agent)

    response = client.get(_merge_url(ticket), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="dialog"' in html
    assert "What happens when you merge" in html
    assert "Merging cannot be undone." in html
    assert 'name="primary" value="this" checked' in html
    assert "<html" not in html  # a fragment for the panel


def test_the_search_lists_visible_tickets_but_not_this_one(client, team_agent, billing_team):
    ticket = _ticket("Router broken", team=billing_team)
    mine = _ticket("Router slow", team=billing_team)
    _ticket("Router hidden")  # another team's: out of this agent's scope
    client.force_login(team_agent)

    html = client.get(
        reverse("tickets:merge_candidates", args=[ticket.pk]), {"q": "router"}, headers=HTMX
    ).content.decode()

    assert f'value="{mine.pk}"' in html
    assert "Router slow" in html
    assert "Router hidden" not in html
    assert f'value="{ticket.pk}"' not in html


def test_the_search_finds_a_ticket_by_its_id(client, agent):
    ticket, other = _ticket("A"), _ticket("Something else")
    client.force_login(agent)

    html = client.get(
        reverse("tickets:merge_candidates", args=[ticket.pk]), {"q": f"#{other.pk}"}
    ).content.decode()

    assert f'value="{other.pk}"' in html


@pytest.mark.parametrize("primary", ["this", "other"])
def test_merging_opens_the_new_ticket(client, agent, primary):
    ticket = _ticket("This one", priority=Priority.LOW)
    other = _ticket("The other", priority=Priority.HIGH)
    client.force_login(agent)

    response = client.post(
        _merge_url(ticket), {"other": other.pk, "primary": primary}, headers=HTMX
    )

    merged = Ticket.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("tickets:detail", args=[merged.pk])
    expected = ("This one", Priority.LOW) if primary == "this" else ("The other", Priority.HIGH)
    assert (merged.name, merged.priority) == expected
    assert set(TicketRedirect.objects.values_list("old_id", flat=True)) == {ticket.pk, other.pk}


def test_without_htmx_a_merge_redirects(client, agent):
    ticket, other = _ticket("A"), _ticket("B")
    client.force_login(agent)

    response = client.post(_merge_url(ticket), {"other": other.pk})

    merged = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[merged.pk])


@pytest.mark.parametrize(
    ("other", "message"),
    [
        pytest.param("", "Choose the ticket to merge with.", id="none"),
        pytest.param("self", "Choose another ticket than this one.", id="self"),
        pytest.param("999999", "That ticket was not found.", id="unknown"),
        pytest.param("hidden", "That ticket was not found.", id="out-of-scope"),
    ],
)
def test_a_merge_that_cannot_be_done_says_why_and_changes_nothing(
    client, team_agent, billing_team, other, message
):
    ticket = _ticket("Mine", team=billing_team)
    hidden = _ticket("Someone else's")
    chosen = {"self": str(ticket.pk), "hidden": str(hidden.pk)}.get(other, other)
    client.force_login(team_agent)

    response = client.post(_merge_url(ticket), {"other": chosen}, headers=HTMX)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert Ticket.objects.count() == 2
    assert not TicketRedirect.objects.exists()


def test_users_without_a_seat_cannot_merge(client, no_seat_user):
    ticket, other = _ticket("A"), _ticket("B")
    client.force_login(no_seat_user)

    response = client.post(_merge_url(ticket), {"other": other.pk})

    assert response.status_code in (302, 403)
    assert Ticket.objects.count() == 2


def test_old_ticket_urls_redirect_to_the_merged_ticket(client, agent):
    a, b, c = _ticket("A"), _ticket("B"), _ticket("C")
    first = merge_tickets(primary=a, other=b, actor=None)
    merged = merge_tickets(primary=c, other=first, actor=None)
    client.force_login(agent)

    for old in (a.pk, b.pk, first.pk):
        response = client.get(reverse("tickets:detail", args=[old]), {"view": "all"})
        assert response.status_code == 302
        assert response["Location"] == reverse("tickets:detail", args=[merged.pk]) + "?view=all"
    assert client.get(reverse("tickets:detail", args=[merged.pk])).status_code == 200


def test_an_old_url_does_not_lead_a_user_to_a_ticket_they_cannot_see(client, team_agent):
    a, b = _ticket("A"), _ticket("B")
    merge_tickets(primary=a, other=b, actor=None)
    client.force_login(team_agent)

    response = client.get(reverse("tickets:detail", args=[a.pk]))

    assert response.status_code == 404
