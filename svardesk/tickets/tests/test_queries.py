import pytest

from svardesk.core.exceptions import NotFoundError
from svardesk.tickets.queries import access_ticket, visible_ticket, visible_tickets
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(agent, team_agent, own_agent, support_team, billing_team):
    return {
        "support": TicketFactory(name="support", team=support_team),
        "billing": TicketFactory(name="billing", team=billing_team),
        "no-team": TicketFactory(name="no-team"),
        "own-agent's": TicketFactory(name="own-agent's", owner=own_agent, team=support_team),
        "team-agent's support": TicketFactory(
            name="team-agent's support", owner=team_agent, team=support_team
        ),
    }


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        pytest.param(
            "super_admin",
            {"support", "billing", "no-team", "own-agent's", "team-agent's support"},
            id="super-admin-all",
        ),
        pytest.param(
            "agent",
            {"support", "billing", "no-team", "own-agent's", "team-agent's support"},
            id="all-scope",
        ),
        pytest.param(
            "team_agent", {"billing", "team-agent's support"}, id="team-scope-own-included"
        ),
        pytest.param("own_agent", {"own-agent's"}, id="own-scope"),
    ],
)
def test_visible_tickets_follow_ticket_access(request, tickets, who, expected):
    user = request.getfixturevalue(who)
    assert set(visible_tickets(user).values_list("name", flat=True)) == expected


def test_visible_ticket_finds_one_ticket_exactly_as_visible_tickets(
    tickets, super_admin, agent, team_agent, own_agent, support_team
):
    from tests.factories import TeamFactory

    two_teams = UserFactory(ticket_access="team", teams=[support_team, TeamFactory()])
    no_team = UserFactory(ticket_access="team")
    everyone = [super_admin, agent, team_agent, own_agent, two_teams, no_team]
    candidates = [ticket.pk for ticket in tickets.values()] + [999_999_999]
    for user in everyone * 2:  # the second round runs the statements compiled in the first
        for ticket_id in candidates:
            found = visible_ticket(user, ticket_id)
            expected = visible_tickets(user).filter(pk=ticket_id).first()
            assert (found and found.pk) == (expected and expected.pk), (user.email, ticket_id)
            if found is not None:
                assert found.name == expected.name
    assert visible_ticket(two_teams, tickets["support"].pk) is not None
    assert visible_ticket(no_team, tickets["support"].pk) is None


def test_access_ticket_hides_tickets_outside_scope(tickets, team_agent):
    assert access_ticket(tickets["billing"].pk, actor=team_agent).name == "billing"
    with pytest.raises(NotFoundError):
        access_ticket(tickets["support"].pk, actor=team_agent)


@pytest.mark.parametrize("bad_id", ["abc", None, "", 999999999])
def test_access_ticket_unknown_ids(bad_id, agent):
    with pytest.raises(NotFoundError):
        access_ticket(bad_id, actor=agent)
