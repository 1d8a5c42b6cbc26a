"""The SLA timers: started, paused, resumed and completed by ticket and message events.

The rules (docs/sla.md):
- first response and time to close start when the ticket is created; the first message sent
  to the customer meets the first response, entering a closed status meets time to close (a
  reopened ticket keeps its first close);
- next response starts when a customer message arrives after an agent's reply and is met by
  the next message sent to the customer; each such exchange starts it again;
- while the ticket is in a pausing status the running timers are paused (a closed status
  pauses the response timers); paused working time is added to the due time;
- a change of a governing property re-targets the timers from their original start;
- SLAs switched off start no new timers; running ones still complete.

Each function runs inside the caller's transaction (the signal receivers in `receivers.py`),
so the timers commit or roll back with the event. Status transitions to Due soon and Overdue
are the sweep's (`sweep.py`): only the sweep claims them, so it notifies each one once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from svardesk.sla.calendar import WorkingSchedule, working_time_between
from svardesk.sla.models import GOALS, TicketSla
from svardesk.sla.policy import Config, Policy, add_time, forget_config, load_config, resolve
from svardesk.tickets.models import SlaStatus, Stage, Ticket, TicketEvent, TicketEventKind

RESPONSE_GOALS = ("first_response", "next_response")
RUNNING = (SlaStatus.ON_TRACK, SlaStatus.DUE_SOON, SlaStatus.OVERDUE)
_RANK = {SlaStatus.ON_TRACK: 0, SlaStatus.DUE_SOON: 1, SlaStatus.OVERDUE: 2}

# Timeline events (TicketEvent kind "sla", data["event"]).
STARTED, PAUSED, RESUMED = "started", "paused", "resumed"
MET, MISSED, COMPLETED_LATE = "met", "missed", "completed_late"

# The ticket columns the timers need.
TICKET_FIELDS = (
    "id",
    "source",
    "is_spam",
    "is_open",
    "stage_id",
    "team_id",
    "owner_id",
    "pipeline_id",
    "priority",
    "category",
    "custom",
    "created_at",
    *(f"sla_{goal}_{part}" for goal in GOALS for part in ("due", "status")),
)


@dataclass
class Change:
    """A ticket's timers being changed: the timeline events to record."""

    ticket: Ticket
    timers: TicketSla
    events: list[tuple[str, str]]  # (goal, event)


# --- Evaluating --------------------------------------------------------------------------------


def evaluate(
    timers: TicketSla, goal: str, calendar: WorkingSchedule, due_soon: int, now: dt.datetime
) -> tuple[dt.datetime | None, str | None]:
    """A goal's due time and status (None: the goal does not apply) as the timers stand at `now`. A paused timer has no due
    time (it moves while the pause lasts) and the status it had when paused."""
    seconds = getattr(timers, f"{goal}_goal")
    started = getattr(timers, f"{goal}_started_at")
    if seconds is None or started is None:
        return None, None
    due = add_time(started, seconds + getattr(timers, f"{goal}_paused_seconds"), calendar)
    completed = getattr(timers, f"{goal}_completed_at")
    if completed is not None:
        return due, SlaStatus.MET if completed <= due else SlaStatus.MISSED
    paused = getattr(timers, f"{goal}_paused_at")
    moment = paused or now
    if moment >= due:
        status = SlaStatus.OVERDUE
    elif moment >= due - dt.timedelta(seconds=due_soon):
        status = SlaStatus.DUE_SOON
    else:
        status = SlaStatus.ON_TRACK
    return (None if paused else due), status


def _columns(change: Change, config: Config, now: dt.datetime) -> dict[str, Any]:
    """The ticket's SLA columns after the change. A running timer's status only moves back
    here (a longer goal, a resumed pause); moving it on to Due soon or Overdue is the
    sweep's claim, which it makes within a minute and announces once."""
    calendar = config.calendar_by_id(change.timers.schedule_id)
    columns: dict[str, Any] = {}
    for goal in GOALS:
        due, status = evaluate(
            change.timers, goal, calendar, config.settings.due_soon_seconds(goal), now
        )
        stored = getattr(change.ticket, f"sla_{goal}_status")
        if status in _RANK:
            if stored in _RANK and _RANK[SlaStatus(stored)] <= _RANK[SlaStatus(status)]:
                status = stored
            elif stored not in _RANK:
                status = SlaStatus.ON_TRACK
        columns[f"sla_{goal}_due"] = due
        columns[f"sla_{goal}_status"] = status
        old = getattr(change.ticket, f"sla_{goal}_status")
        if status in (SlaStatus.MET, SlaStatus.MISSED) and old != status:
            change.events.append((goal, MET if status == SlaStatus.MET else COMPLETED_LATE))
    return columns


def _save(changes: Sequence[Change], config: Config, now: dt.datetime) -> None:
    events: list[TicketEvent] = []
    for change in changes:
        columns = _columns(change, config, now)
        current = {name: getattr(change.ticket, name) for name in columns}
        if columns != current:
            Ticket.objects.filter(pk=change.ticket.pk).update(**columns)
            for name, value in columns.items():
                setattr(change.ticket, name, value)
        change.timers.save()
        events.extend(
            TicketEvent(
                ticket_id=change.ticket.pk,
                kind=TicketEventKind.SLA,
                created_at=now,
                data={"goal": goal, "event": event},
            )
            for goal, event in change.events
        )
    if events:
        TicketEvent.objects.bulk_create(events)


def _apply_policy(timers: TicketSla, policy: Policy) -> None:
    timers.policy = policy.key
    timers.schedule_id = policy.schedule_id
    for goal in GOALS:
        setattr(timers, f"{goal}_goal", policy.goals.get(goal))


# --- Pausing and completing --------------------------------------------------------------------


def _pause(change: Change, goal: str, at: dt.datetime) -> None:
    timers = change.timers
    if getattr(timers, f"{goal}_paused_at") is None:
        setattr(timers, f"{goal}_paused_at", at)
        if getattr(timers, f"{goal}_goal") is not None:
            change.events.append((goal, PAUSED))


def _resume(change: Change, goal: str, at: dt.datetime, calendar: WorkingSchedule) -> None:
    timers = change.timers
    paused = getattr(timers, f"{goal}_paused_at")
    if paused is None:
        return
    seconds = max(0, int(working_time_between(paused, at, calendar).total_seconds()))
    setattr(timers, f"{goal}_paused_seconds", getattr(timers, f"{goal}_paused_seconds") + seconds)
    setattr(timers, f"{goal}_paused_at", None)
    if getattr(timers, f"{goal}_goal") is not None:
        change.events.append((goal, RESUMED))


def _is_running(timers: TicketSla, goal: str) -> bool:
    return (
        getattr(timers, f"{goal}_started_at") is not None
        and getattr(timers, f"{goal}_completed_at") is None
    )


def _complete(change: Change, goal: str, at: dt.datetime, calendar: WorkingSchedule) -> None:
    _resume(change, goal, at, calendar)
    if change.events and change.events[-1] == (goal, RESUMED):
        change.events.pop()  # completed while paused: the completion tells it
    setattr(change.timers, f"{goal}_completed_at", at)


def _pauses(config: Config, stage: Stage, goal: str) -> bool:
    if stage.pk in config.pausing_stage_ids:
        return True
    return stage.is_closed and goal in RESPONSE_GOALS


# --- Events ------------------------------------------------------------------------------------


def _load(ticket_ids: Iterable[int]) -> tuple[dict[int, Ticket], dict[int, TicketSla]]:
    ids = sorted(set(ticket_ids))
    timers = {
        t.ticket_id: t
        for t in TicketSla.objects.select_for_update().filter(ticket_id__in=ids).order_by("pk")
    }
    if not timers:  # tickets without timers (most, while SLAs are off): one query
        return {}, timers
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=list(timers)).only(*TICKET_FIELDS)}
    return tickets, timers


def start_timers(tickets: Sequence[Ticket], *, now: dt.datetime | None = None) -> int:
    """New tickets: first response and time to close start at creation, for those SLAs apply
    to. Returns how many got timers."""
    config = load_config()
    if not config.is_enabled:
        return 0
    now = now or timezone.now()
    chosen = [t for t in tickets if config.applies_to(t)]
    if not chosen:
        return 0
    policies = resolve(chosen, config)
    stages = {s.pk: s for s in Stage.objects.filter(pk__in={t.stage_id for t in chosen})}
    changes = []
    for ticket in chosen:
        created = ticket.created_at or now
        timers = TicketSla(
            ticket_id=ticket.pk,
            settings_version=config.settings.version,
            first_response_started_at=created,
            close_started_at=created,
        )
        _apply_policy(timers, policies[ticket.pk])
        change = Change(ticket, timers, [])
        for goal in ("first_response", "close"):
            if getattr(timers, f"{goal}_goal") is not None:
                change.events.append((goal, STARTED))
        stage = stages.get(ticket.stage_id)
        if stage is not None:
            for goal in ("first_response", "close"):
                if goal == "close" and stage.is_closed:
                    _complete(change, goal, created, config.calendar_by_id(timers.schedule_id))
                elif _pauses(config, stage, goal):
                    _pause(change, goal, created)
        changes.append(change)
    TicketSla.objects.bulk_create([c.timers for c in changes])
    if not config.has_timers:
        forget_config()  # the events of tickets without timers are no longer free
    for change in changes:
        change.timers._state.adding = False
    _save(changes, config, now)
    return len(changes)


def record_message(ticket_id: int, *, direction: str, at: dt.datetime) -> None:
    """A message sent to the customer ("outbound") meets the running response timer; a
    customer's message ("inbound") after an agent's reply starts next response."""
    tickets, all_timers = _load([ticket_id])
    ticket, timers = tickets.get(ticket_id), all_timers.get(ticket_id)
    if ticket is None or timers is None:
        return
    config = load_config()
    calendar = config.calendar_by_id(timers.schedule_id)
    change = Change(ticket, timers, [])
    if direction == "outbound":
        for goal in RESPONSE_GOALS:
            if _is_running(timers, goal):
                _complete(change, goal, at, calendar)
    elif (
        config.is_enabled
        and timers.first_response_completed_at is not None
        and not _is_running(timers, "next_response")
    ):
        timers.next_response_started_at = at
        timers.next_response_completed_at = None
        timers.next_response_paused_at = None
        timers.next_response_paused_seconds = 0
        ticket.sla_next_response_status = None  # a new exchange: its own status
        if timers.next_response_goal is not None:
            change.events.append(("next_response", STARTED))
        stage = Stage.objects.filter(pk=ticket.stage_id).first()
        if stage is not None and _pauses(config, stage, "next_response"):
            _pause(change, "next_response", at)
    else:
        return
    _save([change], config, timezone.now())


def record_stage(ticket_ids: Iterable[int], stage: Stage, *, now: dt.datetime) -> None:
    """Tickets entered `stage`: a closed one meets time to close (once); pausing statuses
    (and, for the response timers, closed ones) pause the running timers; others resume them."""
    tickets, all_timers = _load(ticket_ids)
    if not all_timers:
        return
    config = load_config()
    changes = []
    for pk, timers in all_timers.items():
        ticket = tickets[pk]
        calendar = config.calendar_by_id(timers.schedule_id)
        change = Change(ticket, timers, [])
        for goal in GOALS:
            if not _is_running(timers, goal):
                continue
            if goal == "close" and stage.is_closed:
                _complete(change, goal, now, calendar)
            elif _pauses(config, stage, goal):
                _pause(change, goal, now)
            else:
                _resume(change, goal, now, calendar)
        changes.append(change)
    _save(changes, config, now)


def retarget(ticket_ids: Iterable[int], *, now: dt.datetime) -> int:
    """Re-resolve the goals and schedule of tickets whose governing properties changed (or
    whose settings did): due times are computed again from the original starts."""
    tickets, all_timers = _load(ticket_ids)
    if not all_timers:
        return 0
    config = load_config()
    policies = resolve([tickets[pk] for pk in all_timers], config)
    changes = []
    for pk, timers in all_timers.items():
        _apply_policy(timers, policies[pk])
        timers.settings_version = config.settings.version
        changes.append(Change(tickets[pk], timers, []))
    _save(changes, config, now)
    return len(changes)


def record_update(ticket: Ticket, changed: set[str], *, now: dt.datetime) -> None:
    if "stage" in changed:
        cached = Ticket.stage.is_cached(ticket) and ticket.stage.pk == ticket.stage_id
        stage = ticket.stage if cached else Stage.objects.get(pk=ticket.stage_id)
        record_stage([ticket.pk], stage, now=now)
    config = load_config()
    if changed & config.governing_properties():
        retarget([ticket.pk], now=now)


def timers_of(ticket_id: int) -> TicketSla | None:
    return TicketSla.objects.filter(ticket_id=ticket_id).first()
