import pytest
from django.urls import reverse

from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

VIEW_KEYS = [
    "unassigned",
    "assigned-to-me",
    "unassigned-for-my-team",
    "my-teams-open",
    "all-open",
    "sent",
    "spam",
]


@pytest.mark.parametrize("key", VIEW_KEYS)
@pytest.mark.parametrize(
    ("who", "status"),
    [(None, 302), ("no_seat_user", 403), ("agent", 200), ("super_admin", 200), ("own_agent", 200)],
)
def test_default_view_permissions(client, request, key, who, status):
    if who:
        client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("ticket_views:view", args=[key])).status_code == status


def test_unknown_view_is_404(client, agent):
    client.force_login(agent)
    assert client.get("/views/nope/").status_code == 404


def test_home_redirects_to_unassigned(client, agent):
    client.force_login(agent)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == reverse("ticket_views:view", args=["unassigned"])


def test_list_shows_only_visible_tickets_and_counts(client, team_agent, support_team, billing_team):
    TicketFactory(name="Support secret", team=support_team)
    TicketFactory(name="Billing question", team=billing_team)
    client.force_login(team_agent)
    body = client.get(reverse("ticket_views:view", args=["all-open"])).content.decode()
    assert "Billing question" in body
    assert "Support secret" not in body
    assert 'data-view="all-open"' in body
    assert 'data-count="1"' in body


def test_empty_view_says_what_to_do(client, agent):
    client.force_login(agent)
    body = client.get(reverse("ticket_views:view", args=["unassigned"])).content.decode()
    assert "No unassigned tickets" in body


def test_sidebar_counts_partial(client, agent):
    TicketFactory(owner=agent)
    client.force_login(agent)
    body = client.get(reverse("ticket_views:sidebar_counts")).content.decode()
    assert 'href="/views/assigned-to-me/"' in body


def test_all_tickets_list_paginates(client, agent, settings):
    settings.TICKET_LIST_PAGE_SIZE = 2
    for i in range(3):
        TicketFactory(name=f"Paged {i}")
    client.force_login(agent)
    first = client.get(reverse("ticket_views:all"))
    assert first.context["page"].next_cursor
    second = client.get(reverse("ticket_views:all"), {"after": first.context["page"].next_cursor})
    names = [t.name for t in first.context["page"].tickets + second.context["page"].tickets]
    assert sorted(names) == ["Paged 0", "Paged 1", "Paged 2"]


@pytest.mark.parametrize("query", ["#{pk}", "{pk}", "Lindqvist", "kund.se", "export invoices"])
def test_search_finds_by_id_name_and_contact(client, agent, query):
    from tests.factories import ContactFactory

    contact = ContactFactory(first_name="Åsa", last_name="Lindqvist", email="asa@kund.se")
    ticket = TicketFactory(name="Cannot export invoices", contact=contact)
    TicketFactory(name="Unrelated")
    client.force_login(agent)
    response = client.get(reverse("ticket_views:all"), {"q": query.format(pk=ticket.pk)})
    assert [t.pk for t in response.context["page"].tickets] == [ticket.pk]


def test_search_respects_access(client, team_agent, support_team):
    TicketFactory(name="Secret support thing", team=support_team)
    client.force_login(team_agent)
    response = client.get(reverse("ticket_views:all"), {"q": "Secret"})
    assert response.context["page"].tickets == []
    assert "No tickets match" in response.content.decode()
