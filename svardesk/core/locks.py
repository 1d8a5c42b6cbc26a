"""Transaction-long locks on names (PostgreSQL advisory locks)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection


def lock_keys(lock_class: int, keys: Iterable[str]) -> None:
    """On PostgreSQL, hold a lock per key until the transaction ends, so that one transaction
    at a time works on a key (makes the contact for a new address, say): one statement, the
    locks taken in sorted order so two transactions never deadlock on them. `lock_class`
    keeps one module's keys apart from another's. SQLite runs one writing transaction at a
    time anyway: nothing to do."""
    wanted = sorted(set(keys))
    if connection.vendor != "postgresql" or not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(k))"
            " FROM (SELECT unnest(%s::text[]) AS k ORDER BY 1) AS keys",
            [lock_class, wanted],
        )
