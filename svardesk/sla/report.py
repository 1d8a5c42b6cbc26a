"""The SLA report: goal compliance per week and per team, median and 90th-percentile times
to first response and to close, and the tickets that missed most recently — for the tickets
the viewer may see, filtered by period, team, pipeline and priority; the same numbers as CSV.

Counting (docs/sla.md, "SLA report"): a goal belongs to the week its due time fell in (weeks
start on Monday, in the viewer's time zone). A goal is *decided* once it is Completed on time
(met), Completed late, or Overdue (still open past its due time); compliance is met / decided.
Goals still On track or Due soon are not counted yet. Times are wall-clock from the timer's
start to its completion, for completed goals.

Every query starts from the `(sla_<goal>_status, sla_<goal>_due)` index on tickets, so it
reads only the decided goals of the period — not every ticket.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import functools
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncHour, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.core.parsing import parse_ascii_int
from svardesk.sla import durations, rollup
from svardesk.sla.models import ComplianceDay, ComplianceHour, ElapsedHour, ElapsedWeek
from svardesk.sla.settings_forms import GOAL_LABELS
from svardesk.teams.models import Team
from svardesk.tickets.models import SLA_GOALS, Priority, SlaStatus, Ticket
from svardesk.tickets.queries import ticket_scope

PERIODS = {"4": 4, "12": 12, "26": 26, "52": 52}
DEFAULT_PERIOD = "12"
DECIDED = (SlaStatus.MET, SlaStatus.MISSED, SlaStatus.OVERDUE)
COMPLETED = (SlaStatus.MET, SlaStatus.MISSED)
MISSES = (SlaStatus.MISSED, SlaStatus.OVERDUE)
TIMED_GOALS = ("first_response", "close")  # the goals whose times are plotted
RECENT_MISSES = 10


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont over an interval (continuous, interpolated)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class ReportFilters:
    period: str
    team_id: int | None
    pipeline_id: int | None
    priority: str

    @classmethod
    def parse(cls, data: Any) -> ReportFilters:
        period = data.get("period", DEFAULT_PERIOD)
        priority = data.get("priority", "")
        return cls(
            period=period if period in PERIODS else DEFAULT_PERIOD,
            team_id=parse_ascii_int(data.get("team")),
            pipeline_id=parse_ascii_int(data.get("pipeline")),
            priority=priority if priority in Priority.values else "",
        )

    def narrow(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """Tickets, or rollup rows (which carry the same columns), of the team, pipeline and
        priority asked for."""
        if self.team_id is not None:
            rows = rows.filter(team_id=self.team_id)
        if self.pipeline_id is not None:
            rows = rows.filter(pipeline_id=self.pipeline_id)
        if self.priority:
            rows = rows.filter(priority=self.priority)
        return rows

    def bounds(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        """From the Monday starting the first week of the period to the end of this week."""
        local = timezone.localtime(now)
        monday = (local - dt.timedelta(days=local.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        start = monday - dt.timedelta(weeks=PERIODS[self.period] - 1)
        return _midnight(start), _midnight(monday + dt.timedelta(weeks=1))


def _midnight(moment: dt.datetime) -> dt.datetime:
    # Re-localised: a week that crosses a DST change starts at local midnight, not an hour off.
    naive = moment.replace(tzinfo=None)
    return timezone.make_aware(naive, timezone.get_current_timezone())


def _goal_tickets(
    scope: Q,
    filters: ReportFilters,
    goal: str,
    statuses: tuple[str, ...],
    start: dt.datetime,
    end: dt.datetime,
) -> QuerySet[Ticket]:
    condition = Q(
        **{
            f"sla_{goal}_status__in": statuses,
            f"sla_{goal}_due__gte": start,
            f"sla_{goal}_due__lt": end,
        }
    )
    return filters.narrow(Ticket.objects.filter(condition, scope, is_spam=False))


@dataclass
class Report:
    weeks: list[dt.date]
    # goal → week → (met, decided)
    by_week: dict[str, dict[dt.date, tuple[int, int]]]
    # goal → team id (None: no team) → (met, decided)
    by_team: dict[str, dict[int | None, tuple[int, int]]]
    # goal → week → (median, p90) in seconds (None without completed goals)
    times: dict[str, dict[dt.date, tuple[float | None, float | None]]]
    overall_times: dict[str, tuple[float | None, float | None]]
    recent_misses: list[dict[str, Any]]
    team_names: dict[int | None, str]


class _Tally:
    """Met and decided goals per week and per team over the period's weeks (index 0 … n-1;
    anything else is outside the period and ignored)."""

    def __init__(self, weeks: list[dt.date]) -> None:
        self.weeks = weeks
        self.weekly: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
        self.teams: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, week: int | None, team_id: int | None, status: str, count: int) -> None:
        if week is None or not 0 <= week < len(self.weeks) or not count:
            return
        met = count if status == SlaStatus.MET else 0
        for bucket in (self.weekly[self.weeks[week]], self.teams[team_id]):
            bucket[0] += met
            bucket[1] += count

    def result(
        self,
    ) -> tuple[dict[dt.date, tuple[int, int]], dict[int | None, tuple[int, int]]]:
        weekly = {day: (v[0], v[1]) for day, v in self.weekly.items() if v[1]}
        teams = {team: (v[0], v[1]) for team, v in self.teams.items() if v[1]}
        return weekly, teams


def build_report(
    viewer: Any, filters: ReportFilters, *, now: dt.datetime | None = None, exact: bool = False
) -> Report:
    """The report for `viewer`. Compliance comes from the rollup (`sla.rollup`) and, on
    PostgreSQL, times from the histogram (`sla.durations`, within 2 %) for viewers who see
    all tickets or their teams' (plus, counted from the tickets, their own tickets of other
    teams); from the tickets for "own tickets" viewers, whose slice is small, or with `exact`
    (the tests' and the benchmark's reference: exact numbers, slower)."""
    now = now or timezone.now()
    start, end = filters.bounds(now)
    tz = timezone.get_current_timezone()
    weeks = [
        (timezone.localtime(start, tz) + dt.timedelta(weeks=i)).date()
        for i in range(PERIODS[filters.period])
    ]
    scope = ticket_scope(viewer)
    scope_q = scope.as_q()
    by_week: dict[str, dict[dt.date, tuple[int, int]]] = {}
    by_team: dict[str, dict[int | None, tuple[int, int]]] = {}
    use_rollup = not exact and (scope.sees_all or bool(scope.team_ids))
    boundaries = [_midnight(dt.datetime.combine(week, dt.time())) for week in weeks] + [end]
    # The rollups cover a team agent's teams; their own tickets of other teams (or of none)
    # are counted from the tickets.
    teams = None if scope.sees_all else list(scope.team_ids)
    others = None if teams is None else Q(owner_id=scope.user_id) & ~Q(team_id__in=teams)
    for goal in SLA_GOALS:
        tally = _Tally(weeks)
        if use_rollup:
            _rollup_counts(tally, goal, filters, boundaries, teams)
            if others is not None:
                _exact_counts(tally, _goal_tickets(others, filters, goal, DECIDED, start, end),
                              goal, tz)  # fmt: skip
        else:
            _exact_counts(
                tally, _goal_tickets(scope_q, filters, goal, DECIDED, start, end), goal, tz
            )
        by_week[goal], by_team[goal] = tally.result()
    times: dict[str, dict[dt.date, tuple[float | None, float | None]]] = {}
    overall: dict[str, tuple[float | None, float | None]] = {}
    for goal in TIMED_GOALS:
        if use_rollup and durations.supported():
            times[goal], overall[goal] = _histogram_times(
                goal, filters, weeks, boundaries, teams, others
            )
        else:
            times[goal], overall[goal] = _times(scope_q, filters, goal, start, end, tz, exact=exact)
    team_ids = {team for goal in by_team.values() for team in goal}
    names: dict[int | None, str] = {
        team.pk: team.name for team in Team.objects.filter(pk__in=[t for t in team_ids if t])
    }
    names[None] = _("No team")
    return Report(
        weeks=weeks,
        by_week=by_week,
        by_team=by_team,
        times=times,
        overall_times=overall,
        recent_misses=_recent_misses(scope_q, filters, start, end),
        team_names=names,
    )


def _exact_counts(tally: _Tally, tickets: QuerySet[Ticket], goal: str, tz: dt.tzinfo) -> None:
    """Counted from the tickets' `(status, due)` index, by week in the viewer's time zone."""
    index = {week: i for i, week in enumerate(tally.weeks)}
    rows = (
        tickets.annotate(week=TruncWeek(f"sla_{goal}_due", tzinfo=tz))
        .values_list("week", "team_id", f"sla_{goal}_status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for week, team_id, status, count in rows:
        tally.add(index.get(_as_date(week, tz)), team_id, status, count)


_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)


def _utc_floor(moment: dt.datetime, unit: dt.timedelta) -> dt.datetime:
    utc = moment.astimezone(dt.UTC)
    if unit == _DAY:
        return utc.replace(hour=0, minute=0, second=0, microsecond=0)
    return utc.replace(minute=0, second=0, microsecond=0)


def _week_finder(boundaries: list[dt.datetime]) -> Callable[[dt.datetime], int | None]:
    """The period's week (0 … n-1) holding a moment, or None outside it; each moment placed
    once (thousands of rows share a few hundred distinct days and hours)."""

    @functools.cache
    def week_of(moment: dt.datetime) -> int | None:
        found = bisect.bisect_right(boundaries, moment) - 1
        return found if 0 <= found < len(boundaries) - 1 else None

    return week_of


def _whole_hours(low: dt.datetime, high: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The first and last whole UTC hour boundaries within [low, high) (equal or crossed
    when no whole hour fits)."""
    floor = _utc_floor(low, _HOUR)
    return (floor if floor == low else floor + _HOUR), _utc_floor(high, _HOUR)


def _rollup_counts(
    tally: _Tally,
    goal: str,
    filters: ReportFilters,
    boundaries: list[dt.datetime],
    teams: list[int] | None,
) -> None:
    """Compliance from the rollup, exact for any time zone.

    Each UTC day is counted in the week holding its midday. A week boundary (local midnight
    on Monday) inside a UTC day leaves the part of that day on the other side of the boundary
    in the wrong week: that part (under 12 hours) is moved to its week from the hourly
    buckets, and, where the boundary is not on a UTC hour (zones 30 or 45 minutes off UTC),
    the rest of its hour from the tickets themselves."""

    week_of = _week_finder(boundaries)

    @functools.cache
    def counted_week(hour: dt.datetime) -> int | None:
        return week_of(_utc_floor(hour, _DAY) + _DAY / 2)

    def restrict(rows: QuerySet[Any]) -> QuerySet[Any]:
        rows = rows.filter(goal=goal)
        if teams is not None:
            rows = rows.filter(team_id__in=teams)
        if filters.pipeline_id is None and not filters.priority:
            # The rows over every pipeline and priority of each team.
            return filters.narrow(rows.filter(pipeline_id=rollup.ALL_PIPELINES))
        return filters.narrow(rows.filter(pipeline_id__gte=0))

    first, last = _utc_floor(boundaries[0], _DAY), boundaries[-1]
    # Each day goes to the local week holding its midday, grouped by the database.
    midday = ExpressionWrapper(F("start") + _DAY / 2, output_field=DateTimeField())
    tz = timezone.get_current_timezone()
    index = {week: i for i, week in enumerate(tally.weeks)}
    days = (
        restrict(ComplianceDay.objects.filter(start__gte=first, start__lt=last))
        .annotate(week=TruncWeek(midday, tzinfo=tz))
        .values_list("week", "team_id", "status")
        .annotate(n=Sum("tickets"))
        .order_by()
    )
    week_index: dict[Any, int | None] = {}
    for week, team_id, status, count in days:
        if week not in week_index:
            week_index[week] = index.get(_as_date(week, tz))
        tally.add(week_index[week], team_id or None, status, count)
    # The parts of days on the wrong side of a boundary: [from, to) with their true week.
    pieces: list[tuple[dt.datetime, dt.datetime]] = []
    for boundary in boundaries:
        day = _utc_floor(boundary, _DAY)
        if boundary == day:
            continue
        pieces.append((day, boundary) if boundary <= day + _DAY / 2 else (boundary, day + _DAY))
    if not pieces:
        return
    hours: list[dt.datetime] = []
    partial = Q()
    partial_weeks: dict[dt.datetime, int | None] = {}  # hour → its part's true week
    for low, high in pieces:
        if week_of(_utc_floor(low, _DAY) + _DAY / 2) == week_of(low):
            continue  # the day's midday is in the same week (the period's own edges)
        whole_low, whole_high = _whole_hours(low, high)
        hour = whole_low
        while hour < whole_high:
            hours.append(hour)
            hour += _HOUR
        if low < whole_low:
            partial |= Q(
                **{f"sla_{goal}_due__gte": low, f"sla_{goal}_due__lt": min(whole_low, high)}
            )
            partial_weeks[_utc_floor(low, _HOUR)] = week_of(low)
        if whole_low <= whole_high < high:
            partial |= Q(**{f"sla_{goal}_due__gte": whole_high, f"sla_{goal}_due__lt": high})
            partial_weeks[whole_high] = week_of(whole_high)

    def move(
        hour: dt.datetime, team_id: int | None, status: str, count: int, true: int | None
    ) -> None:
        counted = counted_week(hour)
        if counted != true:
            tally.add(true, team_id or None, status, count)
            tally.add(counted, team_id or None, status, -count)

    if hours:
        rows = (
            restrict(ComplianceHour.objects.filter(start__in=hours))
            .values_list("start", "team_id", "status")
            .annotate(n=Sum("tickets"))
            .order_by()
        )
        for hour, team_id, status, count in rows:
            move(hour, team_id, status, count, week_of(hour))
    if partial:
        # Zones 30 or 45 minutes off UTC: the parts of hours, from the tickets, in one query.
        scope = Q(team_id__in=teams) if teams is not None else Q()
        rows = (
            _goal_tickets(scope, filters, goal, DECIDED, first, last + _DAY)
            .filter(partial)
            .annotate(hour=TruncHour(f"sla_{goal}_due", tzinfo=dt.UTC))
            .values_list("hour", "team_id", f"sla_{goal}_status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for hour, team_id, status, count in rows:
            start = _utc_floor(hour, _HOUR)
            move(start, team_id, status, count, partial_weeks[start])


def _utc_monday(moment: dt.datetime) -> dt.datetime:
    utc = _utc_floor(moment, _DAY)
    return utc - dt.timedelta(days=utc.weekday())


_HALF_WEEK = dt.timedelta(days=3, hours=12)


def _histogram_times(
    goal: str,
    filters: ReportFilters,
    weeks: list[dt.date],
    boundaries: list[dt.datetime],
    teams: list[int] | None,
    others: Q | None,
) -> tuple[dict[dt.date, tuple[float | None, float | None]], tuple[float | None, float | None]]:
    """Median and 90th percentile per week and over the period, from the histogram of
    completed goals (`sla.durations`), within 2 % of percentile_cont.

    The histogram counts UTC weeks; each goes to the local week holding its middle. Where a
    local week starts off a UTC Monday midnight, the piece between the two (under 14 hours)
    is moved to its true week, binned from the tickets themselves by the same expression;
    `others` (a team agent's own tickets of other teams) are binned from the tickets too."""

    week_of = _week_finder(boundaries)
    histograms: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    everything = (
        teams is None
        and filters.team_id is None
        and filters.pipeline_id is None
        and not filters.priority
    )

    def restrict(rows: QuerySet[Any]) -> QuerySet[Any]:
        # Unfiltered, the rows over every team, pipeline and priority; else the detailed ones.
        if everything:
            return rows.filter(team_id=durations.ALL_TEAMS)
        rows = rows.filter(team_id__gte=0)
        if teams is not None:
            rows = rows.filter(team_id__in=teams)
        return filters.narrow(rows)

    rows = restrict(
        ElapsedWeek.objects.filter(
            goal=goal, start__gte=_utc_monday(boundaries[0]), start__lt=boundaries[-1]
        )
    )
    # Each UTC week in the local week holding its middle.
    for bucket, bin_number, count in _summed(rows, boundaries, shift="3 days 12 hours"):
        if 1 <= bucket < len(boundaries):
            histograms[bucket - 1][bin_number] += count

    def move(counted: int | None, true: int | None, bin_number: int, count: int) -> None:
        if counted is not None:
            histograms[counted][bin_number] -= count
        if true is not None:
            histograms[true][bin_number] += count

    # The pieces between each local week start and its nearest UTC Monday midnight: their
    # whole UTC hours from the hourly histogram, the rest of an hour (zones 30 or 45
    # minutes off UTC) from the tickets.
    hours: list[tuple[dt.datetime, dt.datetime, int | None, int | None]] = []
    pieces: list[tuple[dt.datetime, dt.datetime, int | None, int | None]] = []
    for boundary in boundaries:
        monday = _utc_monday(boundary)
        nearest = monday if boundary - monday <= _HALF_WEEK else monday + dt.timedelta(weeks=1)
        if boundary == nearest:
            continue
        low, high = min(boundary, nearest), max(boundary, nearest)
        counted, true = week_of(_utc_monday(low) + _HALF_WEEK), week_of(low)
        if counted == true:
            continue
        whole_low, whole_high = _whole_hours(low, high)
        if whole_low >= whole_high:
            pieces.append((low, high, counted, true))
            continue
        hours.append((whole_low, whole_high, counted, true))
        if low < whole_low:
            pieces.append((low, whole_low, counted, true))
        if whole_high < high:
            pieces.append((whole_high, high, counted, true))
    if hours:
        within = Q()
        for low, high, _counted, _true in hours:
            within |= Q(start__gte=low, start__lt=high)
        rows = restrict(ElapsedHour.objects.filter(within, goal=goal))
        edges = [edge for low, high, _counted, _true in hours for edge in (low, high)]
        for bucket, bin_number, count in _summed(rows, edges):
            if bucket % 2:  # inside a range (even: between two)
                _low, _high, counted, true = hours[bucket // 2]
                move(counted, true, bin_number, count)
    if pieces:
        within = Q()
        for low, high, _counted, _true in pieces:
            within |= Q(**{f"sla_{goal}_due__gte": low, f"sla_{goal}_due__lt": high})
        scope = Q(team_id__in=teams) if teams is not None else Q()
        tickets = _goal_tickets(
            scope, filters, goal, COMPLETED, pieces[0][0], pieces[-1][1]
        ).filter(within)
        edges = [edge for low, high, _counted, _true in pieces for edge in (low, high)]
        for bucket, bin_number, count in _binned(tickets, goal, edges):
            if bucket % 2 == 0:
                continue  # between pieces: not selected
            _low, _high, counted, true = pieces[bucket // 2]
            move(counted, true, bin_number, count)
    if others is not None:
        tickets = _goal_tickets(others, filters, goal, COMPLETED, boundaries[0], boundaries[-1])
        for bucket, bin_number, count in _binned(tickets, goal, boundaries):
            if 1 <= bucket < len(boundaries):
                histograms[bucket - 1][bin_number] += count
    period: dict[int, int] = defaultdict(int)
    weekly: dict[dt.date, tuple[float | None, float | None]] = {}
    for week, histogram in histograms.items():
        if sum(count for count in histogram.values() if count > 0):
            weekly[weeks[week]] = (
                durations.percentile(histogram, 0.5),
                durations.percentile(histogram, 0.9),
            )
        for bin_number, count in histogram.items():
            period[bin_number] += count
    return weekly, (durations.percentile(period, 0.5), durations.percentile(period, 0.9))


def _summed(
    rows: QuerySet[Any], edges: list[dt.datetime], *, shift: str = "0"
) -> list[tuple[int, int, int]]:
    """(bucket, bin, tickets) of histogram rows summed by the database, bucket i holding the
    rows whose start (+ `shift`) is in [edges[i-1], edges[i]) (width_bucket): tens of
    thousands of rows at 52 weeks, which Python would parse and place one by one."""
    sql, params = rows.values("start", "bin", "tickets").order_by().query.sql_with_params()
    query = (
        f"SELECT width_bucket(h.start + interval '{shift}', %s::timestamptz[]), "  # noqa: S608
        f"h.bin, SUM(h.tickets) FROM ({sql}) AS h GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [edges, *params])
        return [(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]


def _binned(
    tickets: QuerySet[Ticket], goal: str, edges: list[dt.datetime]
) -> list[tuple[int, int, int]]:
    """(bucket, bin, count) of the completed goals among `tickets`, bucket i holding due
    times in [edges[i-1], edges[i]) (PostgreSQL's width_bucket), binned like the triggers."""
    inner = tickets.annotate(report_due=F(f"sla_{goal}_due")).values("id", "report_due")
    sql, params = inner.order_by().query.sql_with_params()
    # The timer is looked up per ticket by its primary key (LATERAL … OFFSET 0 keeps it a
    # loop): as a plain join, the planner hashes all of sla_ticketsla — 150 ms at 1,000,000
    # tickets — for a few thousand rows.
    elapsed = f"s.{goal}_completed_at - s.{goal}_started_at"
    query = (
        "SELECT width_bucket(d.report_due, %s::timestamptz[]), "  # noqa: S608
        f"{durations.bin_sql('t.elapsed')}, count(*) FROM ({sql}) AS d "
        f"CROSS JOIN LATERAL (SELECT {elapsed} AS elapsed FROM sla_ticketsla s "
        f"WHERE s.ticket_id = d.id AND s.{goal}_started_at IS NOT NULL "
        f"AND s.{goal}_completed_at IS NOT NULL OFFSET 0) AS t GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, [edges, *params])
        return [(int(a), int(b), int(c)) for a, b, c in cursor.fetchall()]


def _as_date(value: Any, tz: dt.tzinfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value, tz).date() if timezone.is_aware(value) else value.date()
    return value  # type: ignore[no-any-return,unused-ignore]


def _times(
    scope: Q,
    filters: ReportFilters,
    goal: str,
    start: dt.datetime,
    end: dt.datetime,
    tz: dt.tzinfo,
    *,
    exact: bool = False,
) -> tuple[dict[dt.date, tuple[float | None, float | None]], tuple[float | None, float | None]]:
    """Median and 90th percentile of start → completion, per week and over the period.

    On PostgreSQL one scan gives both (GROUP BY ROLLUP: the weeks, then the period) — the
    same percentile_cont numbers as one query per week and one for the period, which
    `exact` still runs (the benchmark's "before")."""
    elapsed = F(f"sla__{goal}_completed_at") - F(f"sla__{goal}_started_at")
    tickets = _goal_tickets(scope, filters, goal, COMPLETED, start, end).filter(
        **{f"sla__{goal}_completed_at__isnull": False, f"sla__{goal}_started_at__isnull": False}
    )
    week = TruncWeek(f"sla_{goal}_due", tzinfo=tz)
    if connection.vendor == "postgresql" and not exact:
        inner = tickets.annotate(week=week, elapsed=elapsed).values("week", "elapsed").order_by()
        sql, params = inner.query.sql_with_params()
        # The inner SQL is Django's own, its values passed as parameters.
        pick = "week, " + ", ".join(
            f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY elapsed)"
            for fraction in (0.5, 0.9)
        )
        query = f"SELECT {pick} FROM ({sql}) AS durations GROUP BY ROLLUP (week)"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            found = cursor.fetchall()
        weekly = {
            _as_date(day, tz): (_seconds(p50), _seconds(p90))
            for day, p50, p90 in found
            if day is not None
        }
        period = next(((p50, p90) for day, p50, p90 in found if day is None), (None, None))
        return weekly, (_seconds(period[0]), _seconds(period[1]))
    if connection.vendor == "postgresql":
        rows = (
            tickets.annotate(week=week)
            .values("week")
            .annotate(p50=Percentile(elapsed, 0.5), p90=Percentile(elapsed, 0.9))
            .order_by()
        )
        weekly = {
            _as_date(row["week"], tz): (_seconds(row["p50"]), _seconds(row["p90"])) for row in rows
        }
        total = tickets.aggregate(p50=Percentile(elapsed, 0.5), p90=Percentile(elapsed, 0.9))
        return weekly, (_seconds(total["p50"]), _seconds(total["p90"]))
    # SQLite has no percentile: the durations are few enough on a small help desk to sort here.
    samples: dict[dt.date, list[float]] = defaultdict(list)
    for day, completed, started in tickets.annotate(week=week).values_list(
        "week", f"sla__{goal}_completed_at", f"sla__{goal}_started_at"
    ):
        samples[_as_date(day, tz)].append((completed - started).total_seconds())
    everything = [value for values in samples.values() for value in values]
    weekly = {day: (_percentile(v, 0.5), _percentile(v, 0.9)) for day, v in samples.items()}
    return weekly, (_percentile(everything, 0.5), _percentile(everything, 0.9))


def _seconds(value: dt.timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont: linear interpolation between the closest ranks."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _recent_misses(
    scope: Q, filters: ReportFilters, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """The latest misses of any goal (by due time): one query per goal and status, each a
    backward walk of that goal's (status, due) index that stops after a few rows."""
    found: list[dict[str, Any]] = []
    for goal in SLA_GOALS:
        for status in MISSES:
            tickets = (
                _goal_tickets(scope, filters, goal, (status,), start, end)
                .order_by(f"-sla_{goal}_due", "-id")
                .values("id", "name", "team_id", f"sla_{goal}_due")[:RECENT_MISSES]
            )
            found.extend(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "team_id": row["team_id"],
                    "goal": goal,
                    "goal_label": str(GOAL_LABELS[goal]),
                    "due": row[f"sla_{goal}_due"],
                    "status": status,
                    "status_label": str(SlaStatus(status).label),
                }
                for row in tickets
            )
    found.sort(key=lambda item: (item["due"], item["id"]), reverse=True)
    return found[:RECENT_MISSES]


def _rate(met: int, decided: int) -> float | None:
    return round(100 * met / decided, 1) if decided else None


def chart_data(report: Report) -> dict[str, Any]:
    """What report.js plots: labels and series, numbers only (no HTML)."""
    team_ids = sorted(
        {team for goal in report.by_team.values() for team in goal},
        key=lambda team: report.team_names.get(team, ""),
    )
    return {
        "weeks": [week.isoformat() for week in report.weeks],
        "goals": [str(GOAL_LABELS[goal]) for goal in SLA_GOALS],
        "weekly": [
            [_rate(*report.by_week[goal].get(week, (0, 0))) for week in report.weeks]
            for goal in SLA_GOALS
        ],
        "teams": [report.team_names.get(team, "") for team in team_ids],
        "by_team": [
            [_rate(*report.by_team[goal].get(team, (0, 0))) for team in team_ids]
            for goal in SLA_GOALS
        ],
        "times": {
            goal: {
                "label": str(GOAL_LABELS[goal]),
                "p50": [
                    _hours(report.times[goal].get(week, (None, None))[0]) for week in report.weeks
                ],
                "p90": [
                    _hours(report.times[goal].get(week, (None, None))[1]) for week in report.weeks
                ],
            }
            for goal in TIMED_GOALS
        },
        "text": {
            "compliance": _("Compliance (%)"),
            "hours": _("Hours"),
            "median": _("Median"),
            "p90": _("90th percentile"),
        },
    }


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def csv_rows(report: Report) -> list[list[str]]:
    """The report's numbers as CSV rows (the same ones the page plots and lists)."""
    header = [
        _("Section"),
        _("Week or team"),
        _("Goal"),
        _("Met"),
        _("Decided"),
        _("Compliance (%)"),
        _("Median (hours)"),
        _("90th percentile (hours)"),
    ]
    rows = [header]
    for goal in SLA_GOALS:
        label = str(GOAL_LABELS[goal])
        for week in report.weeks:
            met, decided = report.by_week[goal].get(week, (0, 0))
            p50, p90 = report.times.get(goal, {}).get(week, (None, None))
            rows.append(
                [_("Week"), week.isoformat(), label, str(met), str(decided),
                 _text(_rate(met, decided)), _text(_hours(p50)), _text(_hours(p90))]
            )  # fmt: skip
    for goal in SLA_GOALS:
        label = str(GOAL_LABELS[goal])
        for team, (met, decided) in sorted(
            report.by_team[goal].items(), key=lambda item: report.team_names.get(item[0], "")
        ):
            rows.append(
                [_("Team"), report.team_names.get(team, ""), label, str(met), str(decided),
                 _text(_rate(met, decided)), "", ""]
            )  # fmt: skip
    for goal in TIMED_GOALS:
        p50, p90 = report.overall_times[goal]
        rows.append(
            [_("Period"), "", str(GOAL_LABELS[goal]), "", "", "", _text(_hours(p50)),
             _text(_hours(p90))]
        )  # fmt: skip
    return rows


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def page_summary(report: Report) -> dict[str, Any]:
    """The page's numbers beside its charts: compliance over the period per goal, the
    period's median and 90th-percentile times, and the latest misses with their team names."""
    summary = []
    for goal in SLA_GOALS:
        weeks = report.by_week[goal].values()
        rate = _rate(sum(met for met, _d in weeks), sum(decided for _m, decided in weeks))
        summary.append({"label": GOAL_LABELS[goal], "rate": rate})
    times = [
        {
            "label": GOAL_LABELS[goal],
            "p50": _hours(report.overall_times[goal][0]),
            "p90": _hours(report.overall_times[goal][1]),
        }
        for goal in TIMED_GOALS
    ]
    misses = [
        {**miss, "team": report.team_names.get(miss["team_id"], "")}
        for miss in report.recent_misses
    ]
    return {"summary": summary, "times": times, "misses": misses}


def csv_text(report: Report) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(csv_rows(report))
    return buffer.getvalue()
