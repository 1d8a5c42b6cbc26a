from typing import Any

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "svardesk.search"
    label = "search"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        connection_created.connect(
            _register_sqlite_functions, dispatch_uid="search-sqlite-functions"
        )


def _register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """SQLite's search triggers call these; PostgreSQL has them as SQL functions."""
    if connection.vendor == "sqlite":
        from svardesk.search.sqlite import register_functions

        register_functions(connection.connection)
