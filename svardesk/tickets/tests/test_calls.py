"""Logging a call on a ticket (tickets/calls.py): validation, the timeline row it writes, the
ticket's last activity, scope and the after-commit announcement."""

import datetime as dt

import pytest
from django.utils import translation

from svardesk.core.exceptions import NotFoundError
from svardesk.tickets.calls import (
    clean_notes,
    format_duration,
    log_call,
    parse_duration,
    read_call,
)
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket
from svardesk.tickets.signals import ticket_changed
from tests.factories import default_pipeline

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 14, 0, tzinfo=dt.UTC)


def _ticket(name="Printer", **kwargs):
    return create_ticket(
        actor=None, name=name, pipeline=default_pipeline(), now=NOW - dt.timedelta(days=2), **kwargs
    )


def _call(ticket, actor, **overrides):
    values = {
        "direction": "outbound",
        "outcome": "connected",
        "duration_seconds": 245,
        "notes": "Walked her through the reset.",
        "called_at": NOW - dt.timedelta(minutes=30),
        "now": NOW,
    }
    values.update(overrides)
    return log_call(ticket, actor=actor, **values)


@pytest.fixture
def heard():
    calls = []

    def on_changed(sender, **kwargs):
        calls.append(kwargs)

    ticket_changed.connect(on_changed, weak=False)
    yield calls
    ticket_changed.disconnect(on_changed)


def test_a_logged_call_is_one_timeline_row_at_the_time_of_the_call(
    agent, heard, django_capture_on_commit_callbacks
):
    ticket = _ticket()
    before = list(TicketEvent.objects.filter(ticket=ticket).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = _call(ticket, agent, notes="Line one\r\nLine two\x00")

    assert list(TicketEvent.objects.exclude(pk__in=before).values_list("pk", flat=True)) == [
        event.pk
    ]
    event.refresh_from_db()
    assert event.kind == TicketEventKind.CALL
    assert event.actor == agent
    assert event.created_at == NOW - dt.timedelta(minutes=30)
    assert event.data == {
        "direction": "outbound",
        "outcome": "connected",
        "duration_seconds": 245,
        "notes": "Line one\nLine two",
        "called_at": "2026-03-10T13:30:00+00:00",
    }
    assert len(callbacks) == 1
    assert heard == [{"signal": ticket_changed, "ticket_id": ticket.pk, "actor_id": agent.pk}]


def test_the_call_moves_the_last_activity_forward_but_never_back(agent):
    ticket = _ticket()
    old_version = ticket.version

    _call(ticket, agent, called_at=NOW - dt.timedelta(minutes=5))
    ticket.refresh_from_db()
    assert ticket.last_activity_at == NOW - dt.timedelta(minutes=5)
    assert ticket.updated_at == NOW
    assert ticket.version == old_version  # no property changed: open edits stay valid

    _call(ticket, agent, called_at=NOW - dt.timedelta(days=30))
    ticket.refresh_from_db()
    assert ticket.last_activity_at == NOW - dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param({"direction": "sideways"}, "direction", id="direction-unknown"),
        pytest.param({"direction": ""}, "direction", id="direction-missing"),
        pytest.param({"outcome": "Connected"}, "outcome", id="outcome-label-not-key"),
        pytest.param({"outcome": ""}, "outcome", id="outcome-missing"),
        pytest.param({"duration_seconds": -1}, "duration", id="duration-negative"),
        pytest.param({"duration_seconds": 24 * 3600 + 1}, "duration", id="duration-over-a-day"),
        pytest.param({"duration_seconds": "60"}, "duration", id="duration-not-a-number"),
        pytest.param({"notes": "x" * 5001}, "notes", id="notes-too-long"),
        pytest.param({"called_at": NOW + dt.timedelta(minutes=10)}, "called_at", id="future"),
        pytest.param({"called_at": NOW - dt.timedelta(days=400)}, "called_at", id="too-old"),
        pytest.param({"called_at": dt.datetime(2026, 3, 10, 13)}, "called_at", id="naive"),  # noqa: DTZ001
        pytest.param({"called_at": None}, "called_at", id="missing-time"),
    ],
)
def test_an_invalid_call_says_which_field_and_writes_nothing(
    agent, heard, django_capture_on_commit_callbacks, overrides, field
):
    ticket = _ticket()
    events_before = TicketEvent.objects.count()

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(TicketValidationError) as caught,
    ):
        _call(ticket, agent, **overrides)

    assert list(caught.value.errors) == [field]
    assert TicketEvent.objects.count() == events_before
    assert Ticket.objects.get(pk=ticket.pk).last_activity_at == ticket.last_activity_at
    assert callbacks == []
    assert heard == []


def test_the_limits_themselves_are_accepted(agent):
    ticket = _ticket()

    _call(ticket, agent, duration_seconds=0, notes="x" * 5000, called_at=NOW)
    _call(ticket, agent, duration_seconds=24 * 3600, called_at=NOW + dt.timedelta(minutes=1))

    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.CALL).count() == 2


def test_all_errors_are_reported_together(agent):
    ticket = _ticket()

    with pytest.raises(TicketValidationError) as caught:
        _call(ticket, agent, direction="x", outcome="y", duration_seconds=-5, called_at=None)

    assert set(caught.value.errors) == {"direction", "outcome", "duration", "called_at"}


def test_an_own_tickets_agent_cannot_log_a_call_on_someone_elses_ticket(own_agent, agent):
    ticket = _ticket(owner=agent)

    with pytest.raises(NotFoundError):
        _call(ticket, own_agent)

    assert not TicketEvent.objects.filter(kind=TicketEventKind.CALL).exists()


def test_an_own_tickets_agent_logs_calls_on_their_own_ticket(own_agent):
    ticket = _ticket(owner=own_agent)

    event = _call(ticket, own_agent)

    assert event.ticket_id == ticket.pk


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("", 0, id="empty"),
        pytest.param("12", 720, id="minutes"),
        pytest.param(" 4:05 ", 245, id="minutes-seconds"),
        pytest.param("0:59", 59, id="seconds-only"),
        pytest.param("90:00", 5400, id="long-minutes"),
        pytest.param("1:02:03", 3723, id="hours"),
    ],
)
def test_durations_are_read_as_agents_type_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("4:5", id="one-digit-seconds"),
        pytest.param("4:60", id="sixty-seconds"),
        pytest.param("1:60:00", id="sixty-minutes-after-hours"),
        pytest.param("4.5", id="decimal"),
        pytest.param("-3", id="negative"),
        pytest.param("٣", id="arabic-digit"),
        pytest.param("five", id="words"),
    ],
)
def test_other_durations_are_refused_with_a_hint(text):
    with pytest.raises(ValueError, match="minutes"):
        parse_duration(text)


def test_durations_read_back_as_m_ss_and_h_mm_ss():
    assert format_duration(245) == "4:05"
    assert format_duration(59) == "0:59"
    assert format_duration(3723) == "1:02:03"


def test_notes_keep_line_breaks_and_lose_control_characters():
    assert clean_notes("  a\r\nb\rc\x07\td ") == "a\nb\nc\td"


def test_a_call_reads_as_labels_not_keys():
    data = {"direction": "inbound", "outcome": "left_voicemail", "duration_seconds": 65}

    with translation.override("sv"):
        swedish = read_call(data)
    english = read_call(data)

    assert english.outcome == "Left voicemail"
    assert english.duration == "1:05"
    # Labels follow the catalogue (svardesk/locale); the duration reads the same in both.
    assert swedish.duration == english.duration
    assert read_call({"outcome": "gone_key"}).outcome == "gone_key"
    assert read_call({"duration_seconds": 0}).duration == ""
