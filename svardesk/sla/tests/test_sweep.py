"""The sweep: statuses move on at their time, each transition is announced once — also with
two sweeps running at the same moment (two workers) and after a restart."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from svardesk.conversations.models import Notification
from svardesk.sla.models import Applies, SlaSettings
from svardesk.sla.sweep import NOTIFY_DUE_SOON, NOTIFY_OVERDUE, sweep
from svardesk.teams.models import Membership
from svardesk.tickets.models import SlaStatus, Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket, ensure_default_pipeline
from tests.factories import TeamFactory, UserFactory

HOUR = 3600


@pytest.fixture
def sla(db):
    return SlaSettings.objects.create(
        pk=1,
        is_enabled=True,
        applies=Applies.ALWAYS,
        applies_to_manual=True,
        first_response_seconds=HOUR,
        close_seconds=8 * HOUR,
        first_response_due_soon_seconds=15 * 60,
        close_due_soon_seconds=HOUR,
    )


def _ticket(**kwargs):
    ticket = create_ticket(
        actor=None, name="Skrivaren", pipeline=ensure_default_pipeline(), **kwargs
    )
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.django_db
def test_statuses_move_on_at_their_time_and_the_owner_hears_once(sla):
    owner = UserFactory(has_seat=True)
    ticket = _ticket(owner=owner)
    created = ticket.created_at

    assert sweep(now=created + dt.timedelta(minutes=44)).due_soon == 0
    assert sweep(now=created + dt.timedelta(minutes=45)).due_soon == 1
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.DUE_SOON
    assert ticket.sla_close_status == SlaStatus.ON_TRACK

    again = sweep(now=created + dt.timedelta(minutes=50))  # a restarted worker sweeps again
    assert (again.due_soon, again.overdue) == (0, 0)
    sweep(now=created + dt.timedelta(hours=1))
    ticket.refresh_from_db()
    assert ticket.sla_first_response_status == SlaStatus.OVERDUE

    kinds = list(
        Notification.objects.filter(user=owner, ticket=ticket)
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [NOTIFY_DUE_SOON, NOTIFY_OVERDUE]
    missed = TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.SLA)
    assert [e.data for e in missed if e.data["event"] == "missed"] == [
        {"goal": "first_response", "event": "missed"}
    ]


@pytest.mark.django_db
def test_an_unassigned_tickets_team_hears_and_past_due_skips_due_soon(sla):
    team = TeamFactory(name="Första linjen")
    members = [UserFactory(has_seat=True), UserFactory(has_seat=True)]
    for user in members:
        Membership.objects.create(team=team, user=user)
    outsider = UserFactory(has_seat=True)
    ticket = _ticket(team=team)

    result = sweep(now=ticket.created_at + dt.timedelta(hours=2))

    assert result.overdue == 1
    assert result.due_soon == 0  # close (8 h, Due soon 1 h before) is 6 h away
    notified = set(
        Notification.objects.filter(ticket=ticket, kind=NOTIFY_OVERDUE).values_list(
            "user_id", flat=True
        )
    )
    assert notified == {u.pk for u in members}
    assert not Notification.objects.filter(user=outsider).exists()


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_announce_each_transition_once(sla):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    owner = UserFactory(has_seat=True)
    tickets = [_ticket(owner=owner) for _ in range(40)]
    when = max(t.created_at for t in tickets) + dt.timedelta(hours=1)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            sweep(now=when)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    overdue = Notification.objects.filter(kind=NOTIFY_OVERDUE, user=owner)
    assert overdue.count() == 40
    assert overdue.values("ticket_id").distinct().count() == 40
    assert Ticket.objects.filter(sla_first_response_status=SlaStatus.OVERDUE).count() == 40


@pytest.mark.django_db
def test_the_sweep_reads_nothing_when_nothing_is_due(sla, django_assert_max_num_queries):
    _ticket()
    with django_assert_max_num_queries(8):
        result = sweep(now=timezone.now())
    assert (result.due_soon, result.overdue) == (0, 0)


@pytest.mark.django_db
def test_spam_is_never_announced(sla):
    from svardesk.tickets.services import mark_spam

    owner = UserFactory(has_seat=True)
    ticket = _ticket(owner=owner)
    mark_spam([ticket.pk], actor=None, is_spam=True)

    result = sweep(now=ticket.created_at + dt.timedelta(hours=2))

    assert (result.due_soon, result.overdue) == (0, 0)
    assert not Notification.objects.filter(user=owner).exists()


@pytest.mark.django_db
def test_a_burst_is_claimed_in_batches_and_announced_once_per_transition(sla, monkeypatch):
    """300 tickets overdue at once (a sweep after downtime): each transition is claimed and
    announced once, with statements per batch of tickets, not per ticket."""
    from django.test.utils import CaptureQueriesContext

    from svardesk.sla import sweep as sweep_module

    monkeypatch.setattr(sweep_module, "BATCH", 100)
    team = TeamFactory(name="Första linjen")
    members = [UserFactory(has_seat=True) for _ in range(3)]
    for user in members:
        Membership.objects.create(team=team, user=user)
    owner = UserFactory(has_seat=True)
    owned = [_ticket(owner=owner) for _ in range(150)]
    unowned = [_ticket(team=team) for _ in range(150)]
    when = max(t.created_at for t in owned + unowned) + dt.timedelta(hours=2)

    with CaptureQueriesContext(connection) as queries:
        result = sweep(now=when)

    assert (result.overdue, result.due_soon) == (300, 0)
    # Per goal and target status: a read and a claim per batch of 100 (3 here), the team
    # members, the notifications and the timeline rows per claim, and transaction statements.
    assert len(queries) <= 60
    overdue = Notification.objects.filter(kind=NOTIFY_OVERDUE)
    assert overdue.count() == 150 + 150 * 3
    assert overdue.filter(user=owner).values("ticket_id").distinct().count() == 150
    for user in members:
        assert set(overdue.filter(user=user).values_list("ticket_id", flat=True)) == {
            t.pk for t in unowned
        }
    missed = TicketEvent.objects.filter(kind=TicketEventKind.SLA, data__event="missed")
    assert missed.count() == 300
    assert Ticket.objects.filter(sla_first_response_status=SlaStatus.OVERDUE).count() == 300

    again = sweep(now=when)  # a restarted worker: nothing left to claim or announce
    assert (again.overdue, again.due_soon) == (0, 0)
    assert Notification.objects.count() == 150 + 150 * 3
