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


def test_access_ticket_reads_each_scope_with_its_related_objects(
    tickets, super_admin, agent, team_agent, own_agent, support_team
):
    from django.db import transaction

    from svardesk.tickets.models import Ticket

    two_teams = UserFactory(ticket_access="team", teams=[support_team])
    everyone = [super_admin, agent, team_agent, own_agent, two_teams]
    for user in everyone * 2:  # the second round runs the statements compiled in the first
        for ticket in tickets.values():
            expected = visible_tickets(user).filter(pk=ticket.pk).first()
            for for_update in (False, True):
                with transaction.atomic():
                    if expected is None:
                        with pytest.raises(NotFoundError):
                            access_ticket(ticket.pk, actor=user, for_update=for_update)
                        continue
                    found = access_ticket(str(ticket.pk), actor=user, for_update=for_update)
                assert found.pk == expected.pk
                assert found.name == expected.name
                for relation in ("pipeline", "stage", "owner", "team", "contact"):
                    assert Ticket._meta.get_field(relation).is_cached(found)
                assert found.stage.name == expected.stage.name
                assert (found.owner and found.owner.email) == (
                    expected.owner and expected.owner.email
                )


@pytest.mark.django_db(transaction=True)
def test_access_ticket_for_update_outside_a_transaction_is_refused(agent):
    from django.db import connection
    from django.db.transaction import TransactionManagementError

    if not connection.features.has_select_for_update:
        pytest.skip("SQLite has no row locks (Django ignores select_for_update there)")
    tickets = {"support": TicketFactory()}

    from django.db import transaction

    with transaction.atomic():  # compiled here, inside a transaction
        access_ticket(tickets["support"].pk, actor=agent, for_update=True)
    with pytest.raises(TransactionManagementError):  # the compiled statement, outside
        access_ticket(tickets["support"].pk, actor=agent, for_update=True)


def test_access_ticket_of_an_id_too_large_for_any_row_is_not_found(agent):
    with pytest.raises(NotFoundError):
        access_ticket("9" * 30, actor=agent)


def test_access_ticket_with_annotations_reads_them_for_each_scope_from_one_compiled_statement(
    tickets, super_admin, agent, team_agent, own_agent, support_team
):
    from django.db import connection
    from django.db.models import F, Value
    from django.db.models.functions import Concat
    from django.test.utils import CaptureQueriesContext

    def annotations(prefix):
        return {"labelled": Concat(Value(prefix), F("name")), "twice": F("id") * 2}

    two_teams = UserFactory(ticket_access="team", teams=[support_team])
    everyone = [super_admin, agent, team_agent, own_agent, two_teams]
    for user in everyone:
        for ticket in tickets.values():
            expected = visible_tickets(user).filter(pk=ticket.pk).first()
            if expected is None:
                with pytest.raises(NotFoundError):
                    access_ticket(ticket.pk, actor=user, annotate=("test", annotations("#")))
                continue
            found = access_ticket(ticket.pk, actor=user, annotate=("test", annotations("#")))
            assert found.labelled == f"#{expected.name}"
            assert found.twice == 2 * expected.pk
            assert found.team_id == expected.team_id

    # The name stands for the expressions: compiled once, the first expressions are kept.
    with CaptureQueriesContext(connection) as captured:
        again = access_ticket(tickets["support"].pk, actor=agent, annotate=("test", {}))
    assert again.labelled == "#support"
    assert len(captured.captured_queries) == 1
