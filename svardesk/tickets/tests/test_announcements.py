"""Tickets changed together are announced after commit with their live scopes (team, owner,
version, stage) read in one statement, not one read per ticket by the live broadcast."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.tickets.models import Ticket
from svardesk.tickets.services import NewTicket, create_tickets, move_to_stage
from svardesk.tickets.signals import ticket_changed
from tests.factories import default_pipeline, stage_named

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def announced():
    heard: list[tuple[int, tuple | None]] = []

    def note(sender, ticket_id, actor_id=None, scope=None, **kwargs):  # type: ignore[no-untyped-def]
        heard.append((ticket_id, tuple(scope) if scope is not None else None))

    ticket_changed.connect(note, weak=False)
    yield heard
    ticket_changed.disconnect(note)


def _scope_reads(run: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in run.captured_queries
        if q["sql"].startswith("SELECT") and '"tickets_ticket"."version"' in q["sql"]
    ]


def test_tickets_created_together_are_announced_with_scopes_read_once(announced, support_team):
    pipeline = default_pipeline()

    with CaptureQueriesContext(connection) as run:
        tickets = create_tickets(
            [
                NewTicket(name=f"Skrivare {n}", pipeline=pipeline, team=support_team)
                for n in range(6)
            ],
            actor=None,
        )

    assert sorted(pk for pk, _scope in announced) == sorted(t.pk for t in tickets)
    for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets]):
        scope = dict(announced)[ticket.pk]
        assert scope == (ticket.team_id, ticket.owner_id, ticket.version, ticket.stage_id)
    # One read for all six — the live broadcast reads none of its own.
    assert len(_scope_reads(run)) == 1


def test_a_move_of_many_is_announced_with_the_moved_stage(announced):
    pipeline = default_pipeline()
    tickets = create_tickets(
        [NewTicket(name=f"Faktura {n}", pipeline=pipeline) for n in range(4)], actor=None
    )
    closed = stage_named("Closed")
    announced.clear()

    with CaptureQueriesContext(connection) as run:
        move_to_stage([t.pk for t in tickets], closed, actor=None)

    assert sorted(pk for pk, _scope in announced) == sorted(t.pk for t in tickets)
    assert {scope[3] for _pk, scope in announced if scope} == {closed.pk}
    assert len(_scope_reads(run)) == 1
