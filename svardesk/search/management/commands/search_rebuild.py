"""`svardesk search_rebuild`: rebuild the ticket search index, with progress."""

from typing import Any

from django.core.management.base import BaseCommand

from svardesk.search.services import rebuild_search_index


class Command(BaseCommand):
    help = "Rebuild the ticket search index from the tickets and contacts as they are now."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(rebuild_search_index(progress=self.stdout.write))
