"""Writing many rows fast: COPY on PostgreSQL, batched inserts elsewhere, indexes rebuilt.

Only the demo loader uses this. Everything runs inside the caller's transaction, and both
databases roll DDL back, so a failed load leaves tables, indexes and constraints as they
were. The one exception is asked for: on PostgreSQL the dropped indexes can be recorded as
pending instead, committed with the rows, and built afterwards on several connections at
once (`build_pending_indexes`), which a transaction's single connection cannot do.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.deletion import get_candidate_relations_to_delete

from svardesk.demo.models import PendingIndex
from svardesk.search.normalise import tsvector_words, word_set
from svardesk.search.postgres import WORDS_ROW_TRIGGERS, WORDS_TABLE
from svardesk.tickets.models import Source, Ticket, TicketEvent, TicketEventKind

Progress = Callable[[str], None]
Row = tuple[Any, ...]

PROGRESS_EVERY = 100_000
BATCH_SIZE = 5_000
# Below this many new rows, keeping indexes and foreign keys up to date row by row is cheaper
# than rebuilding them.
REBUILD_THRESHOLD = 50_000
# Sources where an agent typed the ticket in, so its "created" event has an actor.
AGENT_SOURCES = (Source.MANUAL, Source.CALL)


def _quiet(message: str) -> None:
    """Progress sink that drops every message."""


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model: type[models.Model]) -> str:
    return _quote(model._meta.db_table)


def max_id(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(m=models.Max("pk"))["m"] or 0


def _progress_line(label: str, done: int, total: int, started: float) -> str:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    return f"{label}: {done:,} / {total:,} ({elapsed:.1f}s, {rate:,.0f}/s)"


def limit_lock_waits(seconds: int) -> None:
    """Within the current transaction, fail a statement that waits longer than `seconds` for
    a lock (PostgreSQL; SQLite has its own busy timeout)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{seconds}s"])


def is_lock_timeout(exc: BaseException) -> bool:
    # SQLSTATE 55P03 lock_not_available, raised when lock_timeout expires.
    return getattr(exc.__cause__, "sqlstate", None) == "55P03"


# --- Emptying -------------------------------------------------------------------------------


def _reverse_relations(model: type[models.Model]) -> list[Any]:
    # Hidden ones (related_name="+") included, as Django's own delete collector does.
    return list(get_candidate_relations_to_delete(model._meta))


def plan_emptying(
    roots: Iterable[type[models.Model]],
) -> tuple[list[type[models.Model]], dict[type[models.Model], list[str]]]:
    """What emptying `roots` takes: the models emptied entirely (the roots and whatever
    cascades from them through a required foreign key), children first; and the models
    losing only the rows that point at them through a nullable cascading key, with those
    keys' names (a notification may or may not be about a ticket)."""
    whole: list[type[models.Model]] = []
    partly: dict[type[models.Model], list[str]] = {}

    def visit(model: type[models.Model]) -> None:
        if model in whole:
            return
        for relation in _reverse_relations(model):
            child = relation.related_model
            if relation.on_delete is not models.CASCADE or child is model:
                continue
            if relation.field.null:
                partly.setdefault(child, []).append(relation.field.name)
            else:
                visit(child)
        whole.append(model)

    for root in roots:
        visit(root)
    return whole, {model: keys for model, keys in partly.items() if model not in whole}


def empty_tables(roots: Iterable[type[models.Model]], *, progress: Progress = _quiet) -> list[str]:
    """Delete every row of `roots`, applying the models' on_delete rules in bulk; returns
    the tables emptied.

    Rows cascading through a required key go with their tables; rows cascading through a
    nullable key are deleted through the ORM (few: notifications); SET_NULL references from
    other tables (a conversation's ticket) become NULL with one UPDATE each. Then TRUNCATE on
    PostgreSQL, DELETE elsewhere, identities restarted so ids start at 1 again. Any other
    rule (PROTECT, …) makes the whole delete go through the ORM, which enforces it.
    """
    whole, partly = plan_emptying(roots)
    names = [model._meta.db_table for model in whole]
    nulled = [
        relation
        for model in whole
        for relation in _reverse_relations(model)
        if relation.related_model not in whole and relation.on_delete is not models.CASCADE
    ]
    if any(relation.on_delete is not models.SET_NULL for relation in nulled):
        progress("reset: another table protects these rows; deleting through the ORM")
        for model in whole:
            model._default_manager.all().delete()
        return names
    with transaction.atomic():
        for model, keys in partly.items():
            pointing = Q()
            for key in keys:
                pointing |= Q(**{f"{key}__isnull": False})
            model._base_manager.filter(pointing).delete()
        for relation in nulled:
            key = relation.field.name
            relation.related_model._base_manager.filter(**{f"{key}__isnull": False}).update(
                **{key: None}
            )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                _truncate_postgresql(cursor, names)
            elif connection.vendor == "sqlite":
                _delete_sqlite(cursor, whole)
            else:
                for name in names:
                    cursor.execute(f"DELETE FROM {_quote(name)}")  # noqa: S608
        connection.check_constraints()
    return names


def _delete_sqlite(cursor: Any, whole: Sequence[type[models.Model]]) -> None:
    # SQLite deletes row by row here (no truncate optimisation for tables other tables'
    # keys point at), updating every index: drop them first and recreate them on the empty
    # table. Keep those on keys to the table itself (a ticket merged into another): without
    # them each deleted row would scan the table for rows pointing at it.
    for model in whole:
        table = model._meta.db_table
        self_keys = {
            f.column
            for f in model._meta.concrete_fields
            if f.is_relation and f.related_model is model
        }
        dropped: list[str] = []
        for name, definition in _secondary_schema(cursor, table)[1]:
            cursor.execute(f"PRAGMA index_info({name})")
            first_column = cursor.fetchone()
            if first_column and first_column[2] in self_keys:
                continue
            cursor.execute(f"DROP INDEX {name}")
            dropped.append(definition)
        cursor.execute(f"DELETE FROM {_quote(table)}")  # noqa: S608
        for definition in dropped:
            cursor.execute(definition)
    names = [model._meta.db_table for model in whole]
    marks = ", ".join(["%s"] * len(names))
    cursor.execute(f"DELETE FROM sqlite_sequence WHERE name IN ({marks})", names)  # noqa: S608


def _truncate_postgresql(cursor: Any, names: Sequence[str]) -> None:
    # TRUNCATE refuses tables that other tables' foreign keys point at, however empty the
    # references; they are all NULL by now, so drop those keys and re-add them afterwards.
    marks = ", ".join(["%s::regclass"] * len(names))
    cursor.execute(
        "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "  # noqa: S608
        f"FROM pg_constraint WHERE contype = 'f' AND confrelid IN ({marks}) "
        f"AND conrelid NOT IN ({marks}) ORDER BY 1, 2",
        [*names, *names],
    )
    foreign_keys = cursor.fetchall()
    if foreign_keys:
        connection.check_constraints()  # no ALTER TABLE while deferred checks are pending
    for table, name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    cursor.execute(f"TRUNCATE {', '.join(_quote(n) for n in names)} RESTART IDENTITY")
    for table, name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


# --- Loading --------------------------------------------------------------------------------


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    label: str,
    total: int,
    progress: Progress = _quiet,
) -> int:
    """Stream `rows` into `model`'s table: COPY on PostgreSQL, executemany in batches of
    BATCH_SIZE elsewhere. Ids come from the table's own sequence. Returns the row count."""
    column_list = ", ".join(_quote(c) for c in columns)
    started = time.perf_counter()
    done = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {_table(model)} ({column_list}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    done += 1
                    if done % PROGRESS_EVERY == 0:
                        progress(_progress_line(label, done, total, started))
        else:
            adapt = connection.ops.adapt_datetimefield_value
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {_table(model)} ({column_list}) VALUES ({marks})"  # noqa: S608
            batch: list[Row] = []
            for row in rows:
                batch.append(tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row))
                if len(batch) == BATCH_SIZE:
                    cursor.executemany(sql, batch)
                    done += len(batch)
                    batch.clear()
                    if done % PROGRESS_EVERY == 0:
                        progress(_progress_line(label, done, total, started))
            if batch:
                cursor.executemany(sql, batch)
                done += len(batch)
    if done % PROGRESS_EVERY or not done:
        progress(_progress_line(label, done, total, started))
    return done


class _WordCache:
    """Folded word sets of text lines, remembered: demo descriptions are greetings, template
    bodies and sign-offs, line by line the same again and again. The words of a text are
    the union of its lines' words (a line break folds to a word boundary)."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._lines: dict[str, frozenset[str]] = {}

    def words(self, text: str) -> set[str]:
        found: set[str] = set()
        cache = self._lines
        for line in text.split("\n"):
            words = cache.get(line)
            if words is None:
                if len(cache) > self.LIMIT:
                    cache.clear()
                words = cache[line] = frozenset(word_set(line))
            found |= words
        return found


def insert_tickets_with_words(
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    total: int,
    progress: Progress = _quiet,
) -> int:
    """insert_rows for tickets on PostgreSQL, writing each ticket's search words
    (search_ticket_words) from Python alongside, instead of letting the trigger fold every
    ticket's text in PL/pgSQL (about 10x slower). Ids are reserved from the table's sequence
    up front, so both tables' rows carry them; rows go in chunks of PROGRESS_EVERY, one COPY
    for the tickets, one for their words. `columns` must hold "name" and "description"."""
    name_at, description_at = columns.index("name"), columns.index("description")
    table = _table(Ticket)
    column_list = ", ".join(_quote(c) for c in ("id", *columns))
    cache = _WordCache()
    started = time.perf_counter()
    done = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [Ticket._meta.db_table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT nextval(%s)", [sequence])
        next_id = cursor.fetchone()[0]
        if total > 1:
            cursor.execute("SELECT setval(%s, %s)", [sequence, next_id + total - 1])
        # PostgreSQL refuses to ALTER a table with deferred FK checks still queued.
        connection.check_constraints()
        for trigger in WORDS_ROW_TRIGGERS:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        raw = cursor.cursor
        iterator = iter(rows)
        while True:
            chunk = []
            for row in iterator:
                chunk.append((next_id, *row))
                next_id += 1
                if len(chunk) == PROGRESS_EVERY:
                    break
            if not chunk:
                break
            if done + len(chunk) > total:  # beyond the reserved ids
                raise RuntimeError("more ticket rows than announced")
            with raw.copy(f"COPY {table} ({column_list}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
            with raw.copy(f"COPY {WORDS_TABLE} (ticket_id, name, body) FROM STDIN") as copy:
                for row in chunk:
                    name_words = cache.words(row[1 + name_at])
                    body_words = name_words | cache.words(row[1 + description_at])
                    copy.write_row((row[0], tsvector_words(name_words), tsvector_words(body_words)))
            done += len(chunk)
            progress(_progress_line("tickets", done, total, started))
        connection.check_constraints()
        for trigger in WORDS_ROW_TRIGGERS:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
    return done


def create_ticket_events(*, after_id: int, progress: Progress = _quiet) -> int:
    """Give every ticket with id > `after_id` its "created" timeline row, as create_ticket
    writes it: actor (the owner when an agent typed the ticket in), data {"source": …}, the
    ticket's creation time. One INSERT … SELECT per 100,000 tickets: the rows follow from
    the tickets' own columns, so shipping them through Python would only add a round trip.
    """
    if connection.vendor == "postgresql":
        data = "jsonb_build_object('source', source)"
    else:
        data = "json_object('source', source)"
    agent_sources = ", ".join(f"'{source}'" for source in AGENT_SOURCES)
    sql = (
        f"INSERT INTO {_table(TicketEvent)} (ticket_id, actor_id, kind, data, created_at) "  # noqa: S608
        f"SELECT id, CASE WHEN source IN ({agent_sources}) THEN owner_id END, "
        f"'{TicketEventKind.CREATED}', {data}, created_at "
        f"FROM {_table(Ticket)} WHERE id > %s AND id <= %s ORDER BY id"
    )
    last_id = max_id(Ticket)
    total = Ticket.objects.filter(pk__gt=after_id).count()
    started = time.perf_counter()
    created = 0
    with connection.cursor() as cursor:
        low = after_id
        while low < last_id:
            high = min(low + PROGRESS_EVERY, last_id)
            cursor.execute(sql, [low, high])
            created += cursor.rowcount
            low = high
            progress(_progress_line("events", created, total, started))
    return created


Definitions = list[tuple[str, str]]  # (quoted name, SQL definition)


def _secondary_schema(cursor: Any, table: str) -> tuple[Definitions, Definitions]:
    """The table's foreign keys and its indexes that back no constraint (so not the primary
    key, not unique constraints)."""
    if connection.vendor == "sqlite":
        # SQLite's foreign keys are part of the table; its automatic indexes have no SQL.
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s "
            "AND sql IS NOT NULL ORDER BY name",
            [table],
        )
        return [], [(_quote(name), sql) for name, sql in cursor.fetchall()]
    cursor.execute(
        "SELECT quote_ident(conname), pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        "SELECT quote_ident(c.relname), pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname",
        [table],
    )
    return foreign_keys, cursor.fetchall()


@contextmanager
def indexes_rebuilt_after(
    models_: Sequence[type[models.Model]],
    *,
    new_rows: int,
    timings: dict[str, float],
    progress: Progress = _quiet,
    tables: Sequence[str] = (),
    deferred: list[PendingIndex] | None = None,
) -> Iterator[None]:
    """For a load large next to what the tables hold, drop their secondary indexes (and on
    PostgreSQL their foreign keys) for the duration of the block and recreate them after.
    On PostgreSQL with `deferred`, the indexes are not built here but added to that list,
    for the caller to record (`record_pending_indexes`) and build after its commit.

    Building an index once is far cheaper than updating it a million times in random order,
    and re-adding a foreign key checks all rows in one join instead of queueing a deferred
    check per row (the schema's FKs are DEFERRABLE INITIALLY DEFERRED: a million-row COPY
    otherwise spends most of its time in COMMIT). Primary keys and unique constraints stay.
    Must run inside a transaction; both databases roll DDL back, so a failed block restores
    everything. `tables`: other tables (no model) whose indexes go the same way.
    """
    if connection.vendor not in ("postgresql", "sqlite") or new_rows < REBUILD_THRESHOLD:
        yield
        return
    existing = sum(model._default_manager.count() for model in models_)
    if existing > new_rows:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("indexes_rebuilt_after() needs a transaction")
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        # PostgreSQL refuses to ALTER a table with deferred FK checks still queued (from
        # the users and teams this transaction created): run those checks now.
        connection.check_constraints()
    saved: list[tuple[str, Definitions, Definitions]] = []
    with connection.cursor() as cursor:
        for table in [model._meta.db_table for model in models_] + list(tables):
            foreign_keys, indexes = _secondary_schema(cursor, table)
            for name, _definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {_quote(table)} DROP CONSTRAINT {name}")
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
            saved.append((table, foreign_keys, indexes))
    timings["indexes"] = timings.get("indexes", 0.0) + time.perf_counter() - started

    yield

    started = time.perf_counter()
    to_defer = deferred if connection.vendor == "postgresql" else None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _room_to_build(cursor)
        for table, foreign_keys, indexes in saved:
            for name, definition in indexes:
                if to_defer is not None:
                    to_defer.append(PendingIndex(name=name, table=table, definition=definition))
                else:
                    cursor.execute(definition)
            for name, definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {_quote(table)} ADD CONSTRAINT {name} {definition}")
            fk_note = f" and {len(foreign_keys)} foreign keys" if foreign_keys else ""
            done = "to build after the commit" if to_defer is not None else "rebuilt"
            progress(
                f"{table}: {len(indexes)} indexes {done}{fk_note}"
                f" ({time.perf_counter() - started:.1f}s)"
            )
    timings["indexes"] += time.perf_counter() - started


def _room_to_build(cursor: Any) -> None:
    """Room to sort (GIN builds), and B-tree builds shared with parallel workers."""
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")


def record_pending_indexes(deferred: Sequence[PendingIndex]) -> None:
    """Record what `indexes_rebuilt_after(deferred=…)` left to build, in the caller's
    transaction: the rows commit with them, so no index is forgotten however the build after
    the commit ends."""
    PendingIndex.objects.bulk_create(deferred, ignore_conflicts=True)


def build_pending_indexes(
    *, progress: Progress = _quiet, connections: int | None = None, lock_timeout_seconds: int = 60
) -> int:
    """Build every recorded pending index, the largest GIN builds first, on `connections`
    connections at once (default: one per CPU, at least two; PostgreSQL 15 builds a GIN
    index in one process, so building several at once is what uses the other cores). Each
    build and the deletion of its record are one transaction. Inside a caller's transaction
    the indexes are built there, one after another: other connections could neither see its
    rows nor get past its locks. Returns how many were built."""
    if connection.vendor != "postgresql":
        return 0
    pending = list(PendingIndex.objects.all())
    if not pending:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
            [sorted({index.table for index in pending})],
        )
        table_bytes = dict(cursor.fetchall())
    pending.sort(
        key=lambda index: (" USING gin " in index.definition, table_bytes.get(index.table, 0)),
        reverse=True,
    )
    started = time.perf_counter()

    def build(index: PendingIndex) -> None:
        _build_pending_index(index, lock_timeout_seconds=lock_timeout_seconds)
        progress(f"{index.table}: built {index.name} ({time.perf_counter() - started:.1f}s)")

    workers = connections or max(2, os.cpu_count() or 1)
    if connection.in_atomic_block or workers == 1:
        for index in pending:
            build(index)
        return len(pending)

    def build_in_own_connection(index: PendingIndex) -> None:
        try:
            build(index)
        finally:
            connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=min(workers, len(pending))) as pool:
        for _done in pool.map(build_in_own_connection, pending):
            pass
    return len(pending)


def _build_pending_index(index: PendingIndex, *, lock_timeout_seconds: int) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        limit_lock_waits(lock_timeout_seconds)
        _room_to_build(cursor)
        cursor.execute("SELECT to_regclass(%s)", [index.name])
        if cursor.fetchone()[0] is None:  # not built by an earlier, interrupted run
            cursor.execute(index.definition)
        PendingIndex.objects.filter(pk=index.pk).delete()


def analyze_tables(models_: Sequence[type[models.Model]], extra: Sequence[str] = ()) -> None:
    """Refresh planner statistics after a bulk load. Outside a transaction PostgreSQL also
    vacuums, which fills the visibility map so counts can use index-only scans. `extra`:
    other tables (no model), by name."""
    tables = [_table(model) for model in models_] + [_quote(name) for name in extra]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            cursor.execute(f"{verb} {', '.join(tables)}")
        else:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
