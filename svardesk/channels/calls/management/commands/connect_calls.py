"""`svardesk connect_calls NUMBER --account-sid SID --auth-token TOKEN`: connect a phone number
from a script — the same service the settings page uses. Prints the status, recording and
transcription callback URLs, then the voice webhook URL as the last line (all from
SVARDESK_BASE_URL: the provider signs requests with the URL it called)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.channels.calls.services import (
    CallChannelValidationError,
    connect_call_channel,
    webhook_urls,
)


class Command(BaseCommand):
    help = (
        "Connect a phone number at a Twilio-compatible provider: missed calls and voicemails "
        "become tickets. Prints the voice webhook URL as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="The number in E.164, e.g. +46812345678.")
        parser.add_argument("--account-sid", required=True, help="AC followed by 32 hex digits.")
        parser.add_argument("--auth-token", required=True, help="The account's auth token.")
        parser.add_argument(
            "--language",
            default="",
            choices=["", *(code for code, _label in settings.LANGUAGES)],
            help="The greeting's language (default: the help desk's).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            call_channel = connect_call_channel(
                actor=None,
                phone_number=options["number"],
                account_sid=options["account_sid"],
                auth_token=options["auth_token"],
                language=options["language"],
            )
        except CallChannelValidationError as exc:
            raise CommandError(str(exc)) from exc
        urls = webhook_urls(call_channel)
        self.stdout.write(f"Calls channel {call_channel.channel_id} connected.")
        self.stdout.write(f"Status callback:        {urls['status']}")
        self.stdout.write(f"Recording callback:     {urls['recording']}")
        self.stdout.write(f"Transcription callback: {urls['transcription']}")
        self.stdout.write(urls["voice"])
