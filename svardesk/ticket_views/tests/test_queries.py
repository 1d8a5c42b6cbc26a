import pytest

from svardesk.ticket_views.queries import count_default_views, list_tickets, list_view_tickets
from tests.factories import TicketFactory, stage_named

pytestmark = pytest.mark.django_db


def test_default_view_counts(agent, super_admin, support_team, billing_team, team_agent):
    TicketFactory(owner=None, team=support_team)  # unassigned, my team
    TicketFactory(owner=None, team=billing_team)  # unassigned, other team
    TicketFactory(owner=agent, team=support_team)  # mine
    TicketFactory(
        owner=agent, stage=stage_named("Closed"), is_open=False
    )  # closed: in no open view
    TicketFactory(owner=None, is_spam=True)  # spam only
    TicketFactory(owner=super_admin, last_message_author=agent)  # sent by agent
    counts = count_default_views(agent).counts
    assert counts == {
        "unassigned": 2,
        "assigned-to-me": 1,
        "unassigned-for-my-team": 1,
        "my-teams-open": 2,
        "all-open": 4,
        "sent": 1,
        "spam": 1,
    }
    assert count_default_views(super_admin).counts["assigned-to-me"] == 1
    restricted = count_default_views(team_agent).counts
    assert (restricted["all-open"], restricted["unassigned"], restricted["spam"]) == (1, 1, 0)


def test_counts_cache_is_per_user_and_bounded(agent, super_admin, settings):
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 10
    TicketFactory(owner=agent)
    first = count_default_views(agent)
    TicketFactory(owner=agent)
    cached = count_default_views(agent)
    assert (first.is_cached, cached.is_cached) == (False, True)
    assert cached.counts["assigned-to-me"] == 1  # at most 10 s old, and says when it was computed
    assert cached.computed_at == first.computed_at
    assert count_default_views(super_admin).counts["assigned-to-me"] == 0


def test_keyset_pagination_visits_every_ticket_once(agent, settings):
    created = {TicketFactory().pk for _ in range(7)}
    seen: list[int] = []
    cursor = None
    while True:
        page = list_tickets(agent, cursor=cursor, page_size=3)
        seen.extend(t.pk for t in page.tickets)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(created)
    assert len(seen) == len(set(seen))


def test_garbage_cursor_starts_from_the_top(agent):
    TicketFactory()
    assert len(list_tickets(agent, cursor="not-a-cursor").tickets) == 1


def test_view_lists_respect_access(team_agent, support_team, billing_team):
    TicketFactory(name="theirs", team=support_team)
    TicketFactory(name="ours", team=billing_team)
    names = [t.name for t in list_view_tickets(team_agent, "all-open").tickets]
    assert names == ["ours"]


def test_own_change_is_counted_at_once_despite_cache(
    agent, settings, django_capture_on_commit_callbacks
):
    from svardesk.tickets.services import create_ticket
    from tests.factories import default_pipeline

    settings.SIDEBAR_COUNT_CACHE_SECONDS = 60
    assert count_default_views(agent).counts["assigned-to-me"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        create_ticket(actor=agent, name="mine", pipeline=default_pipeline(), owner=agent)
    assert count_default_views(agent).counts["assigned-to-me"] == 1
