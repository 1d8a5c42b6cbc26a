"""Timestamps come back from PostgreSQL through psycopg's C loader, with exactly the values
Django's own loader gives (core/postgres_loaders.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

VALUES = [
    "2026-12-08 00:31:20.580233+00",
    "2026-06-30 22:00:00+02",  # another offset, as a value typed in SQL may carry
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2024-02-29 12:00:00.5+00",
]


def _read(cursor_values: list[str]) -> list[dt.datetime]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS v(value, n) "
            "ORDER BY n",
            [cursor_values],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_timestamps_are_read_by_the_c_loader_with_djangos_values() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's loaders")
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(
        connection.connection.adapters.types["timestamptz"].oid, 0
    )
    assert loader.__name__ == "UtcTimestamptzLoader"
    fast = _read(VALUES)

    register_tzloader(connection.timezone, connection.connection)  # Django's own, as before
    try:
        django = _read(VALUES)
    finally:
        connection.connection.adapters.register_loader("timestamptz", loader)

    assert fast == django
    assert all(value.tzinfo is dt.UTC for value in fast)
    assert fast[1] == dt.datetime(2026, 6, 30, 20, 0, tzinfo=dt.UTC)
    assert fast[0].microsecond == 580233
