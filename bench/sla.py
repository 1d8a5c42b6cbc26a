"""SLA performance: working-hours calendar arithmetic (calls per second).

Usage:  .venv/bin/python bench/sla.py calendar [--calls 100000] [--repeat 5]

calendar: ``add_working_time`` and ``working_time_between`` on a Stockholm office schedule
with two ranges a day (08:00-12:00, 13:00-17:00, Monday to Friday) and Sweden's public
holidays, for random starts over a year (minute precision) and random durations up to a
working week. Pure Python, no database. Each repeat prints calls/s with the load average,
since the machine is shared; compare runs made in the same sitting.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="part", required=True)
    calendar = sub.add_parser("calendar", help="working-hours arithmetic, calls/s")
    calendar.add_argument("--calls", type=int, default=100_000)
    calendar.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.part == "calendar":
        bench_calendar(args.calls, args.repeat)


if __name__ == "__main__":
    main()
