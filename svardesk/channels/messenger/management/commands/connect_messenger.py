"""`svardesk connect_messenger --page-id ID --page-token T --app-secret S --verify-token V`:
connect a Facebook Page from a script — the same service the settings page uses. Prints the
webhook URL to paste in Meta's app dashboard as its last line (from SVARDESK_BASE_URL)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.channels.messenger.services import MessengerValidationError, connect_page
from svardesk.channels.messenger.views import webhook_url


class Command(BaseCommand):
    help = (
        "Connect a Facebook Page to the help desk (Messenger). Prints the webhook URL for "
        "Meta's app dashboard as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--page-id", required=True, help="The Facebook Page's id.")
        parser.add_argument("--page-token", required=True, help="A page access token.")
        parser.add_argument("--app-secret", required=True, help="The Meta app's secret.")
        parser.add_argument(
            "--verify-token", required=True, help="Your webhook verify token (any string)."
        )
        parser.add_argument("--name", default="", help="The channel's name in Svardesk.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            page = connect_page(
                actor=None,
                page_id=options["page_id"],
                page_token=options["page_token"],
                app_secret=options["app_secret"],
                verify_token=options["verify_token"],
                page_name=options["name"],
            )
        except MessengerValidationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Facebook Page {page.page_id} connected (channel {page.channel_id}). Paste this "
            "webhook URL and your verify token in Meta's app dashboard:"
        )
        self.stdout.write(webhook_url(page))
