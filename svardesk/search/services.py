"""Keeping the search index whole. PostgreSQL's indexes are expression indexes the database
maintains itself; SQLite's FTS5 tables follow tickets and contacts through triggers, and
can be rebuilt from scratch here (incrementally, with progress) if they were ever lost."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import connection, transaction

Progress = Callable[[str], None]
BATCH = 20_000


def _quiet(message: str) -> None:
    """Progress sink that drops every message."""


def fill_sqlite_index(*, progress: Progress = _quiet) -> tuple[int, int]:
    """Index every ticket and contact into the (empty) FTS5 tables, one id range at a time.
    Returns (tickets, contacts) indexed."""
    from svardesk.search import sqlite

    counts = []
    with connection.cursor() as cursor:
        for table, statements in (
            ("tickets_ticket", [sqlite.FILL_TICKETS]),
            ("crm_contact", sqlite.FILL_CONTACTS),
        ):
            cursor.execute(f"SELECT COALESCE(MAX(id), 0), COUNT(*) FROM {table}")  # noqa: S608
            last_id, total = cursor.fetchone()
            started, low = time.perf_counter(), 0
            while low < last_id:
                high = low + BATCH
                for statement in statements:
                    cursor.execute(statement, [low, high])
                low = high
                progress(
                    f"search index, {table}: up to id {min(high, last_id):,} of {last_id:,} "
                    f"({time.perf_counter() - started:.1f}s)"
                )
            counts.append(total)
    return counts[0], counts[1]


def rebuild_search_index(*, progress: Progress = _quiet) -> str:
    """Rebuild the search index from the tickets and contacts as they are now."""
    if connection.vendor == "sqlite":
        from svardesk.search import sqlite

        with transaction.atomic(), connection.cursor() as cursor:
            for statement in sqlite.EMPTY:
                cursor.execute(statement)
            tickets, contacts = fill_sqlite_index(progress=progress)
        return f"Indexed {tickets:,} tickets and {contacts:,} contacts."
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The search indexes as the migrations left them (search_*), by name.
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename IN ('tickets_ticket', 'crm_contact') "
                "AND indexname LIKE 'search\\_%%' ORDER BY indexname"
            )
            names = [row[0] for row in cursor.fetchall()]
            for name in names:
                progress(f"search index: rebuilding {name}")
                cursor.execute(f'REINDEX INDEX "{name}"')
        return "Rebuilt the PostgreSQL search indexes."
    return "No search index on this database."
