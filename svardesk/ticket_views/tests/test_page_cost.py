"""What a list page costs in queries, and the fragments drawn in Python (toolbar choices,
sidebar links) — the same markup, escaped, with the chosen value marked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from svardesk.teams.models import Team
from svardesk.ticket_views import services
from svardesk.ticket_views.filters import Filter
from svardesk.ticket_views.models import Sharing
from svardesk.ticket_views.queries import list_custom_views
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def _queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def manager(support_team):
    return UserFactory(email="manager@svardesk.test", can_manage_views=True, teams=[support_team])


def test_list_page_queries_do_not_grow_with_tickets_or_views(client, manager, support_team):
    url = reverse("ticket_views:view", args=["all-open"])
    TicketFactory(team=support_team)
    client.force_login(manager)
    client.get(url)
    few = _queries(client, url)
    for i in range(5):
        services.create_view(
            actor=manager, name=f"View {i}", sharing=Sharing.EVERYONE,
            filters=[Filter("priority", "EQ", "HIGH")],
        )  # fmt: skip
    TicketFactory.create_batch(6, team=support_team, owner=manager)
    client.get(url)  # the new views' counts, then cached as between two refreshes
    many = _queries(client, url)
    assert len(many) == len(few)
    # The property registry and the custom views are read at most once, though the view,
    # the toolbar and the sidebar all use them (the registry is kept a few seconds across
    # requests, core.local_cache).
    assert sum("tickets_propertydefinition" in sql for sql in many) <= 1
    assert sum('FROM "ticket_views_customview"' in sql for sql in many) == 1


def test_custom_view_page_reads_the_views_once(client, manager):
    view = services.create_view(
        actor=manager, name="Urgent", sharing=Sharing.EVERYONE,
        filters=[Filter("priority", "EQ", "URGENT")], sort="-priority",
    )  # fmt: skip
    client.force_login(manager)
    url = reverse("ticket_views:custom", args=[view.pk])
    client.get(url)
    sql = _queries(client, url)
    assert sum('FROM "ticket_views_customview"' in s for s in sql) == 1
    assert sum("tickets_propertydefinition" in s for s in sql) <= 1


def test_team_view_shows_once_for_a_member_of_several_of_its_teams(
    client, manager, support_team, billing_team
):
    manager.memberships.create(team=billing_team)
    view = services.create_view(
        actor=manager, name="Both teams", sharing=Sharing.TEAMS,
        teams=[support_team, billing_team],
    )  # fmt: skip
    assert [v.pk for v in list_custom_views(manager)].count(view.pk) == 1
    client.force_login(manager)
    body = client.get(reverse("ticket_views:view", args=["all-open"])).content.decode()
    assert body.count(f'data-view="{view.key}"') == 1


def test_toolbar_choices_are_escaped_and_mark_the_chosen_one(client, manager):
    team = Team.objects.create(name='R&D <"lab">')
    TicketFactory(team=team)  # the bulk bar shows above a page with tickets
    client.force_login(manager)
    url = reverse("ticket_views:view", args=["all-open"]) + f"?team={team.pk}"
    body = client.get(url).content.decode()
    assert f'<option value="{team.pk}" selected>R&amp;D &lt;&quot;lab&quot;&gt;</option>' in body
    assert 'R&D <"lab">' not in body
    # The bulk bar offers the same team, not marked.
    assert f'<option value="{team.pk}">R&amp;D &lt;&quot;lab&quot;&gt;</option>' in body


def test_sidebar_marks_the_current_view_only(client, manager):
    client.force_login(manager)
    body = client.get(reverse("ticket_views:view", args=["sent"])).content.decode()
    assert 'class="view-link is-current" aria-current="page" data-view="sent"' in body
    assert body.count('aria-current="page"') == 1
    assert 'class="view-link" data-view="all-open"' in body


def test_kept_lookups_show_a_change_on_the_next_page(client, manager, support_team):
    """Statuses, teams and property definitions are kept a few seconds across requests;
    a change made here shows at once."""
    from svardesk.tickets.services import create_property_definition

    url = reverse("ticket_views:view", args=["all-open"])
    client.force_login(manager)
    client.get(url)  # fills the cache
    support_team.name = "Renamed support"
    support_team.save()
    create_property_definition(actor=None, name="region", label="Sales region", type="text")

    page = client.get(url).content.decode()

    assert "Renamed support" in page
    assert "Sales region" in page
