"""SLA performance: working-hours calendar arithmetic (calls per second); the SLA report.

Usage:  .venv/bin/python bench/sla.py calendar [--calls 100000] [--repeat 5]
        DATABASE_URL=postgres://…/<a copy of the 1M demo with SLA data> \
        .venv/bin/python bench/sla.py report [--repeat 5]

calendar: ``add_working_time`` and ``working_time_between`` on a Stockholm office schedule
with two ranges a day (08:00-12:00, 13:00-17:00, Monday to Friday) and Sweden's public
holidays, for random starts over a year (minute precision) and random durations up to a
working week. Pure Python, no database. Each repeat prints calls/s with the load average,
since the machine is shared; compare runs made in the same sitting.

report: the SLA report's numbers (`build_report`) and the whole page and CSV through Django's
stack in-process, for a super admin and a team-scoped agent, per period (4, 12, 26 and 52
weeks) and with a team filter; the median and the spread over --repeat runs, warm (one
unmeasured run first), with the database's own time for the slowest query (EXPLAIN ANALYZE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from svardesk.sla.calendar import (
    WorkingSchedule,
    add_working_time,
    holiday_dates,
    working_time_between,
)


def bench_calendar(calls: int, repeat: int) -> None:
    schedule = WorkingSchedule(
        "Europe/Stockholm",
        {day: [(dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))] for day in range(5)},
        holiday_dates("SE", range(2025, 2030)),
    )
    rng = random.Random(12)
    year = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    starts = [year + dt.timedelta(minutes=rng.randrange(365 * 1440)) for _ in range(calls)]
    durations = [dt.timedelta(minutes=rng.randrange(1, 40 * 60)) for _ in range(calls)]
    ends = [start + dt.timedelta(minutes=rng.randrange(14 * 1440)) for start in starts]
    add_working_time(starts[0], durations[0], schedule)  # lays out the years once
    for run in range(repeat):
        began = time.perf_counter()
        for start, duration in zip(starts, durations, strict=True):
            add_working_time(start, duration, schedule)
        added = calls / (time.perf_counter() - began)
        began = time.perf_counter()
        for start, end in zip(starts, ends, strict=True):
            working_time_between(start, end, schedule)
        between = calls / (time.perf_counter() - began)
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(
            f"calendar run {run + 1}: add_working_time {added:,.0f} calls/s, "
            f"working_time_between {between:,.0f} calls/s  (load {load})"
        )


def bench_report(repeat: int) -> None:
    import statistics

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    os.environ.setdefault("SVARDESK_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from svardesk.accounts.models import TicketAccess, User
    from svardesk.sla.report import ReportFilters, build_report
    from svardesk.teams.models import Team

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    agent = (
        User.objects.filter(is_superuser=False, ticket_access=TicketAccess.TEAM, has_seat=True)
        .exclude(primary_team=None)
        .order_by("pk")
        .first()
    )
    team = Team.objects.order_by("pk").first()
    cases: list[tuple[str, object, dict[str, str]]] = [
        (f"admin, {weeks} weeks", admin, {"period": weeks}) for weeks in ("4", "12", "26", "52")
    ]
    if team is not None:
        cases.append(("admin, 12 weeks, one team", admin, {"period": "12", "team": str(team.pk)}))
    if agent is not None:
        cases.append(("team agent, 12 weeks", agent, {"period": "12"}))

    def timed(run: object) -> list[float]:
        run()  # type: ignore[operator]  # warm
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            run()  # type: ignore[operator]
            times.append((time.perf_counter() - began) * 1000)
        return times

    def line(name: str, times: list[float], extra: str = "") -> None:
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        print(
            f"{name:<34} median {statistics.median(times):7.0f} ms  "
            f"min {min(times):6.0f}  max {max(times):6.0f}{extra}  (load {load})"
        )

    for name, viewer, query in cases:
        filters = ReportFilters.parse(query)
        line(
            f"numbers: {name}",
            timed(lambda viewer=viewer, filters=filters: build_report(viewer, filters)),
        )
    client = Client()
    client.force_login(admin)
    for path in ("/reports/sla/", "/reports/sla/report.csv"):
        with CaptureQueriesContext(connection) as queries:
            client.get(path, {"period": "12"})
        line(
            f"page {path} 12 weeks",
            timed(lambda path=path: client.get(path, {"period": "12"})),
            f"  {len(queries)} queries",
        )
    with CaptureQueriesContext(connection) as queries:
        build_report(admin, ReportFilters.parse({"period": "52"}))
    if connection.vendor == "postgresql":
        slowest = []
        with connection.cursor() as cursor:
            for query in queries.captured_queries:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                plan = cursor.fetchone()[0][0]
                slowest.append((plan["Execution Time"], query["sql"][:90]))
        for ms, sql in sorted(slowest, reverse=True)[:3]:
            print(f"  db {ms:7.1f} ms  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    calendar = sub.add_parser("calendar", help="working-hours arithmetic, calls/s")
    calendar.add_argument("--calls", type=int, default=100_000)
    calendar.add_argument("--repeat", type=int, default=5)
    report = sub.add_parser("report", help="the SLA report on the database of DATABASE_URL")
    report.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.part == "calendar":
        bench_calendar(args.calls, args.repeat)
    elif args.part == "report":
        bench_report(args.repeat)


if __name__ == "__main__":
    main()
