"""`svardesk demo_inbound call|messenger`: send the demo's calls number or Facebook Page what
the provider would — signed webhooks over HTTP to the running server — so a voicemail or a
Messenger message becomes a ticket without a Twilio account or a Facebook app."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.demo.inbound import DemoInboundError, simulate_call, simulate_messenger_message


class Command(BaseCommand):
    help = (
        "Send the demo's channels a call or a Messenger message as the provider would (signed "
        "webhooks to SVARDESK_BASE_URL); `svardesk serve` must be running there."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        kinds = parser.add_subparsers(dest="kind", required=True)
        call = kinds.add_parser("call", help="A call to the demo number.")
        call.add_argument("--from", dest="caller", default="+46701234567", help="The caller.")
        call.add_argument(
            "--transcript",
            default="Hi, this is about my order from last week. Please call me back.",
            help="What the caller said on the voicemail.",
        )
        call.add_argument("--missed", action="store_true", help="No voicemail: a missed call only.")
        messenger = kinds.add_parser("messenger", help="A message to the demo Facebook Page.")
        messenger.add_argument("text", nargs="?", default="Hi! Is my order on its way?")
        messenger.add_argument(
            "--psid", default="7000000000000001", help="The person's page-scoped id."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["kind"] == "call":
                sent = simulate_call(
                    caller=options["caller"],
                    transcript=options["transcript"],
                    missed=options["missed"],
                )
            else:
                sent = [simulate_messenger_message(psid=options["psid"], text=options["text"])]
        except DemoInboundError as exc:
            raise CommandError(str(exc)) from exc
        for each in sent:
            self.stdout.write(f"{each.status} {each.url}")
