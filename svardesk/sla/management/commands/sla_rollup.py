"""`svardesk sla_rollup --rebuild`: recount the SLA report's compliance rollup from the
tickets (batched by id, safe while tickets change) and, on PostgreSQL, its histogram of
completed goals' times (`sla.durations`, one statement that holds ticket writes meanwhile);
`--check` says whether their triggers are in place (a rebuilt tickets table on SQLite loses
them: `--install` puts them back)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.sla import durations, rollup


class Command(BaseCommand):
    help = "Rebuild or check the SLA report's compliance rollup."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recount from the tickets")
        parser.add_argument("--install", action="store_true", help="(re)create the triggers")
        parser.add_argument("--check", action="store_true", help="fail if triggers are missing")
        parser.add_argument("--batch-size", type=int, default=50_000)

    def handle(self, *args: Any, **options: Any) -> None:
        if not (options["rebuild"] or options["install"] or options["check"]):
            raise CommandError("give --rebuild, --install or --check")
        if options["install"]:
            rollup.install_triggers()
            durations.install_triggers()
            self.stdout.write("triggers installed")
        installed = rollup.triggers_installed() and durations.triggers_installed()
        if options["check"] and not installed:
            raise CommandError("the SLA rollup triggers are missing: run with --install --rebuild")
        if options["rebuild"]:
            if not installed:
                raise CommandError("the SLA rollup triggers are missing: add --install")

            def progress(done: int, total: int) -> None:
                self.stdout.write(f"counted up to ticket {done:,} of {total:,}")

            rollup.rebuild(batch_size=max(1, options["batch_size"]), progress=progress)
            rollup.compact()
            durations.rebuild()
            self.stdout.write("times histogram recounted")
            self.stdout.write("rollup rebuilt")
