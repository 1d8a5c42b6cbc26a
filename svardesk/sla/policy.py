"""Which goals and which working schedule govern a ticket (see docs/sla.md).

Everything here reads the SLA configuration once per process for a few seconds
(`core.local_cache`, cleared when an SLA row is saved), so a ticket event costs no extra
query for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.utils import timezone

from svardesk.core.local_cache import cached, forget
from svardesk.sla.calendar import WorkingSchedule, holiday_dates
from svardesk.sla.models import (
    GOALS,
    Applies,
    GoalMode,
    PropertyGoal,
    Schedule,
    SlaRule,
    SlaSettings,
    TicketSla,
)
from svardesk.tickets import properties as props
from svardesk.tickets.models import Source, Ticket

# Tickets that come from a connected channel; the others only when the settings say so.
CHANNEL_SOURCES = frozenset({Source.EMAIL, Source.CHAT, Source.FORM, Source.CALL, Source.MESSENGER})
# Working hours when no schedule has been saved: Monday to Friday 08:00-17:00.
DEFAULT_WEEKLY: dict[str, list[list[str]]] = {str(day): [["08:00", "17:00"]] for day in range(5)}
_CACHE_KEY = "sla:config"


def get_settings() -> SlaSettings:
    """The account's SLA settings (created with SLAs off the first time)."""
    row, _created = SlaSettings.objects.get_or_create(pk=1)
    return row


def read_settings() -> SlaSettings:
    """The settings for reading: the saved row, or the defaults (SLAs off) unsaved."""
    return SlaSettings.objects.filter(pk=1).first() or SlaSettings(pk=1)


def forget_config(*_args: object, **_kwargs: object) -> None:
    """Signal receiver: an SLA row changed, read the configuration again."""
    forget(_CACHE_KEY)


@dataclass(frozen=True)
class Policy:
    """What governs one ticket's timers: a key naming it, the goal per timer in seconds
    (None: no goal), and the working schedule."""

    key: str
    goals: dict[str, int | None]
    schedule_id: int | None
    schedule: WorkingSchedule

    def due(self, goal: str, started: dt.datetime, paused_seconds: int) -> dt.datetime | None:
        seconds = self.goals.get(goal)
        if seconds is None:
            return None
        return add_time(started, seconds + paused_seconds, self.schedule)


NO_GOALS: dict[str, int | None] = dict.fromkeys(GOALS)


def add_time(start: dt.datetime, seconds: int, schedule: WorkingSchedule) -> dt.datetime:
    from svardesk.sla.calendar import add_working_time

    return add_working_time(start, dt.timedelta(seconds=seconds), schedule)


@dataclass
class Config:
    """The SLA configuration as one snapshot."""

    settings: SlaSettings
    pausing_stage_ids: frozenset[int]
    rules: list[SlaRule]
    property_goals: dict[str, PropertyGoal]
    schedules: dict[int | None, Schedule]  # by team id; None: the account default
    schedules_by_id: dict[int, Schedule] = field(default_factory=dict)
    calendars: dict[int | None, WorkingSchedule] = field(default_factory=dict)
    has_timers: bool = True

    @property
    def is_idle(self) -> bool:
        """Nothing to do for any ticket event: SLAs off and no timer anywhere."""
        return not self.settings.is_enabled and not self.has_timers

    @property
    def is_enabled(self) -> bool:
        return bool(self.settings.is_enabled)

    def applies_to(self, ticket: Ticket) -> bool:
        """Whether new timers start for this ticket."""
        if not self.settings.is_enabled or ticket.is_spam:
            return False
        return ticket.source in CHANNEL_SOURCES or self.settings.applies_to_manual

    def governing_properties(self) -> set[str]:
        """The properties whose change re-targets a ticket's timers."""
        names = {"team"}  # the team's schedule
        if self.settings.mode == GoalMode.PROPERTY and self.settings.property_name:
            names.add(self.settings.property_name)
        for rule in self.rules:
            for condition in rule.conditions or []:
                if isinstance(condition, dict) and isinstance(condition.get("property"), str):
                    names.add(condition["property"])
        return names

    def calendar(self, schedule: Schedule | None) -> WorkingSchedule:
        if self.settings.applies == Applies.ALWAYS:
            return WorkingSchedule.always()
        key = schedule.pk if schedule is not None else None
        if key not in self.calendars:
            self.calendars[key] = _calendar_of(schedule)
        return self.calendars[key]

    def calendar_by_id(self, schedule_id: int | None) -> WorkingSchedule:
        """The calendar a ticket's timers were given (its schedule may be gone since)."""
        schedule = self.schedules_by_id.get(schedule_id) if schedule_id is not None else None
        if schedule is None and schedule_id is not None:
            schedule = Schedule.objects.filter(pk=schedule_id).first()  # a rule's own
        return self.calendar(schedule if schedule is not None else self.schedules.get(None))

    def schedule_for(self, ticket: Ticket, rule: SlaRule | None) -> Schedule | None:
        if rule is not None and rule.schedule_id is not None:
            return rule.schedule
        if ticket.team_id is not None and ticket.team_id in self.schedules:
            return self.schedules[ticket.team_id]
        return self.schedules.get(None)


def load_config() -> Config:
    return cached(_CACHE_KEY, _load_config)


def _load_config() -> Config:
    row = read_settings()
    if not row.is_enabled:
        # SLAs off: timers already running still complete, nothing new starts; when there
        # are none at all (SLAs never used), the ticket and message events cost nothing.
        return Config(
            settings=row,
            pausing_stage_ids=frozenset(),
            rules=[],
            property_goals={},
            schedules={},
            has_timers=TicketSla.objects.exists(),
        )
    schedules = {s.team_id: s for s in Schedule.objects.all()}
    rules = [
        rule
        for rule in SlaRule.objects.filter(is_enabled=True).select_related("schedule")
        if rule.conditions
    ]
    goals = {}
    if row.mode == GoalMode.PROPERTY and row.property_name:
        goals = {
            g.value: g
            for g in PropertyGoal.objects.filter(property_name=row.property_name, is_enabled=True)
        }
    return Config(
        settings=row,
        pausing_stage_ids=frozenset(
            row.pausing_stages.values_list("pk", flat=True)
            if row.pk and not row._state.adding
            else ()
        ),
        rules=rules,
        property_goals=goals,
        schedules=schedules,
        schedules_by_id={s.pk: s for s in schedules.values()},
    )


def _calendar_of(schedule: Schedule | None) -> WorkingSchedule:
    tz = schedule.timezone if schedule is not None else django_settings.TIME_ZONE
    weekly_raw = schedule.weekly if schedule is not None else DEFAULT_WEEKLY
    country = schedule.holiday_country if schedule is not None else "SE"
    weekly: dict[int, list[tuple[dt.time, dt.time]]] = {}
    for day, ranges in (weekly_raw or {}).items():
        weekly[int(day)] = [(_parse_time(start), _parse_time(end)) for start, end in ranges]
    year = timezone.now().year
    days: set[dt.date] = set(holiday_dates(country or None, range(year - 2, year + 3)))
    if schedule is not None:
        days.update(dt.date.fromisoformat(d) for d in schedule.custom_holidays or [])
    try:
        return WorkingSchedule(tz, weekly, days)
    except (ValueError, KeyError):  # no working range, or an unknown zone: 24/7
        return WorkingSchedule.always()


def _parse_time(text: str) -> dt.time:
    if text in ("24:00", "00:00"):
        return dt.time(0, 0)
    return dt.time.fromisoformat(text)


def resolve(tickets: Sequence[Ticket], config: Config) -> dict[int, Policy]:
    """The policy of each ticket: the first enabled rule it matches, else the goals of its
    property value (by-property mode, value switched on), else the goals for all tickets
    (all-tickets mode), else none. One query per rule for the whole batch."""
    from svardesk.ticket_views.filters import FilterError, compile_filters, filters_from_data

    remaining = {t.pk: t for t in tickets}
    policies: dict[int, Policy] = {}
    for rule in config.rules:
        if not remaining:
            break
        try:
            condition = compile_filters(filters_from_data(rule.conditions), viewer=None)
        except FilterError:
            continue  # a rule naming a deleted property matches nothing
        matched = Ticket.objects.filter(pk__in=list(remaining)).filter(condition)
        for pk in matched.values_list("pk", flat=True):
            ticket = remaining.pop(pk)
            schedule = config.schedule_for(ticket, rule)
            policies[pk] = Policy(
                f"rule:{rule.pk}",
                rule.goal_seconds(),
                schedule.pk if schedule else None,
                config.calendar(schedule),
            )
    row = config.settings
    for pk, ticket in remaining.items():
        schedule = config.schedule_for(ticket, None)
        calendar = config.calendar(schedule)
        schedule_id = schedule.pk if schedule else None
        if row.mode == GoalMode.PROPERTY:
            value = _value_of(ticket, row.property_name)
            goal = config.property_goals.get(value) if value else None
            if goal is None:
                policies[pk] = Policy("", NO_GOALS, schedule_id, calendar)
            else:
                key = f"property:{row.property_name}={value}"[:300]
                policies[pk] = Policy(key, goal.goal_seconds(), schedule_id, calendar)
        else:
            policies[pk] = Policy("all", row.goal_seconds(), schedule_id, calendar)
    return policies


def _value_of(ticket: Ticket, name: str) -> str:
    spec = props.specs_for_names([name]).get(name)
    if spec is None:
        return ""
    value: Any = props.plain_value(ticket, spec)
    if value in (None, "", []):
        return ""
    return str(value)
