"""`svardesk smtp_receiver`: the built-in SMTP receiver on its own, for production set-ups
that run the web server, the worker and the receiver as separate services."""

import os
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.channels.email.imap import max_message_bytes
from svardesk.channels.email.smtp_receiver import DEFAULT_PORT, make_controller


class Command(BaseCommand):
    help = "Receive email for the connected addresses over SMTP (for MX or forwarding)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("SVARDESK_SMTP_HOST", "127.0.0.1"))
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("SVARDESK_SMTP_PORT", DEFAULT_PORT))
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="Largest message accepted (default: SVARDESK_EMAIL_MAX_BYTES, 50 MiB).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        limit = options["max_bytes"] or max_message_bytes()
        controller = make_controller(host=host, port=port, max_bytes=limit)
        try:
            controller.start()
        except (OSError, TimeoutError) as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc}") from exc
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Receiving email by SMTP on {host}:{port} (up to {limit} bytes)")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
