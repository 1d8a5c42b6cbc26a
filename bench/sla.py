"""SLA performance: working-hours calendar arithmetic (calls per second); the SLA report.

Usage:  .venv/bin/python bench/sla.py calendar [--calls 100000] [--repeat 5]
        DATABASE_URL=postgres://…/<a copy of the 1M demo with SLA data> \
        .venv/bin/python bench/sla.py report [--repeat 5] [--zone Europe/Stockholm]

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


def bench_report(repeat: int, zone: str) -> None:
    import statistics

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    os.environ.setdefault("SVARDESK_ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from svardesk.accounts.models import TicketAccess, User
    from svardesk.sla.report import ReportFilters, build_report
    from svardesk.teams.models import Team

    admin = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if admin is None:
        sys.exit("no super admin: load data first")
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

    def farthest(fast: object, exact: object) -> float:
        """The largest relative difference of a median or 90th percentile (times from the
        histogram against percentile_cont over the tickets)."""
        worst = 0.0
        for goal, weeks in exact.times.items():  # type: ignore[attr-defined]
            pairs = [(fast.times[goal].get(week, (None, None)), value)  # type: ignore[attr-defined]
                     for week, value in weeks.items()]  # fmt: skip
            pairs.append((fast.overall_times[goal], exact.overall_times[goal]))  # type: ignore[attr-defined]
            for got, want in pairs:
                for a, b in zip(got, want, strict=True):
                    if a is None or b is None:
                        worst = max(worst, 0.0 if a is b else 1.0)
                    elif b:
                        worst = max(worst, abs(a - b) / b)
        return worst

    with timezone.override(zone):
        for name, viewer, query in cases:
            filters = ReportFilters.parse(query)
            # From the tickets (exact=True: the code before the rollups) and from the
            # rollups, one after the other on the same data.
            for exact in (True, False):
                line(
                    f"{'tickets' if exact else 'rollup'}: {name}",
                    timed(
                        lambda viewer=viewer, filters=filters, exact=exact: build_report(
                            viewer, filters, exact=exact
                        )
                    ),
                )
            fast = build_report(viewer, filters)
            exact_report = build_report(viewer, filters, exact=True)
            same = fast.by_week == exact_report.by_week and fast.by_team == exact_report.by_team
            print(
                f"  counts equal: {same}; times within "
                f"{100 * farthest(fast, exact_report):.2f} % of percentile_cont"
            )
    client = Client()
    client.force_login(admin)
    User.objects.filter(pk=admin.pk).update(time_zone=zone)  # the pages' viewer zone
    for path in ("/reports/sla/", "/reports/sla/report.csv"):
        for weeks in ("12", "52"):
            line(
                f"page {path} {weeks} weeks",
                timed(lambda path=path, weeks=weeks: client.get(path, {"period": weeks})),
            )
    with CaptureQueriesContext(connection) as queries, timezone.override(zone):
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


def make_report_data(tickets: int) -> None:
    """A synthetic data set for the report on an empty, migrated database (DATABASE_URL,
    PostgreSQL): 8 teams, 40 agents (team-scoped, one team each) and a super admin made with
    the ORM, then `tickets` tickets with their SLA columns and timers by INSERT ... SELECT over
    generate_series (seeded random). 55 % of the tickets were created in the last 4 weeks, the
    rest spread over the 48 before (the demo's crowding, the hardest case for "last 4 weeks");
    70 % are closed. First response due 4 h after creation (closed: 85 % met), next response
    on 40 % (due after 1 day), close due after 3 days (closed: 80 % met); open tickets past a
    due time are Overdue (a quarter of the first responses) or met, the rest On track. 1 %
    spam, 10 % without a team, 20 % without an owner. The search triggers are switched off
    for the load (the report does not search) and back on after."""
    _django()
    from django.db import connection, transaction

    from svardesk.accounts.models import TicketAccess, User
    from svardesk.teams.models import Membership, Team
    from svardesk.tickets.models import Pipeline, Stage, Ticket

    if Ticket.objects.exists():
        sys.exit("the database already has tickets: use an empty, migrated one")
    pipeline = Pipeline.objects.order_by("pk").first()
    if pipeline is None:
        sys.exit("no pipeline: migrate the database first")
    open_stage = Stage.objects.filter(pipeline=pipeline, is_closed=False).order_by("pk").first()
    closed_stage = Stage.objects.filter(pipeline=pipeline, is_closed=True).order_by("pk").first()
    if open_stage is None or closed_stage is None:
        sys.exit("the first pipeline needs an open and a closed stage")
    with transaction.atomic():
        teams = [Team.objects.create(name=f"Team {n}") for n in range(1, 9)]
        User.objects.create_superuser("admin@bench.invalid", "bench-password")
        agents = []
        for n in range(40):
            agent = User.objects.create_user(
                f"agent{n}@bench.invalid",
                "bench-password",
                has_seat=True,
                ticket_access=TicketAccess.TEAM,
                primary_team=teams[n % 8],
            )
            Membership.objects.create(team=teams[n % 8], user=agent)
            agents.append(agent.pk)
    team_ids = "ARRAY[" + ",".join(str(team.pk) for team in teams) + "]::bigint[]"
    agent_ids = "ARRAY[" + ",".join(str(pk) for pk in agents) + "]::bigint[]"
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE tickets_ticket DISABLE TRIGGER USER")
        cursor.execute("SELECT setseed(0.12)")
        cursor.execute(
            "CREATE TEMP TABLE gen AS SELECT g AS n, now() - CASE WHEN random() < 0.55 "
            "THEN random() * interval '28 days' ELSE interval '28 days' + random() * "
            "interval '336 days' END AS created, random() AS r_open, random() AS r_fr, "
            "random() AS r_nr, random() AS r_cl, random() AS r_el, random() AS r_dim, "
            "random() AS r_own FROM generate_series(1, %s) g",
            [tickets],
        )
        cursor.execute(
            f"""
            INSERT INTO tickets_ticket (id, created_at, updated_at, name, description,
              priority, category, source, is_open, is_spam, closed_at, last_activity_at,
              preview, custom, version, pipeline_id, stage_id, team_id, owner_id,
              sla_first_response_due, sla_first_response_status,
              sla_next_response_due, sla_next_response_status,
              sla_close_due, sla_close_status)
            SELECT n, created, created, 'Ticket ' || n, '',
              (ARRAY['', 'LOW', 'MEDIUM', 'HIGH', 'URGENT'])[1 + floor(r_dim * 5)::int],
              '', 'EMAIL', r_open >= 0.7, r_dim * 100 < 1,
              CASE WHEN r_open < 0.7 THEN created + r_cl * interval '5 days' END, created,
              '', '{{}}', 1, {pipeline.pk},
              CASE WHEN r_open < 0.7 THEN {closed_stage.pk} ELSE {open_stage.pk} END,
              CASE WHEN r_own < 0.1 THEN NULL
                ELSE ({team_ids})[1 + floor(r_own * 10 * 8)::int % 8] END,
              CASE WHEN r_el < 0.2 THEN NULL
                ELSE ({agent_ids})[1 + floor(r_el * 1000)::int % 40] END,
              created + interval '4 hours',
              CASE WHEN created + interval '4 hours' > now() AND r_open >= 0.7 THEN 'on_track'
                WHEN r_open >= 0.7 AND r_fr < 0.25 THEN 'overdue'
                WHEN r_fr < 0.85 THEN 'met' ELSE 'missed' END,
              CASE WHEN r_nr < 0.4 THEN created + interval '1 day' END,
              CASE WHEN r_nr >= 0.4 THEN NULL
                WHEN created + interval '1 day' > now() AND r_open >= 0.7 THEN 'on_track'
                WHEN r_open >= 0.7 AND r_nr < 0.1 THEN 'overdue'
                WHEN r_nr < 0.34 THEN 'met' ELSE 'missed' END,
              created + interval '3 days',
              CASE WHEN r_open < 0.7 AND r_cl < 0.8 THEN 'met'
                WHEN r_open < 0.7 THEN 'missed'
                WHEN created + interval '3 days' > now() THEN 'on_track'
                ELSE 'overdue' END
            FROM gen
            """
        )
        # The timers: started at creation; a met goal completed within its goal, a missed
        # one up to twice past it.
        cursor.execute(
            """
            INSERT INTO sla_ticketsla (ticket_id, policy, settings_version,
              first_response_goal, first_response_started_at, first_response_completed_at,
              first_response_paused_seconds, next_response_goal, next_response_started_at,
              next_response_completed_at, next_response_paused_seconds,
              close_goal, close_started_at, close_completed_at, close_paused_seconds)
            SELECT t.id, 'all', 1, 14400, t.created_at,
              CASE t.sla_first_response_status
                WHEN 'met' THEN t.created_at + g.r_el * interval '4 hours'
                WHEN 'missed' THEN t.created_at + (1 + g.r_el * 2) * interval '4 hours' END,
              0, CASE WHEN t.sla_next_response_due IS NOT NULL THEN 86400 END,
              t.sla_next_response_due - interval '1 day',
              CASE t.sla_next_response_status
                WHEN 'met' THEN t.created_at + g.r_el * interval '1 day'
                WHEN 'missed' THEN t.created_at + (1 + g.r_el) * interval '1 day' END,
              0, 259200, t.created_at,
              CASE t.sla_close_status
                WHEN 'met' THEN t.created_at + g.r_cl * interval '3 days'
                WHEN 'missed' THEN t.created_at + (1 + g.r_cl) * interval '3 days' END, 0
            FROM tickets_ticket t JOIN gen g ON g.n = t.id
            """
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), "
            "(SELECT max(id) FROM tickets_ticket))"
        )
        cursor.execute("ALTER TABLE tickets_ticket ENABLE TRIGGER USER")
        cursor.execute("ANALYZE tickets_ticket")
        cursor.execute("ANALYZE sla_ticketsla")
    print(f"{tickets:,} tickets with SLA data in {time.perf_counter() - began:.0f} s ({_load()})")


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
    report.add_argument("--zone", default="Europe/Stockholm", help="the viewer's time zone")
    recompute = sub.add_parser(
        "recompute", help="retroactive recomputation of open tickets (DATABASE_URL), tickets/s"
    )
    recompute.add_argument("--limit", type=int, default=0, help="stop after this many")
    data = sub.add_parser(
        "report-data", help="synthetic tickets with SLA data for `report` (empty database)"
    )
    data.add_argument("--tickets", type=int, default=1_000_000)
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
        bench_report(args.repeat, args.zone)
    elif args.part == "report-data":
        make_report_data(args.tickets)


if __name__ == "__main__":
    main()
