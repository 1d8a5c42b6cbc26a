"""Inserting many plain rows at once: PostgreSQL's COPY, else Django's bulk_create.

An import writes a thousand contacts, their addresses, numbers and timeline rows per batch;
on PostgreSQL, COPY (with ids drawn from the table's sequence first, when the caller needs
them) skips building a model instance and a parameterised INSERT per row. A column the row
does not name gets what Django would give it: `auto_now`/`auto_now_add` the current time,
else the field's default (an empty string for text, NULL where allowed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import Lookup
from django.utils import timezone


def insert_rows(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, with_ids: bool = False
) -> list[int]:
    """Insert `rows` (attribute name → value, e.g. "contact_id") into the model's table in
    one statement. Returns the new ids, in order, when `with_ids`."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**row) for row in rows]
        model._default_manager.bulk_create(objects)
        return [obj.pk for obj in objects] if with_ids else []
    return _copy(model, rows, with_ids=with_ids)


def _copy(
    model: type[models.Model], rows: Sequence[Mapping[str, Any]], *, with_ids: bool
) -> list[int]:
    meta = model._meta
    pk = meta.pk
    if pk is None or meta.db_table is None:
        raise TypeError(f"{model} has no table")
    now = timezone.now()
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if with_ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, pk.column, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
        columns = ([pk] if with_ids else []) + fields
        names = ", ".join(connection.ops.quote_name(str(f.column)) for f in columns)
        table = connection.ops.quote_name(meta.db_table)
        fixed = {f.attname: _missing(f, now) for f in fields}
        # psycopg adapts text, numbers, booleans and datetimes itself; JSON needs Django's.
        prepared = [(f, f.get_internal_type() not in _PLAIN_TYPES) for f in fields]
        with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for index, row in enumerate(rows):
                values: list[Any] = [ids[index]] if with_ids else []
                for field, prepare in prepared:
                    value = row[field.attname] if field.attname in row else fixed[field.attname]
                    values.append(field.get_db_prep_save(value, connection) if prepare else value)
                copy.write_row(values)
    return ids


_PLAIN_TYPES = frozenset(
    {
        "CharField",
        "TextField",
        "EmailField",
        "SlugField",
        "BooleanField",
        "IntegerField",
        "BigIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "SmallIntegerField",
        "ForeignKey",
        "DateTimeField",
    }
)


def _missing(field: models.Field[Any, Any], now: Any) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    return field.get_default()  # the default, "" for a text column, else None


class AnyOf(Lookup):
    """`AnyOf(F("column"), values)` in a filter: the column equals one of `values`. On
    PostgreSQL one array parameter (`column = ANY(%s)`) instead of Django's `IN (%s, …)` with a
    parameter per value: a batch looks up 1,000 keys at a time, and preparing and quoting
    1,000 parameters (Django, then psycopg) was ~8 % of an import's own time. Elsewhere IN."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[Any]:
        return list(self.rhs)  # each value is prepared by the column's field (`_values`)

    def _values(self, connection: Any) -> list[Any]:
        field = self.lhs.output_field
        return [field.get_db_prep_value(value, connection) for value in self.rhs]

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = self._values(connection)
        if not values:
            return "1 = 0", []
        placeholders = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({placeholders})", [*lhs_params, *values]

    def as_postgresql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, self._values(connection)]


@contextlib.contextmanager
def plain_index_lookups() -> Iterator[None]:
    """Look a batch's keys up (`column = ANY(1,000 values)`) through btree indexes only.
    With fresh statistics PostgreSQL may pick a trigram GIN index on the same column (pg_trgm
    answers `=` too) and probe it once per value in a bitmap: 6 to 10 s for 1,000 addresses
    where the btree takes milliseconds. GIN is reachable only through bitmap scans, so they
    are off for the lookups (inside the batch's transaction) and on again after. Sequential
    scans are off too: with statistics older than the import (a fresh database, a table that
    grew tenfold since autovacuum last looked) the planner took 1,000 probes for dearer than
    reading the whole table, 25-60 ms a batch against 2-4 ms through the index."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(_SCANS, ["off", "off"])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(_SCANS, ["on", "on"])


_SCANS = "SELECT set_config('enable_bitmapscan', %s, true), set_config('enable_seqscan', %s, true)"


def commit_without_waiting_for_disk() -> None:
    """Inside a batch's transaction on PostgreSQL: its commit returns before the WAL reaches
    the disk (`synchronous_commit = off` for this transaction only). Safe for an import: the
    batch and the job's counters commit together, so a crash that loses the last batches
    loses their counts with them, and the job resumes from the rows its counters name. The
    database stays consistent (this is not fsync off). Saves one disk flush per batch."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
