"""`svardesk connect_chat NAME --website ORIGIN [--website ORIGIN …]`: connect a chat widget
from a script — the same service the settings page uses. Prints the one-line embed snippet as
its last line (its address from SVARDESK_BASE_URL, else http://127.0.0.1:8000)."""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.channels.chat.models import AskDetails
from svardesk.channels.chat.services import (
    ChatChannelValidationError,
    TranscriptSettings,
    connect_chat_channel,
)
from svardesk.channels.chat.views import snippet_for

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def base_url() -> str:
    return str(
        getattr(settings, "BASE_URL", "")
        or os.environ.get("SVARDESK_BASE_URL", "")
        or DEFAULT_BASE_URL
    ).rstrip("/")


class Command(BaseCommand):
    help = (
        "Connect a chat widget to the help desk. It runs only on the given websites. Prints "
        "the embed snippet (one <script> tag) as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The chat's name, e.g. 'Website chat'.")
        parser.add_argument(
            "--website",
            action="append",
            default=[],
            metavar="ORIGIN",
            help="A website the widget may run on, e.g. https://www.example.com (repeatable).",
        )
        parser.add_argument(
            "--ask",
            choices=list(AskDetails.values),
            default=AskDetails.BEFORE,
            help="Ask for name and email before the chat (default) or during it.",
        )
        parser.add_argument("--language", default="", help="en or sv (transcripts, widget).")
        parser.add_argument(
            "--transcript-from",
            default="",
            metavar="ADDRESS",
            help="Email transcripts of closed chats from this connected team address.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["website"]:
            raise CommandError("Give at least one --website ORIGIN.")
        transcripts = None
        if options["transcript_from"]:
            transcripts = TranscriptSettings(enabled=True, send_from=options["transcript_from"])
        try:
            chat_channel = connect_chat_channel(
                actor=None,
                name=options["name"],
                websites=options["website"],
                ask_details=options["ask"],
                language=options["language"],
                transcripts=transcripts,
            )
        except ChatChannelValidationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Chat channel {chat_channel.channel_id} connected.")
        self.stdout.write(snippet_for(base_url(), chat_channel))
