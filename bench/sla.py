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
        began, cpu = time.perf_counter(), time.process_time()
        for start, duration in zip(starts, durations, strict=True):
            add_working_time(start, duration, schedule)
        added = calls / (time.perf_counter() - began)
        added_cpu = calls / (time.process_time() - cpu)
        began, cpu = time.perf_counter(), time.process_time()
        for start, end in zip(starts, ends, strict=True):
            working_time_between(start, end, schedule)
        between = calls / (time.perf_counter() - began)
        between_cpu = calls / (time.process_time() - cpu)
        load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
        # Wall-clock rate, and per second of this process's CPU (what a dedicated core gives).
        print(
            f"calendar run {run + 1}: add_working_time {added:,.0f} calls/s "
            f"({added_cpu:,.0f}/CPU-s), working_time_between {between:,.0f} calls/s "
            f"({between_cpu:,.0f}/CPU-s)  (load {load})"
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
        line(
            f"page {path} 12 weeks",
            timed(lambda path=path: client.get(path, {"period": "12"})),
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


def _django() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    django.setup()


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _configure_sla() -> None:
    """SLAs on in working hours (the default Stockholm office schedule with Swedish holidays),
    on all tickets, for every source: first response 4 h, next response 8 h, close 5 days."""
    from svardesk.sla.models import Applies, GoalMode, SlaSettings

    SlaSettings.objects.update_or_create(
        pk=1,
        defaults={
            "is_enabled": True,
            "applies": Applies.WORKING_HOURS,
            "mode": GoalMode.ALL,
            "applies_to_manual": True,
            "first_response_seconds": 4 * 3600,
            "next_response_seconds": 8 * 3600,
            "close_seconds": 5 * 8 * 3600,
        },
    )


def bench_recompute(limit: int | None) -> None:
    """Settings saved with "new tickets and existing open tickets": the background job over
    every open ticket (or the first `limit`), timed, with its progress as the job records it."""
    _django()
    from django.db import connection

    from svardesk.core.local_cache import clear_local_cache
    from svardesk.sla import recompute
    from svardesk.sla.models import Recomputation, TicketSla
    from svardesk.tickets.models import Ticket

    _configure_sla()
    clear_local_cache()
    recompute.apply_settings(actor=None, existing_open=False)  # a new settings version
    # The job's row as apply_settings(existing_open=True) makes it, run here (not enqueued).
    total = Ticket.objects.filter(is_open=True, is_spam=False).count()
    job = Recomputation.objects.create(settings_version=0, total=min(total, limit or total))
    print(f"recompute: {job.total:,} open tickets on {connection.vendor}  (load {_load()})")
    began = time.perf_counter()
    done_before = 0
    while True:
        ids = list(
            Ticket.objects.filter(is_open=True, is_spam=False, pk__gt=job.last_ticket_id)
            .order_by("pk")
            .values_list("pk", flat=True)[: recompute.BATCH]
        )
        if not ids or (limit and done_before >= limit):
            break
        from django.db import transaction

        with transaction.atomic():
            recompute.recompute_tickets(ids)
        job.last_ticket_id = ids[-1]
        done_before += len(ids)
        Recomputation.objects.filter(pk=job.pk).update(
            done=done_before, last_ticket_id=job.last_ticket_id
        )
        if done_before % 20_000 < recompute.BATCH:
            elapsed = time.perf_counter() - began
            bar = "#" * int(30 * done_before / max(job.total, 1))
            print(
                f"  [{bar:<30}] {done_before:,}/{job.total:,}  "
                f"{done_before / elapsed:,.0f} tickets/s  (load {_load()})",
                flush=True,
            )
    elapsed = time.perf_counter() - began
    print(
        f"recompute: {done_before:,} tickets in {elapsed:.1f} s = "
        f"{done_before / elapsed:,.0f} tickets/s; {TicketSla.objects.count():,} with timers  "
        f"(load {_load()})"
    )


def bench_sweep(repeat: int, ahead_minutes: list[int]) -> None:
    """One sweep at now (+ each given number of minutes): the transitions it claims and its
    time; then `repeat` sweeps at the same moment, which find nothing more to claim (the
    steady state of the every-minute task)."""
    _django()
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from svardesk.sla.sweep import sweep
    from svardesk.tickets.models import SlaStatus, Ticket

    open_count = Ticket.objects.filter(is_open=True).count()
    running = Ticket.objects.filter(
        sla_first_response_status__in=[SlaStatus.ON_TRACK, SlaStatus.DUE_SOON]
    ).count()
    print(
        f"sweep on {connection.vendor}: {Ticket.objects.count():,} tickets, {open_count:,} open, "
        f"{running:,} with first response running"
    )
    for minutes in ahead_minutes:
        moment = timezone.now() + dt.timedelta(minutes=minutes)
        began = time.perf_counter()
        result = sweep(now=moment)
        elapsed = time.perf_counter() - began
        print(
            f"sweep at now+{minutes} min: {result.due_soon:,} due soon, {result.overdue:,} "
            f"overdue claimed in {elapsed * 1000:,.0f} ms  (load {_load()})"
        )
        for run in range(repeat):
            began = time.perf_counter()
            again = sweep(now=moment)
            elapsed = time.perf_counter() - began
            print(
                f"  again {run + 1}: {again.due_soon + again.overdue} claimed in "
                f"{elapsed * 1000:,.0f} ms  (load {_load()})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    calendar = sub.add_parser("calendar", help="working-hours arithmetic, calls/s")
    calendar.add_argument("--calls", type=int, default=100_000)
    calendar.add_argument("--repeat", type=int, default=5)
    report = sub.add_parser("report", help="the SLA report on the database of DATABASE_URL")
    report.add_argument("--repeat", type=int, default=5)
    recompute = sub.add_parser(
        "recompute", help="retroactive recomputation of open tickets (DATABASE_URL), tickets/s"
    )
    recompute.add_argument("--limit", type=int, default=0, help="stop after this many")
    sweep = sub.add_parser("sweep", help="the periodic sweep (DATABASE_URL), ms per sweep")
    sweep.add_argument("--repeat", type=int, default=3)
    sweep.add_argument("--ahead", type=int, nargs="*", default=[0, 60, 240])
    args = parser.parse_args()
    if args.part == "calendar":
        bench_calendar(args.calls, args.repeat)
    elif args.part == "recompute":
        bench_recompute(args.limit or None)
    elif args.part == "sweep":
        bench_sweep(args.repeat, args.ahead)
    elif args.part == "report":
        bench_report(args.repeat)


if __name__ == "__main__":
    main()
