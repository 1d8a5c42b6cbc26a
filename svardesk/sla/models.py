"""SLA settings, working schedules, goals and each ticket's timers.

The account has one `SlaSettings` row. Goals come from, in order: the first matching enabled
`SlaRule`; else, in "by property" mode, the `PropertyGoal` for the ticket's value of the chosen
property (if that value is switched on); else, in "all tickets" mode, the settings' own goals.
A goal is a duration in seconds (working time when SLAs apply in working hours); None = none.

Each ticket's due times and statuses live on `tickets.Ticket` (`sla_<goal>_due`,
`sla_<goal>_status`) so the one filter engine sorts and filters by them through an index;
`TicketSla` keeps the timers behind them (starts, pauses, completions).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel

GOALS = ("first_response", "next_response", "close")


class Applies(models.TextChoices):
    WORKING_HOURS = "working_hours", _("Working hours")
    ALWAYS = "always", _("24/7")


class GoalMode(models.TextChoices):
    ALL = "all", _("On all tickets")
    PROPERTY = "property", _("Based on ticket property")


class Goals(models.Model):
    """Three goals, in seconds; None means no goal of that kind."""

    first_response_seconds = models.PositiveIntegerField(
        _("time to first response"), null=True, blank=True
    )
    next_response_seconds = models.PositiveIntegerField(
        _("time to next response"), null=True, blank=True
    )
    close_seconds = models.PositiveIntegerField(_("time to close"), null=True, blank=True)

    class Meta:
        abstract = True

    def goal_seconds(self) -> dict[str, int | None]:
        return {goal: getattr(self, f"{goal}_seconds") for goal in GOALS}


class SlaSettings(Goals, TimestampedModel):
    """The account's SLA settings: one row (pk 1), see `get_settings`."""

    applies = models.CharField(
        _("when SLAs apply"),
        max_length=16,
        choices=Applies.choices,
        default=Applies.WORKING_HOURS,
    )
    is_enabled = models.BooleanField(_("SLA goals for response and close times"), default=False)
    mode = models.CharField(_("goals"), max_length=10, choices=GoalMode.choices, default="all")
    # The property whose values carry goals in "by property" mode: "priority", "team",
    # "source", "pipeline" or any single-select property's name.
    property_name = models.CharField(_("property"), max_length=64, blank=True, default="")
    # How long before the due time a goal turns Due soon (wall-clock seconds).
    first_response_due_soon_seconds = models.PositiveIntegerField(default=15 * 60)
    next_response_due_soon_seconds = models.PositiveIntegerField(default=15 * 60)
    close_due_soon_seconds = models.PositiveIntegerField(default=60 * 60)
    # Ticket statuses (each in its pipeline) during which the timers are paused.
    pausing_stages = models.ManyToManyField(
        "tickets.Stage", blank=True, related_name="+", verbose_name=_("pausing statuses")
    )
    # SLAs apply to tickets from connected channels; manual, API and imported ones only if set.
    applies_to_manual = models.BooleanField(
        _("apply to manually created and imported tickets"), default=False
    )
    # Rises with every save; tickets remember the version their timers were computed with.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("SLA settings")
        verbose_name_plural = _("SLA settings")

    def __str__(self) -> str:
        return "SLA settings"

    def due_soon_seconds(self, goal: str) -> int:
        return int(getattr(self, f"{goal}_due_soon_seconds"))


class Schedule(TimestampedModel):
    """Working hours: the account default (team None) or one team's.

    `weekly` maps weekday ("0" = Monday … "6") to ranges [["08:00", "12:00"], …] in
    `timezone`; "24:00" ends a range at midnight. Holidays are not working time: the public
    holidays of `holiday_country` (the `holidays` package; "" for none) plus `custom_holidays`
    (ISO dates).
    """

    team = models.OneToOneField(
        "teams.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_schedule",
    )
    timezone = models.CharField(_("time zone"), max_length=64, default="Europe/Stockholm")
    weekly = models.JSONField(_("working hours"), default=dict, blank=True)
    holiday_country = models.CharField(
        _("public holidays of"), max_length=8, blank=True, default="SE"
    )
    custom_holidays = models.JSONField(_("custom holidays"), default=list, blank=True)

    class Meta:
        verbose_name = _("working schedule")
        verbose_name_plural = _("working schedules")
        constraints = [
            # One default schedule (team NULL) at most; a team's is unique by its one-to-one.
            models.UniqueConstraint(Coalesce("team", Value(0)), name="sla_one_schedule_per_team")
        ]

    def __str__(self) -> str:
        return f"Schedule of team {self.team_id}" if self.team_id else "Default schedule"


class PropertyGoal(Goals, TimestampedModel):
    """The goals for one value of the settings' property ("by property" mode)."""

    property_name = models.CharField(max_length=64)
    value = models.CharField(max_length=255)
    is_enabled = models.BooleanField(_("on"), default=True)

    class Meta:
        verbose_name = _("SLA goals for a property value")
        verbose_name_plural = _("SLA goals for property values")
        constraints = [
            models.UniqueConstraint(
                fields=["property_name", "value"], name="sla_property_goal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.property_name} = {self.value}"


class SlaRule(Goals, TimestampedModel):
    """A named rule: when a ticket matches all `conditions` (the views' filter spec — a list
    of {"property", "operator", "value"}), its goals and schedule apply. Rules are evaluated
    by `position`; the first match wins."""

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_enabled = models.BooleanField(_("on"), default=True)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    # None: the ticket's team schedule (or the default one).
    schedule = models.ForeignKey(
        Schedule,
        verbose_name=_("working schedule"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rules",
    )

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA rule")
        verbose_name_plural = _("SLA rules")

    def __str__(self) -> str:
        return self.name


class TicketSla(models.Model):
    """The timers behind a ticket's SLA due times and statuses.

    Per goal: when it started (the original start, kept when the goals are re-targeted), its
    goal in seconds, when it was paused (while the ticket sits in a pausing status) and the
    working time paused so far, and when it was completed. The due time is
    `add_working_time(started, goal + paused, schedule)`; it and the status are copied to the
    ticket's `sla_<goal>_due` / `sla_<goal>_status` columns.
    """

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, primary_key=True, related_name="sla"
    )
    # What governs the goals: "rule:<id>", "property:<name>=<value>", "all", or "" (none).
    policy = models.CharField(max_length=300, blank=True, default="")
    schedule = models.ForeignKey(
        Schedule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    settings_version = models.PositiveIntegerField(default=0)

    first_response_goal = models.PositiveIntegerField(null=True, blank=True)
    first_response_started_at = models.DateTimeField(null=True, blank=True)
    first_response_paused_at = models.DateTimeField(null=True, blank=True)
    first_response_paused_seconds = models.PositiveIntegerField(default=0)
    first_response_completed_at = models.DateTimeField(null=True, blank=True)

    next_response_goal = models.PositiveIntegerField(null=True, blank=True)
    next_response_started_at = models.DateTimeField(null=True, blank=True)
    next_response_paused_at = models.DateTimeField(null=True, blank=True)
    next_response_paused_seconds = models.PositiveIntegerField(default=0)
    next_response_completed_at = models.DateTimeField(null=True, blank=True)

    close_goal = models.PositiveIntegerField(null=True, blank=True)
    close_started_at = models.DateTimeField(null=True, blank=True)
    close_paused_at = models.DateTimeField(null=True, blank=True)
    close_paused_seconds = models.PositiveIntegerField(default=0)
    # The first close; a reopened ticket keeps it.
    close_completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket SLA timers")
        verbose_name_plural = _("ticket SLA timers")

    def __str__(self) -> str:
        return f"SLA of ticket {self.ticket_id}"


class Recomputation(TimestampedModel):
    """A background recomputation of open tickets' timers after the settings changed."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    settings_version = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # The last ticket id handled: a restarted job continues after it.
    last_ticket_id = models.BigIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Recomputation {self.pk} ({self.state})"


class ComplianceBucket(models.Model):
    """How many of the (non-spam) tickets' goals fell due in one UTC time bucket with one
    decided status (met, missed, overdue), per team (0: none), pipeline and priority — what
    the SLA report counts. Kept by database triggers on tickets (`sla.rollup`), so every
    change of a status, due time, team, pipeline, priority or spam flag moves its count in
    the same transaction, whichever code made it; `svardesk sla_rollup --rebuild` recounts."""

    start = models.DateTimeField()
    goal = models.CharField(max_length=16)
    status = models.CharField(max_length=10)
    team_id = models.BigIntegerField()
    pipeline_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    tickets = models.IntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.goal} {self.status} {self.start:%Y-%m-%d %H:%M}: {self.tickets}"


class ComplianceDay(ComplianceBucket):
    """Buckets of one UTC day: the body of the report's weeks."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "start", "status", "team_id", "pipeline_id", "priority"],
                name="sla_compliance_day_key",
            )
        ]


class ComplianceHour(ComplianceBucket):
    """Buckets of one UTC hour: the edges of weeks that start inside a UTC day."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "start", "status", "team_id", "pipeline_id", "priority"],
                name="sla_compliance_hour_key",
            )
        ]


class RollupRebuild(models.Model):
    """While `svardesk sla_rollup --rebuild` runs: the tickets below `below` (by id) are
    counted already, so the triggers adjust only their counts; no row = complete."""

    below = models.BigIntegerField()

    def __str__(self) -> str:
        return f"Rollup rebuild below ticket {self.below}"


class ElapsedBucket(models.Model):
    """How many (non-spam) tickets completed one goal — on time or late — with their time from
    start to completion in one logarithmic bin, per UTC time bucket of the due time, team (0:
    none), pipeline and priority: the SLA report's medians and 90th percentiles
    (`sla.durations`). Kept by database triggers on tickets and their timers (PostgreSQL
    only); team -1, pipeline -1 and priority "*" count every team, pipeline and priority."""

    start = models.DateTimeField()
    goal = models.CharField(max_length=16)
    team_id = models.BigIntegerField()
    pipeline_id = models.BigIntegerField()
    priority = models.CharField(max_length=10)
    bin = models.IntegerField()
    tickets = models.IntegerField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.goal} from {self.start:%Y-%m-%d %H:%M} bin {self.bin}: {self.tickets}"


class ElapsedWeek(ElapsedBucket):
    """Buckets of one UTC week (from Monday 00:00 UTC): the body of the report's weeks."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                # Week, then bin first: the report reads a goal's weeks in (start, bin) order
                # from this index alone and sums them as they come, with no sort.
                fields=["goal", "start", "bin", "team_id", "pipeline_id", "priority"],
                name="sla_elapsed_week_key",
            )
        ]
        indexes = [
            # The rows over every team, pipeline and priority (team -1): an unfiltered report.
            models.Index(
                fields=["goal", "start", "bin"],
                include=["tickets"],
                condition=models.Q(team_id=-1),
                name="sla_elapsed_week_all",
            )
        ]


class ElapsedHour(ElapsedBucket):
    """Buckets of one UTC hour, only for the hours where some time zone's week begins (Sunday
    10:00 to Monday 14:00 UTC): the report moves the goals between a local week start and
    the UTC Monday midnight from here."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "start", "bin", "team_id", "pipeline_id", "priority"],
                name="sla_elapsed_hour_key",
            )
        ]
        indexes = [
            models.Index(
                fields=["goal", "start", "bin"],
                include=["tickets"],
                condition=models.Q(team_id=-1),
                name="sla_elapsed_hour_all",
            )
        ]
