"""`svardesk connect_form NAME`: create a form (Email, Name, Subject, Description) and print
its page's absolute address as the last line (from SVARDESK_BASE_URL)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from svardesk.channels.forms import conf
from svardesk.channels.forms.exceptions import FormValidationError
from svardesk.channels.forms.models import FormLanguage
from svardesk.channels.forms.services import create_form


class Command(BaseCommand):
    help = (
        "Create a web form whose messages become tickets. Prints the form page's address "
        "(SVARDESK_BASE_URL + /forms/<key>/) as the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The form's name, shown as its title.")
        parser.add_argument(
            "--language",
            choices=FormLanguage.values,
            default=FormLanguage.ENGLISH,
            help="The form's language (visitors can switch).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            form = create_form(actor=None, name=options["name"], language=options["language"])
        except FormValidationError as exc:
            raise CommandError(str(exc)) from exc
        path = reverse("forms_channel:page", args=[form.public_key])
        script = reverse("forms_channel:embed", args=[form.public_key])
        self.stderr.write(f'Embed: <script src="{conf.base_url()}{script}" async></script>')
        self.stdout.write(f"{conf.base_url()}{path}")
