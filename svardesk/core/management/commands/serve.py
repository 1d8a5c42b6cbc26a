"""`svardesk serve`: the whole product in one command — the ASGI web server (HTTP and
WebSockets), and the background worker with its scheduler as a child process."""

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run Svardesk: web server, background worker and scheduler."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SVARDESK_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SVARDESK_PORT", "8000"))
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the background worker."
        )
        parser.add_argument(
            "--no-migrate", action="store_true", help="Do not apply pending migrations first."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        import uvicorn

        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        worker = None
        if not options["no_worker"]:
            # The worker is the same `svardesk` entry point, so it sees the same settings.
            worker = subprocess.Popen(
                [sys.executable, "-m", "svardesk", "run_huey", "--quiet"],
                env=os.environ.copy(),
            )
        host, port = options["host"], options["port"]
        self.stdout.write(f"Svardesk is running at http://{host}:{port}/  (Ctrl+C stops it)")
        try:
            uvicorn.run(
                "svardesk.config.asgi:application",
                host=host,
                port=port,
                log_level=os.environ.get("SVARDESK_LOG_LEVEL", "info").lower(),
                proxy_headers=True,
                lifespan="off",
            )
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
