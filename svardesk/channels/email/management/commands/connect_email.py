"""`svardesk connect_email ADDRESS`: connect a team address to the help desk from a script —
the same service the settings page uses. Prints the channel id, nothing else, on stdout."""

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.channels.email.services import (
    EmailChannelValidationError,
    ImapSettings,
    connect_email_channel,
)


class Command(BaseCommand):
    help = (
        "Connect a team email address to the help desk. The built-in SMTP receiver accepts "
        "mail for it at once; give --imap-host to poll a mailbox too. Prints the channel id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("address", help="The team address, e.g. support@company.example")
        parser.add_argument("--name", default="", help="Sender name on replies.")
        parser.add_argument("--imap-host", default="")
        parser.add_argument("--imap-port", type=int, default=None)
        parser.add_argument("--imap-user", default="")
        parser.add_argument(
            "--imap-password-env",
            default="",
            metavar="VAR",
            help="Name of the environment variable holding the IMAP password.",
        )
        parser.add_argument("--imap-folder", default="INBOX")
        parser.add_argument(
            "--imap-no-tls", action="store_true", help="Plain IMAP (default: TLS on connect)."
        )
        parser.add_argument(
            "--smtp-url-env",
            default="",
            metavar="VAR",
            help="Name of the environment variable holding this address's outbound SMTP URL "
            "(default: the global SVARDESK_SMTP_URL).",
        )
        parser.add_argument(
            "--print-http-token",
            action="store_true",
            help="Create a token for the raw-MIME HTTP endpoint and print it on stderr, once.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        use_tls = not options["imap_no_tls"]
        imap = ImapSettings(
            host=options["imap_host"],
            port=options["imap_port"] or (993 if use_tls else 143),
            use_tls=use_tls,
            user=options["imap_user"],
            password=self._from_env(options["imap_password_env"], "IMAP password"),
            folder=options["imap_folder"],
        )
        smtp_url = self._from_env(options["smtp_url_env"], "SMTP URL") or ""
        try:
            connected = connect_email_channel(
                actor=None,
                address=options["address"],
                display_name=options["name"],
                imap=imap,
                smtp_url=smtp_url,
                with_http_token=options["print_http_token"],
            )
        except EmailChannelValidationError as exc:
            raise CommandError(str(exc)) from exc
        if connected.http_token:
            self.stderr.write(f"HTTP endpoint token (shown once): {connected.http_token}")
        self.stdout.write(str(connected.channel.channel_id))

    def _from_env(self, variable: str, what: str) -> str | None:
        if not variable:
            return None
        value = os.environ.get(variable)
        if value is None:
            raise CommandError(f"The environment variable {variable} (the {what}) is not set.")
        return value
