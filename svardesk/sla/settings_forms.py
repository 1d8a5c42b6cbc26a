"""Settings → SLA: reading the page's POST, checking it, and saving it.

The page is one form over several models (the settings row, one working schedule, the goals
per property value, the pausing statuses), with rows added and removed on the server ("Add
hours"), so it is parsed by hand into plain data (`SlaPage`) rather than by a Django Form.
Durations are entered as a number and a unit (minutes, hours, days) and stored in seconds.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from svardesk.sla.models import GOALS, Applies, GoalMode, PropertyGoal, Schedule, SlaSettings
from svardesk.teams.models import Team
from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyType

UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
UNIT_CHOICES = [
    ("minutes", gettext_lazy("minutes")),
    ("hours", gettext_lazy("hours")),
    ("days", gettext_lazy("days")),
]
GOAL_LABELS = {
    "first_response": gettext_lazy("Time to first response"),
    "next_response": gettext_lazy("Time to next response"),
    "close": gettext_lazy("Time to close"),
}
WEEKDAYS = [
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
]
# The built-in properties goals can be based on; any single-select custom property too.
GOAL_PROPERTIES = ("priority", "team", "source", "pipeline")
DEFAULT_HOURS = [("08:00", "17:00")]
MAX_SECONDS = 365 * 86400  # a goal of more than a year is a typing mistake
DEFAULT_KEY = "default"


@cache
def time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


@cache
def holiday_countries() -> list[tuple[str, str]]:
    """(ISO code, English name) of every country the `holidays` package knows."""
    from holidays import registry

    names = {entry[1]: _spaced(entry[0]) for entry in registry.COUNTRIES.values()}
    return sorted(names.items(), key=lambda item: item[1])


def _spaced(class_name: str) -> str:
    return "".join(f" {c}" if c.isupper() and i else c for i, c in enumerate(class_name))


# -- durations ---------------------------------------------------------------------------


@dataclass
class Duration:
    """A duration as typed: number (text) and unit; `seconds` None when empty."""

    number: str = ""
    unit: str = "hours"

    @classmethod
    def of(cls, seconds: int | None, default_unit: str = "hours") -> Duration:
        if seconds is None:
            return cls("", default_unit)
        for unit in ("days", "hours", "minutes"):
            if seconds % UNITS[unit] == 0:
                return cls(str(seconds // UNITS[unit]), unit)
        return cls(str(round(seconds / 60)), "minutes")

    def seconds(self) -> int | None:
        """The duration in seconds; None when empty. Raises ValueError with a message."""
        text = self.number.strip()
        if not text:
            return None
        if not text.isascii() or not text.isdigit():
            raise ValueError(_("Enter a whole number."))
        if self.unit not in UNITS:
            raise ValueError(_("Choose minutes, hours or days."))
        seconds = int(text) * UNITS[self.unit]
        if not 0 < seconds <= MAX_SECONDS:
            raise ValueError(_("Enter a duration between 1 minute and 365 days."))
        return seconds


def _duration(data: QueryDict, prefix: str) -> Duration:
    return Duration(data.get(f"{prefix}-value", ""), data.get(f"{prefix}-unit", "hours"))


# -- the page's data ---------------------------------------------------------------------


@dataclass
class ValueGoals:
    """One value of the goals' property: its label, on/off and three goals."""

    value: str
    label: str
    is_enabled: bool = False
    goals: dict[str, Duration] = field(default_factory=dict)


@dataclass
class SlaPage:
    """Everything the SLA settings page shows and posts."""

    applies: str
    applies_to_manual: bool
    schedule_key: str  # "default" or a team's id
    has_own_schedule: bool  # a team's own schedule (False: it follows the account default)
    timezone: str
    weekly: dict[int, list[tuple[str, str]]]
    holiday_country: str
    custom_holidays: str
    is_enabled: bool
    mode: str
    property_name: str
    goals: dict[str, Duration]
    due_soon: dict[str, Duration]
    value_goals: list[ValueGoals]
    pausing_stage_ids: set[int]
    errors: dict[str, str] = field(default_factory=dict)

    # -- reading -----------------------------------------------------------------------

    @classmethod
    def load(cls, row: SlaSettings, schedule_key: str) -> SlaPage:
        team_id = _team_id(schedule_key)
        schedule = _schedule_of(team_id)
        has_own = schedule is not None
        if schedule is None and team_id is not None:
            schedule = Schedule.objects.filter(team__isnull=True).first()  # shown as a start
        weekly = _weekly_from_model(schedule.weekly) if schedule else _default_weekly()
        page = cls(
            applies=row.applies,
            applies_to_manual=row.applies_to_manual,
            schedule_key=schedule_key,
            has_own_schedule=has_own,
            timezone=schedule.timezone if schedule else "Europe/Stockholm",
            weekly=weekly,
            holiday_country=schedule.holiday_country if schedule else "SE",
            custom_holidays="\n".join(schedule.custom_holidays or []) if schedule else "",
            is_enabled=row.is_enabled,
            mode=row.mode,
            property_name=row.property_name,
            goals={goal: Duration.of(getattr(row, f"{goal}_seconds")) for goal in GOALS},
            due_soon={goal: Duration.of(row.due_soon_seconds(goal), "minutes") for goal in GOALS},
            value_goals=[],
            pausing_stage_ids=set(row.pausing_stages.values_list("pk", flat=True)),
        )
        page.value_goals = page._stored_value_goals()
        return page

    @classmethod
    def from_post(cls, data: QueryDict) -> SlaPage:
        weekly: dict[int, list[tuple[str, str]]] = {}
        for day in range(7):
            starts = data.getlist(f"hours-{day}-start")
            ends = data.getlist(f"hours-{day}-end")
            weekly[day] = list(zip(starts, ends, strict=False))
        page = cls(
            applies=data.get("applies", Applies.WORKING_HOURS),
            applies_to_manual=data.get("applies_to_manual") == "on",
            schedule_key=data.get("schedule", DEFAULT_KEY),
            has_own_schedule=data.get("own_schedule") == "on",
            timezone=data.get("timezone", "").strip(),
            weekly=weekly,
            holiday_country=data.get("holiday_country", "").strip(),
            custom_holidays=data.get("custom_holidays", ""),
            is_enabled=data.get("is_enabled") == "on",
            mode=data.get("mode", GoalMode.ALL),
            property_name=data.get("property_name", "").strip(),
            goals={goal: _duration(data, f"goal-{goal}") for goal in GOALS},
            due_soon={goal: _duration(data, f"soon-{goal}") for goal in GOALS},
            value_goals=[],
            pausing_stage_ids={
                int(v) for v in data.getlist("pausing") if v.isascii() and v.isdigit()
            },
        )
        if _team_id(page.schedule_key) is None:
            page.schedule_key, page.has_own_schedule = DEFAULT_KEY, True
        posted_for = data.get("values_for", "")
        posted = {}
        if posted_for == page.property_name:
            for index in range(len(data.getlist("pv"))):
                value = data.getlist("pv")[index]
                posted[value] = ValueGoals(
                    value,
                    "",
                    data.get(f"pv-{index}-on") == "on",
                    {goal: _duration(data, f"pv-{index}-{goal}") for goal in GOALS},
                )
        page.value_goals = page._stored_value_goals(posted if posted_for else None)
        return page

    def _stored_value_goals(self, posted: dict[str, ValueGoals] | None = None) -> list[ValueGoals]:
        """One row per value of the chosen property: as posted, else as stored."""
        spec = goal_property_specs().get(self.property_name)
        if spec is None:
            return []
        stored = {goal.value: goal for goal in PropertyGoal.objects.filter(property_name=spec.name)}
        rows = []
        for value, label in property_values(spec):
            if posted is not None and value in posted:
                row = posted[value]
                row.label = label
            elif value in stored:
                goal = stored[value]
                row = ValueGoals(
                    value,
                    label,
                    goal.is_enabled,
                    {g: Duration.of(goal.goal_seconds()[g]) for g in GOALS},
                )
            else:
                row = ValueGoals(value, label, False, {g: Duration() for g in GOALS})
            rows.append(row)
        return rows

    # -- editing without saving ("Add hours", "Remove") ---------------------------------

    def add_hours(self, day: int) -> None:
        if day in range(7):
            ranges = self.weekly.setdefault(day, [])
            last_end = ranges[-1][1] if ranges and ranges[-1][1] else ""
            ranges.append((last_end, ""))

    def remove_hours(self, day: int, index: int) -> None:
        if day in range(7) and 0 <= index < len(self.weekly.get(day, [])):
            del self.weekly[day][index]

    # -- checking ----------------------------------------------------------------------

    def clean(self) -> CleanPage | None:
        """The checked values, or None with `errors` filled in (field name → message)."""
        errors = self.errors
        errors.clear()
        if self.applies not in Applies.values:
            errors["applies"] = _("Choose when SLAs apply.")
        if self.mode not in GoalMode.values:
            errors["mode"] = _("Choose how goals are set.")
        if self.timezone not in time_zones():
            errors["timezone"] = _("Choose a time zone from the list.")
        if self.holiday_country and self.holiday_country not in dict(holiday_countries()):
            errors["holiday_country"] = _("Choose a country from the list.")
        weekly = self._clean_weekly(errors)
        custom = self._clean_holidays(errors)
        goals = self._clean_goals(self.goals, "goal", errors)
        due_soon = self._clean_goals(self.due_soon, "soon", errors)
        for goal in GOALS:
            if due_soon[goal] is None:
                errors[f"soon-{goal}"] = _("Enter how long before the due time.")
        values: list[tuple[str, bool, dict[str, int | None]]] = []
        if self.mode == GoalMode.PROPERTY:
            if self.property_name not in goal_property_specs():
                errors["property_name"] = _("Choose a property.")
            for index, row in enumerate(self.value_goals):
                values.append(
                    (row.value, row.is_enabled, self._clean_goals(row.goals, f"pv-{index}", errors))
                )
        known_stages = set(_stage_choices_ids())
        if not self.pausing_stage_ids <= known_stages:
            errors["pausing"] = _("A chosen status no longer exists; reload the page.")
        if errors:
            return None
        return CleanPage(
            page=self,
            weekly=weekly,
            custom_holidays=custom,
            goals=goals,
            due_soon={goal: seconds or 0 for goal, seconds in due_soon.items()},
            values=values,
        )

    def _clean_weekly(self, errors: dict[str, str]) -> dict[str, list[list[str]]]:
        weekly: dict[str, list[list[str]]] = {}
        for day, ranges in self.weekly.items():
            kept: list[tuple[dt.time, dt.time, str, str]] = []
            for start_text, end_text in ranges:
                if not start_text and not end_text:
                    continue  # an empty row added and left blank
                try:
                    start = dt.time.fromisoformat(start_text)
                    end = dt.time.fromisoformat(end_text)
                except ValueError:
                    errors[f"hours-{day}"] = _("Enter times as HH:MM.")
                    continue
                end_minutes = end.hour * 60 + end.minute or 24 * 60  # 00:00 ends at midnight
                if start.hour * 60 + start.minute >= end_minutes:
                    errors[f"hours-{day}"] = _(
                        "Each range must end after it starts (00:00 as the end means midnight)."
                    )
                    continue
                end_label = "24:00" if end_minutes == 24 * 60 else end.strftime("%H:%M")
                kept.append((start, end, start.strftime("%H:%M"), end_label))
            kept.sort()
            for previous, current in pairwise(kept):
                if current[2] < previous[3]:
                    errors[f"hours-{day}"] = _("Ranges on one day must not overlap.")
            if kept:
                weekly[str(day)] = [[item[2], item[3]] for item in kept]
        if self.applies == Applies.WORKING_HOURS and not weekly and "applies" not in errors:
            errors["hours"] = _("Add working hours to at least one day, or choose 24/7.")
        return weekly

    def _clean_holidays(self, errors: dict[str, str]) -> list[str]:
        dates: set[str] = set()
        for line in self.custom_holidays.replace(",", "\n").splitlines():
            text = line.strip()
            if not text:
                continue
            try:
                dates.add(dt.date.fromisoformat(text).isoformat())
            except ValueError:
                errors["custom_holidays"] = _(
                    "“%(text)s” is not a date; write one date a line as YYYY-MM-DD."
                ) % {"text": text[:40]}
        return sorted(dates)

    @staticmethod
    def _clean_goals(
        durations: dict[str, Duration], prefix: str, errors: dict[str, str]
    ) -> dict[str, int | None]:
        cleaned: dict[str, int | None] = {}
        for goal in GOALS:
            try:
                cleaned[goal] = durations.get(goal, Duration()).seconds()
            except ValueError as exc:
                errors[f"{prefix}-{goal}"] = str(exc)
                cleaned[goal] = None
        return cleaned


@dataclass
class CleanPage:
    page: SlaPage
    weekly: dict[str, list[list[str]]]
    custom_holidays: list[str]
    goals: dict[str, int | None]
    due_soon: dict[str, int]
    values: list[tuple[str, bool, dict[str, int | None]]]

    @transaction.atomic
    def save(self, row: SlaSettings) -> None:
        """Write the settings, the edited schedule, the value goals and pausing statuses."""
        page = self.page
        row.applies = page.applies
        row.applies_to_manual = page.applies_to_manual
        row.is_enabled = page.is_enabled
        row.mode = page.mode
        if page.mode == GoalMode.PROPERTY or page.property_name in goal_property_specs():
            row.property_name = page.property_name
        for goal in GOALS:
            setattr(row, f"{goal}_seconds", self.goals[goal])
            setattr(row, f"{goal}_due_soon_seconds", self.due_soon[goal])
        row.save()
        row.pausing_stages.set(sorted(page.pausing_stage_ids))
        team_id = _team_id(page.schedule_key)
        if team_id is not None and not page.has_own_schedule:
            Schedule.objects.filter(team_id=team_id).delete()  # follows the default again
        elif team_id is None or Team.objects.filter(pk=team_id).exists():
            schedule = _schedule_of(team_id) or Schedule(team_id=team_id)
            schedule.timezone = page.timezone
            schedule.weekly = self.weekly
            schedule.holiday_country = page.holiday_country
            schedule.custom_holidays = self.custom_holidays
            schedule.save()
        if page.mode == GoalMode.PROPERTY:
            for value, is_enabled, goals in self.values:
                PropertyGoal.objects.update_or_create(
                    property_name=page.property_name,
                    value=value,
                    defaults={
                        "is_enabled": is_enabled,
                        **{f"{goal}_seconds": goals[goal] for goal in GOALS},
                    },
                )


# -- choices -----------------------------------------------------------------------------


def goal_property_specs() -> dict[str, props.PropertySpec]:
    """Properties goals can be based on: priority, team, source, pipeline, single-selects."""
    from svardesk.ticket_views.filters import filterable_specs

    specs = filterable_specs()
    chosen = {name: specs[name] for name in GOAL_PROPERTIES if name in specs}
    chosen.update(
        (name, spec)
        for name, spec in specs.items()
        if not spec.is_builtin and spec.type == PropertyType.SELECT
    )
    return chosen


def property_values(spec: props.PropertySpec) -> list[tuple[str, str]]:
    """The values of a goal property as (stored value, label), as tickets hold them."""
    from svardesk.ticket_views import labels
    from svardesk.ticket_views.filters import MY_TEAM

    return [
        (choice.value, str(choice.label))
        for choice in labels.value_choices(spec)
        if choice.value != MY_TEAM
    ]


def _stage_choices_ids() -> list[int]:
    from svardesk.tickets.models import Stage

    return list(Stage.objects.values_list("pk", flat=True))


def _schedule_of(team_id: int | None) -> Schedule | None:
    """The team's own schedule, or the account default's (team None)."""
    if team_id is None:
        return Schedule.objects.filter(team__isnull=True).first()
    return Schedule.objects.filter(team_id=team_id).first()


def _team_id(schedule_key: str) -> int | None:
    if schedule_key.isascii() and schedule_key.isdigit():
        return int(schedule_key)
    return None


def _weekly_from_model(weekly: Any) -> dict[int, list[tuple[str, str]]]:
    result: dict[int, list[tuple[str, str]]] = {day: [] for day in range(7)}
    for day, ranges in (weekly or {}).items():
        if str(day).isdigit() and int(day) in result:
            result[int(day)] = [
                (str(start), "00:00" if str(end) == "24:00" else str(end)) for start, end in ranges
            ]
    return result


def _default_weekly() -> dict[int, list[tuple[str, str]]]:
    return {day: list(DEFAULT_HOURS) if day < 5 else [] for day in range(7)}
