"""`svardesk create_token --user EMAIL --name NAME --scopes S1,S2`

Creates a private app acting as the user and prints its token as the last line of stdout
(the only time it is shown; only its hash is stored). For automation and tests; Settings →
Integrations → Private apps does the same for people."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from svardesk.accounts.queries import find_user_for_sign_in
from svardesk.api import tokens
from svardesk.api.scopes import SCOPE_NAMES, SCOPES


class Command(BaseCommand):
    help = "Create a private-app token acting as a user and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, metavar="EMAIL", help="the user it acts as")
        parser.add_argument("--name", required=True, help="the private app's name")
        parser.add_argument(
            "--scopes",
            required=True,
            metavar="S1,S2",
            help="comma-separated; one or more of: " + ", ".join(name for name, _l in SCOPES),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = find_user_for_sign_in(options["user"])
        if user is None:
            raise CommandError(f"No user with the email address {options['user']}.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        unknown = [s for s in scopes if s not in SCOPE_NAMES]
        if unknown:
            raise CommandError(
                f"Unknown scopes: {', '.join(unknown)}. "
                f"Choose from: {', '.join(name for name, _l in SCOPES)}."
            )
        try:
            token, raw = tokens.create_token(
                user=user, name=options["name"], scopes=scopes, actor=None
            )
        except tokens.TokenError as error:
            raise CommandError(str(error)) from error
        self.stderr.write(
            f"Private app {token.name!r} acts as {user.email} with {', '.join(token.scopes)}. "
            "The token is shown only now:"
        )
        self.stdout.write(raw)
