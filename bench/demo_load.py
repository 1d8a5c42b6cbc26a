"""Time the demo data loader against the configured database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench \\
        .venv/bin/python bench/demo_load.py --tickets 1000000 --contacts 200000

Runs `svardesk.demo.generator.load_demo` (with --reset unless --keep) and prints the machine,
the database, each phase's time and rows per second; --json adds one machine-readable line.
The database must be migrated first (`svardesk migrate`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--teams", type=int, default=8)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="add to the data instead of --reset")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--json", action="store_true", help="also print a JSON summary line")
    return parser.parse_args(argv)


def _database_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            return f"SQLite {cursor.fetchone()[0]}"
    return connection.vendor


def _load_average() -> str:
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from svardesk.demo.generator import DemoOptions, format_summary, load_demo

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        print("The database has unapplied migrations: run `svardesk migrate` first.")
        return 2

    print(
        f"machine:  {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"database: {_database_version()} ({connection.settings_dict['NAME']})")
    print(f"load average before: {_load_average()}")
    options = DemoOptions(
        tickets=args.tickets,
        contacts=args.contacts,
        agents=args.agents,
        teams=args.teams,
        seed=args.seed,
        reset=not args.keep,
    )
    started = time.perf_counter()
    report = load_demo(options, progress=(lambda _m: None) if args.quiet else print)
    wall = time.perf_counter() - started
    print(format_summary(report))
    print(f"load average after: {_load_average()}")
    print(
        f"wall {wall:.1f}s: {report.tickets / wall:,.0f} tickets/s end to end; "
        f"{report.tickets_per_second:,.0f} tickets/s while streaming tickets"
    )
    if args.json:
        print(
            json.dumps(
                {
                    "backend": report.backend,
                    "tickets": report.tickets,
                    "contacts": report.contacts,
                    "events": report.events,
                    "wall_seconds": round(wall, 2),
                    "tickets_per_second": round(report.tickets / wall),
                    "timings": {k: round(v, 2) for k, v in report.timings.items()},
                    "cores": os.cpu_count(),
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
