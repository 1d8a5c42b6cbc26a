"""`svardesk worker_check`: enqueue a ping and wait for a background worker to answer it."""

import secrets
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from huey.exceptions import HueyException


class Command(BaseCommand):
    help = "Check that a background worker is running and consuming the task queue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=15.0)

    def handle(self, *args: Any, **options: Any) -> None:
        from svardesk.core.tasks import ping

        token = secrets.token_hex(8)
        started = time.monotonic()
        result = ping(token)
        try:
            answer = result.get(blocking=True, timeout=options["timeout"])
        except HueyException as exc:
            raise CommandError(f"No worker answered within {options['timeout']} s") from exc
        if answer != token:
            raise CommandError("The worker answered with the wrong token")
        elapsed = (time.monotonic() - started) * 1000
        self.stdout.write(f"Worker answered in {elapsed:.0f} ms")
