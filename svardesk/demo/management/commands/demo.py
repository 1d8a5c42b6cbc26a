"""`svardesk demo`: fill the database with realistic, seeded demo data."""

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from svardesk.demo.bulk import build_pending_indexes
from svardesk.demo.channels import normalise_origin
from svardesk.demo.generator import DemoDatabaseBusyError, DemoOptions, format_summary, load_demo


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ArgumentTypeError("must be 0 or more")
    return number


class Command(BaseCommand):
    help = (
        "Load demo teams, agents, contacts and tickets, deterministic from --seed, and "
        "(re)create the demo logins. PostgreSQL loads a million tickets in minutes."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tickets", type=_non_negative, default=1_000, help="default 1000")
        parser.add_argument(
            "--contacts",
            type=_non_negative,
            default=None,
            help="default: a fifth of the tickets, at least 10",
        )
        parser.add_argument(
            "--companies",
            type=_non_negative,
            default=None,
            help="default: one per five contacts",
        )
        parser.add_argument("--agents", type=_non_negative, default=12, help="default 12")
        parser.add_argument(
            "--teams",
            type=_non_negative,
            default=5,
            help="default 5; Support and Billing are always created",
        )
        parser.add_argument("--seed", type=int, default=42, help="default 42")
        parser.add_argument(
            "--lock-timeout",
            type=_non_negative,
            default=60,
            help="seconds to wait for other sessions' locks on PostgreSQL (0: forever); default 60",
        )
        parser.add_argument(
            "--no-logins",
            action="store_true",
            help="leave the demo sign-ins out of the summary (scripts/run.sh prints them itself)",
        )
        parser.add_argument(
            "--origin",
            default=None,
            help="where the demo is served, for the demo chat's allowed website "
            "(default: SVARDESK_BASE_URL, else http://127.0.0.1:8000)",
        )
        parser.add_argument(
            "--no-channels",
            action="store_true",
            help="connect no demo channels (tickets then come from the channels already there)",
        )
        parser.add_argument(
            "--finish-indexes",
            action="store_true",
            help="only build the indexes an interrupted load left unbuilt (PostgreSQL), then stop",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first delete all tickets, contacts and @svardesk.example users",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["finish_indexes"]:
            built = build_pending_indexes(
                progress=self.stdout.write, lock_timeout_seconds=options["lock_timeout"]
            )
            self.stdout.write(f"Built {built} pending indexes." if built else "No index pending.")
            return
        origin = options["origin"]
        if origin is not None:
            try:
                origin = normalise_origin(origin)
            except ValueError as exc:
                raise CommandError(f"--origin: {exc}") from exc
        demo = DemoOptions(
            tickets=options["tickets"],
            contacts=options["contacts"],
            companies=options["companies"],
            agents=options["agents"],
            teams=options["teams"],
            seed=options["seed"],
            reset=options["reset"],
            lock_timeout_seconds=options["lock_timeout"],
            connect_channels=not options["no_channels"],
            origin=origin,
        )
        verbose = options["verbosity"] > 0
        try:
            report = load_demo(demo, progress=self.stdout.write if verbose else lambda _m: None)
        except DemoDatabaseBusyError as exc:
            raise CommandError(str(exc)) from exc
        if verbose:
            self.stdout.write(format_summary(report, with_logins=not options["no_logins"]))
