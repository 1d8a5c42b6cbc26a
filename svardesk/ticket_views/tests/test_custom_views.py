"""Custom views: who may create, edit and delete them; who sees which view, which tickets and
which counts — enforced on every request, not only hidden in the sidebar."""

from __future__ import annotations

import pytest
from django.urls import reverse

from svardesk.ticket_views import services
from svardesk.ticket_views.exceptions import (
    CustomViewLimitError,
    CustomViewPermissionError,
    CustomViewValidationError,
)
from svardesk.ticket_views.filters import Filter
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.ticket_views.queries import list_custom_views, sidebar
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

HIGH = Filter("priority", "IN", values=("HIGH", "URGENT"))
MINE = Filter("owner", "EQ", "me")


@pytest.fixture
def manager(support_team):
    """An agent in Support with the Custom views permission."""
    return UserFactory(email="manager@svardesk.test", can_manage_views=True, teams=[support_team])


@pytest.fixture
def billing_manager(billing_team):
    return UserFactory(
        email="billing-manager@svardesk.test",
        can_manage_views=True,
        ticket_access="team",
        teams=[billing_team],
    )


@pytest.fixture
def views(manager, super_admin, support_team, billing_team):
    return {
        "private": services.create_view(actor=manager, name="My urgent", filters=[HIGH, MINE]),
        "support": services.create_view(
            actor=manager,
            name="Support high",
            sharing=Sharing.TEAMS,
            teams=[support_team],
            filters=[HIGH],
        ),
        "billing": services.create_view(
            actor=super_admin, name="Billing all", sharing=Sharing.TEAMS, teams=[billing_team]
        ),
        "everyone": services.create_view(
            actor=super_admin, name="Everyone mine", sharing=Sharing.EVERYONE, filters=[MINE]
        ),
    }


# Who sees which view. agent: Support member without the permission; team_agent: Billing,
# team access; own_agent: no team, own tickets; super_admin: no team.
VISIBILITY = {
    "manager": {"private", "support", "everyone"},
    "agent": {"support", "everyone"},
    "team_agent": {"billing", "everyone"},
    "own_agent": {"everyone"},
    "super_admin": {"everyone"},
    "billing_manager": {"billing", "everyone"},
}


@pytest.mark.parametrize("who", sorted(VISIBILITY))
def test_who_sees_which_view(request, views, who):
    user = request.getfixturevalue(who)
    names = {key for key, view in views.items() if view in list_custom_views(user)}
    assert names == VISIBILITY[who]


@pytest.mark.parametrize("who", sorted(VISIBILITY))
@pytest.mark.parametrize("key", ["private", "support", "billing", "everyone"])
def test_view_url_is_404_for_those_who_may_not_see_it(client, request, views, who, key):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("ticket_views:custom", args=[views[key].pk]))
    assert response.status_code == (200 if key in VISIBILITY[who] else 404)


@pytest.mark.parametrize("key", ["private", "everyone"])
def test_view_urls_need_a_seat(client, views, no_seat_user, key):
    assert client.get(reverse("ticket_views:custom", args=[views[key].pk])).status_code == 302
    client.force_login(no_seat_user)
    assert client.get(reverse("ticket_views:custom", args=[views[key].pk])).status_code == 403


def test_counts_and_tickets_follow_the_viewer_and_their_access(
    client, views, manager, agent, team_agent, support_team, billing_team
):
    """ "Everyone mine" (owner is me) counts each viewer's own tickets; a shared view never
    shows a ticket outside the viewer's access."""
    TicketFactory(owner=manager, team=support_team, priority="HIGH")
    TicketFactory(owner=manager, team=support_team, priority="LOW")
    TicketFactory(owner=agent, team=billing_team, priority="URGENT")
    TicketFactory(owner=team_agent, team=billing_team, priority="HIGH")
    TicketFactory(owner=None, team=support_team, priority="URGENT")
    counts = {
        user.email: {v.label: v.count for v in sidebar(user).shared + sidebar(user).private}
        for user in (manager, agent, team_agent)
    }
    assert counts[manager.email] == {"Support high": 4, "Everyone mine": 2, "My urgent": 1}
    assert counts[agent.email] == {"Support high": 4, "Everyone mine": 1}
    # team_agent sees Billing tickets and their own: 2 of the 5.
    assert counts[team_agent.email] == {"Billing all": 2, "Everyone mine": 1}

    client.force_login(team_agent)
    body = client.get(reverse("ticket_views:custom", args=[views["billing"].pk])).content.decode()
    assert body.count('class="ticket-row"') == 2
    assert f'data-view="{views["billing"].key}"' in body
    assert 'data-count="2"' in body


# --- Creating, editing, deleting ------------------------------------------------------------


def test_only_views_permission_creates(agent, manager, super_admin):
    with pytest.raises(CustomViewPermissionError):
        services.create_view(actor=agent, name="Nope")
    assert not CustomView.objects.exists()
    assert services.create_view(actor=manager, name="Mine").created_by == manager
    assert services.create_view(actor=super_admin, name="Admin's").created_by == super_admin


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "T", "sharing": "teams"}, "teams"),
        ({"name": "S", "sharing": "world"}, "sharing"),
        ({"name": "F", "filters": [Filter("nope", "EQ", "x")]}, "filters"),
        ({"name": "F", "filters": [Filter("priority", "LT", "x")]}, "filters"),
    ],
    ids=[
        "blank-name",
        "long-name",
        "team-without-teams",
        "unknown-sharing",
        "unknown-property",
        "wrong-operator",
    ],
)
def test_invalid_views_are_refused(manager, fields, field):
    with pytest.raises(CustomViewValidationError) as raised:
        services.create_view(actor=manager, **fields)
    assert field in raised.value.errors
    assert not CustomView.objects.exists()


def test_account_wide_limit(manager, super_admin, settings):
    settings.CUSTOM_VIEW_LIMIT = 2
    services.create_view(actor=manager, name="One")
    services.create_view(actor=super_admin, name="Two")
    with pytest.raises(CustomViewLimitError, match="limit of 2 custom views"):
        services.create_view(actor=manager, name="Three")
    assert CustomView.objects.count() == 2


def test_limit_message_in_the_editor(client, manager, settings):
    settings.CUSTOM_VIEW_LIMIT = 1
    services.create_view(actor=manager, name="One")
    client.force_login(manager)
    page = client.get(reverse("ticket_views:create")).content.decode()
    assert "reached its limit of 1 custom views" in page
    response = client.post(reverse("ticket_views:create"), {"name": "Two", "action": "save"})
    assert response.status_code == 422
    assert "reached its limit of 1 custom views" in response.content.decode()
    assert CustomView.objects.count() == 1


def test_create_through_the_editor(client, manager, support_team):
    client.force_login(manager)
    response = client.post(
        reverse("ticket_views:create"),
        {
            "name": "Support urgent",
            "sharing": "teams",
            "teams": [support_team.pk],
            "f": ["priority:IN:URGENT", "team:IN:my_team"],
            "action": "save",
        },
    )
    view = CustomView.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("ticket_views:custom", args=[view.pk])
    assert (view.name, view.sharing, list(view.teams.all())) == (
        "Support urgent", "teams", [support_team])  # fmt: skip
    assert view.filters == [
        {"property": "priority", "operator": "IN", "values": ["URGENT"]},
        {"property": "team", "operator": "IN", "values": ["my_team"]},
    ]


def test_editor_adds_and_removes_conditions_without_saving(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("ticket_views:create"),
        {
            "name": "Draft",
            "f": ["priority:IN:HIGH"],
            "add_property": "owner",
            "add_operator": "NOT_HAS_PROPERTY",
            "action": "add",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="owner:NOT_HAS_PROPERTY"' in body
    assert 'value="priority:IN:HIGH"' in body
    response = client.post(
        reverse("ticket_views:create"),
        {"name": "Draft", "f": ["priority:IN:HIGH", "owner:NOT_HAS_PROPERTY"], "remove": "0"},
    )
    body = response.content.decode()
    assert 'value="priority:IN:HIGH"' not in body
    assert 'value="owner:NOT_HAS_PROPERTY"' in body
    assert not CustomView.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("agent", 403), ("manager", 200), ("billing_manager", 404)]
)
def test_edit_page_permissions(client, request, views, who, status):
    client.force_login(request.getfixturevalue(who))
    assert (
        client.get(reverse("ticket_views:edit", args=[views["support"].pk])).status_code == status
    )


@pytest.mark.parametrize(
    ("who", "status", "remains"),
    [("agent", 403, True), ("billing_manager", 404, True), ("manager", 302, False)],
)
def test_delete_permissions(client, request, views, who, status, remains):
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("ticket_views:delete", args=[views["support"].pk]))
    assert response.status_code == status
    assert CustomView.objects.filter(pk=views["support"].pk).exists() is remains


def test_private_view_of_another_is_404_even_for_a_super_admin(client, views, super_admin):
    client.force_login(super_admin)
    for name in ("ticket_views:custom", "ticket_views:edit"):
        assert client.get(reverse(name, args=[views["private"].pk])).status_code == 404
    assert (
        client.post(reverse("ticket_views:delete", args=[views["private"].pk])).status_code == 404
    )
    assert CustomView.objects.filter(pk=views["private"].pk).exists()


def test_rename_and_update(views, manager, agent, billing_team):
    view = services.rename_view(views["support"], actor=manager, name="Renamed")
    assert view.name == "Renamed"
    view = services.update_view(
        view, actor=manager, name="Billing now", sharing=Sharing.TEAMS, teams=[billing_team]
    )
    assert list(view.teams.all()) == [billing_team]
    assert view not in list_custom_views(manager)  # no longer one of the manager's teams
    with pytest.raises(CustomViewValidationError, match="private"):
        services.update_view(views["everyone"], actor=manager, name="Mine now", sharing="private")


def test_sidebar_lists_shared_and_private_views(client, views, manager):
    client.force_login(manager)
    body = client.get(reverse("ticket_views:sidebar_counts")).content.decode()
    shared_at, private_at = body.index("Shared views"), body.index("Private views")
    assert shared_at < body.index("Support high") < private_at < body.index("My urgent")
    assert "+ Create view" in body
    client.force_login(UserFactory())
    assert (
        "+ Create view" not in client.get(reverse("ticket_views:sidebar_counts")).content.decode()
    )


def test_broken_view_still_opens(client, manager):
    view = services.create_view(actor=manager, name="Old")
    CustomView.objects.filter(pk=view.pk).update(
        filters=[{"property": "gone", "operator": "EQ", "value": "x"}]
    )
    client.force_login(manager)
    assert client.get(reverse("ticket_views:custom", args=[view.pk])).status_code == 200
    counts = {v.label: v.count for v in sidebar(manager).private}
    assert counts == {"Old": None}
