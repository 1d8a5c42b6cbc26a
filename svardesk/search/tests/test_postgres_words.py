"""PostgreSQL's stored ticket words (migration 0002): the triggers keep them current, the
Python writer used by bulk loads writes the same vectors, and a search's queries have the
plans that keep every page fast (checked with EXPLAIN, as ticket_views checks its views)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.search.normalise import tsvector_words, word_set
from svardesk.search.queries import search_tickets
from svardesk.tickets.models import Ticket
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("stored ticket words exist on PostgreSQL only")


def _words(ticket_id: int) -> tuple[str, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name::text, body::text FROM search_ticket_words WHERE ticket_id = %s",
            [ticket_id],
        )
        return cursor.fetchone()


def _vector(text: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::tsvector::text", [tsvector_words(word_set(text))])
        return cursor.fetchone()[0]


def test_words_follow_the_ticket():
    ticket = TicketFactory(name="Printer jam", description="Åsa's Drucker: paper")
    assert _words(ticket.pk) == (
        _vector("Printer jam"),
        _vector("Printer jam Åsa's Drucker: paper"),
    )
    Ticket.objects.filter(pk=ticket.pk).update(name="Scanner löst")
    assert _words(ticket.pk)[0] == _vector("Scanner löst")
    Ticket.objects.filter(pk=ticket.pk).delete()
    assert _words(ticket.pk) is None


@pytest.mark.parametrize(
    "text",
    [
        "Åsa Ström-O'Brien",
        "Re: Fw: ÆØÅ æble ß straße Ĳssel",
        "order #12345, 1e10 v2.3.4 abc123def 007",
        "mail anna@acme.se https://x.example/a?b=c",
        "  ",
        "Kelvin K and k",
        "x" * 3000 + " short",
    ],
)
def test_python_words_equal_the_databases(text):
    with connection.cursor() as cursor:
        cursor.execute("SELECT svardesk_words(%s)::text", [text])
        assert cursor.fetchone()[0] == _vector(text)
        cursor.execute("SELECT svardesk_fold(%s)", [text])
        from svardesk.search.normalise import fold

        assert cursor.fetchone()[0] == fold(text)


def _plans(agent, text: str, cursor: str | None = None) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        search_tickets(agent, text, cursor=cursor)
    plans = []
    with connection.cursor() as db:
        for query in captured.captured_queries:
            if "ORDER BY" in query["sql"] and "tickets_ticket" in query["sql"]:
                db.execute(f"EXPLAIN {query['sql']}")
                plans.append("\n".join(row[0] for row in db.fetchall()))
    return plans


def test_a_deep_page_starts_the_index_scan_at_its_position(agent, monkeypatch):
    """The keyset condition is a row comparison the newest-first index starts from (an
    Index Cond), not a filter re-reading every newer ticket; no query folds text."""
    from svardesk.search import backends

    monkeypatch.setattr(backends, "TICKET_ID_LIMIT", 3)  # common: the walk, not a list
    TicketFactory.create_batch(30, name="Printer broken", description="printer")
    page = search_tickets(agent, "printer", page_size=5)
    with connection.cursor() as db:
        for setting in ("seqscan", "bitmapscan", "sort"):
            db.execute(f"SET LOCAL enable_{setting} = off")
        plans = _plans(agent, "printer", cursor=page.next_cursor)
    assert plans
    assert any("Index Cond: (ROW(last_activity_at, id) < ROW(" in plan for plan in plans), plans
    assert not any("svardesk_fold" in plan for plan in plans), plans


def test_common_words_are_checked_against_stored_words(agent, monkeypatch):
    """Past TICKET_ID_LIMIT matches, a ticket is checked by a primary-key lookup into its
    stored words, never by folding its text."""
    from svardesk.search import backends

    monkeypatch.setattr(backends, "TICKET_ID_LIMIT", 3)
    TicketFactory.create_batch(10, name="Webhook failing", description="webhook")
    plans = _plans(agent, "webhook")
    assert any("search_ticket_words" in plan for plan in plans), plans
    assert not any("svardesk_fold" in plan for plan in plans), plans
    assert len(search_tickets(agent, "webhook", page_size=20).tickets) == 10


def test_a_short_list_of_matches_is_read_by_id_and_sorted(team_agent):
    """Few matches travel as ids and are read as such, then sorted — never
    a walk of the newest-first index hoping to meet them (a restricted reader's access
    check made that walk cover most of the table at 1M)."""
    TicketFactory.create_batch(5, name="Okta login", description="okta")
    TicketFactory.create_batch(20, name="Other", description="other")
    with connection.cursor() as db:
        db.execute("SET LOCAL enable_seqscan = off")
        plans = _plans(team_agent, "okta")
    assert plans
    assert all("ticket_recent" not in plan for plan in plans), plans
    assert any("Sort Key: ((last_activity_at + " in plan for plan in plans), plans


def test_the_newest_first_index_carries_what_an_access_check_reads():
    """A team-scoped agent's search of a common word walks `ticket_recent` newest first and
    drops the tickets they may not read: with team and owner in the index the walk is an
    index-only scan (at 1M: 11,000 heap pages a page of results without them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef('ticket_recent'::regclass)")
        definition = cursor.fetchone()[0]
    assert "(last_activity_at DESC, id DESC) INCLUDE (team_id, owner_id)" in definition
