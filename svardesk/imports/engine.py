"""Running an import: the file is read as a stream, each row checked cell by cell, and the
rows applied in batches, each batch in one transaction together with the job's counters.

A row is applied completely or not at all: every cell is checked before anything is written,
and a batch the database refuses is applied again row by row, each in its own savepoint, so
one bad row fails alone. Counting: a row that creates a record is *created*, one that changes
a record it found is *updated*, one that finds its record already as the row says is
*unchanged* (neither), one with any error is *failed* and written to the error CSV.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import queue
import re
import sys
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connections, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from svardesk.core.exceptions import SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.imports import reader
from svardesk.imports.bulk import commit_without_waiting_for_disk
from svardesk.imports.fields import (
    OWNER,
    CellContext,
    CellError,
    ImportField,
    clean_cell,
    fields_for,
)
from svardesk.imports.models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

BATCH_SIZE = 1_000

Progress = Callable[[ImportJob], None]


class RowError(ValueError):
    """A row cannot be applied; the message goes to the error CSV."""


@dataclass
class Row:
    number: int  # 1 = the first data row
    raw: list[str]
    values: dict[str, Any]
    keys: frozenset[Any] = frozenset()  # what identifies its record (de-duplication)
    error: str = ""
    invalid: frozenset[str] = frozenset()  # the properties whose cells failed their check


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[tuple[Row, str]] = field(default_factory=list)

    def fail(self, row: Row, message: str) -> None:
        self.failed += 1
        self.errors.append((row, message))


class Importer:
    """Applies batches of checked rows of one record type. Subclasses implement `check`
    (cross-cell rules, no queries), `keys` and `apply`."""

    object_type = ""

    def __init__(
        self, context: CellContext, actor: Any, fields: list[ImportField] | None = None
    ) -> None:
        self.context = context
        self.actor = actor

    def check(self, values: dict[str, Any]) -> None:
        """Raise RowError for a row whose cells are each fine but not together."""

    def keys(self, values: dict[str, Any]) -> frozenset[Any]:
        return frozenset()

    def apply(self, rows: list[Row], tally: Tally) -> None:
        raise NotImplementedError


def cell_context(object_type: str) -> CellContext:
    from svardesk.crm.queries import crm_settings
    from svardesk.tickets.models import Pipeline, Stage

    users: dict[str, int] = {}
    user_model = get_user_model()
    people = user_model.objects.filter(is_active=True)
    if object_type == "tickets":  # only people who may own tickets
        from django.db.models import Q

        people = people.filter(Q(is_superuser=True) | Q(has_seat=True))
    for pk, email in people.values_list("pk", "email"):
        users[str(pk)] = pk
        users[email.lower()] = pk
    pipelines: dict[str, Any] = {}
    stages: dict[int, dict[str, Any]] = {}
    default_pipeline = None
    if object_type == "tickets":
        from django.utils import translation

        for pipeline in Pipeline.objects.order_by("display_order", "id"):
            default_pipeline = default_pipeline or pipeline
            pipelines.setdefault(str(pipeline.pk), pipeline)
            for language in ("en", "sv"):
                with translation.override(language):
                    pipelines.setdefault(str(pipeline.display_name).lower(), pipeline)
            pipelines.setdefault(pipeline.name.lower(), pipeline)
        for stage in Stage.objects.order_by("display_order", "id"):
            named = stages.setdefault(stage.pipeline_id, {})
            named.setdefault(str(stage.pk), stage)
            for language in ("en", "sv"):
                with translation.override(language):
                    named.setdefault(str(stage.display_name).lower(), stage)
            named.setdefault(stage.name.lower(), stage)
            if stage.builtin_key:
                named.setdefault(str(stage.builtin_key).lower(), stage)
    return CellContext(
        phone_region=crm_settings().default_phone_region or "SE",
        users=users,
        pipelines=pipelines,
        stages=stages,
        default_pipeline=default_pipeline,
    )


def importer_for(
    object_type: str, context: CellContext, actor: Any, fields: list[ImportField] | None = None
) -> Importer:
    from svardesk.imports.writers import IMPORTERS

    return IMPORTERS[object_type](context, actor, fields)


def read_row(
    number: int, raw: list[str], columns: list[ImportField | None], importer: Importer
) -> Row:
    """Check every mapped cell of the row; the row carries every error (joined) and the
    properties whose cells failed."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    invalid: set[str] = set()
    for index, column in enumerate(columns):
        if column is None or index >= len(raw):
            continue
        cell = raw[index]
        if not cell.strip():
            continue
        try:
            values[column.name] = clean_cell(column, cell, importer.context)
        except CellError as error:
            errors.append(f"{column.name}: {error}")
            invalid.add(column.name)
    row = Row(number=number, raw=raw, values=values)
    for column in columns:
        if column is None or not column.required or column.name in values:
            continue
        if column.name not in invalid:
            errors.append(f"{column.name}: {_('This value is required.')}")
            invalid.add(column.name)
    row.invalid = frozenset(invalid)
    if not errors:
        try:
            importer.check(values)
            row.keys = importer.keys(values)
        except RowError as error:
            errors.append(str(error))
    row.error = "; ".join(errors)
    return row


def required_missing(object_type: str, mapping: list[str]) -> list[ImportField]:
    """Required properties no column is mapped to."""
    return [f for f in fields_for(object_type) if f.required and f.name not in mapping]


def columns_of(
    object_type: str, mapping: list[str], fields: list[ImportField] | None = None
) -> list[ImportField | None]:
    by_name = {f.name: f for f in (fields if fields is not None else fields_for(object_type))}
    return [by_name.get(name) if name else None for name in mapping]


def error_path_for(job: ImportJob) -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"import-{job.pk}-errors.csv"


def _open_errors(job: ImportJob, headers: list[str]) -> Any:
    """The error CSV opened for appending, holding exactly the job's `failed` rows so far
    (a resumed job may have written rows of a batch that was then rolled back)."""
    path = Path(job.error_path) if job.error_path else error_path_for(job)
    kept: list[list[str]] = []
    if path.exists() and job.failed:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            existing = csv.reader(handle)
            next(existing, None)
            for row in existing:
                if len(kept) >= job.failed:
                    break
                kept.append(row)
    handle = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 - kept open
    writer = csv.writer(handle)
    writer.writerow([*headers, _("Error")])
    writer.writerows(kept)
    handle.flush()
    return handle, writer, path


_DONE = object()
CHUNK = 250
# While the checking thread runs, the writing thread's every database reply waits for the GIL
# that thread holds: up to Python's switch interval (5 ms) per wait, several waits per
# statement — 10 to 20 ms of wall a statement measured under an import. 1 ms made a
# 30,000-row import 12 % faster here (four runs each way).
SWITCH_INTERVAL_SECONDS = 0.001
_switch_lock = threading.Lock()
_switch_users = 0
_switch_before = 0.0


@contextlib.contextmanager
def short_gil_turns() -> Iterator[None]:
    """Python's thread switch interval shortened while at least one import's two threads run
    in this process (a task worker may run two imports at once); the last one out restores
    it."""
    global _switch_users, _switch_before
    with _switch_lock:
        if _switch_users == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_before, SWITCH_INTERVAL_SECONDS))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_before)


def checked_rows(
    rows: Iterator[list[str]],
    columns: list[ImportField | None],
    importer: Importer,
    *,
    skip: int = 0,
) -> Generator[Row, None, None]:
    """The file's rows after the first `skip`, each checked (`read_row`), read and checked
    in a second thread while this one writes: checking (phone numbers, addresses) is about
    half an import's own work, and it then overlaps the database's. Checking reads the
    database only for user-type custom values (the thread's own connection, closed at its
    end)."""
    chunks: queue.Queue[Any] = queue.Queue(maxsize=8)
    stop = threading.Event()
    language = translation.get_language()

    def produce() -> None:
        try:
            with translation.override(language):
                chunk: list[Row] = []
                for number, raw in enumerate(rows, start=1):
                    if stop.is_set():
                        return
                    if number <= skip:
                        continue
                    chunk.append(read_row(number, raw, columns, importer))
                    if len(chunk) >= CHUNK:
                        chunks.put(chunk)
                        chunk = []
                if chunk:
                    chunks.put(chunk)
            chunks.put(_DONE)
        except BaseException as error:  # handed to the writing thread, raised there
            chunks.put(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=produce, name="import-reader", daemon=True)
    with short_gil_turns():
        thread.start()
        try:
            while True:
                item = chunks.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            stop.set()
            while thread.is_alive():  # unblock a reader waiting to hand over a chunk
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.05)
            thread.join()


def run_job(job_id: int, *, progress: Progress | None = None) -> ImportJob:
    """Run (or resume) the job. A finished job is left alone; the rows it has done are
    skipped. Safe to call twice at once: each batch is counted only by the run whose
    `rows_done` still matches (the other stops)."""
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.is_finished or job.status == ImportStatus.MAPPING:
        return job
    if job.status == ImportStatus.QUEUED:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.QUEUED).update(
            status=ImportStatus.RUNNING, started_at=timezone.now()
        )
        job.refresh_from_db()
    try:
        if job.total is None:
            job.total = reader.count_rows(job.file_path)
            ImportJob.objects.filter(pk=job.pk).update(total=job.total)
        _run(job, progress)
    except (reader.UnreadableFileError, OSError, csv.Error) as error:
        logger.exception("import %s failed", job.pk)
        message = str(error) if isinstance(error, reader.UnreadableFileError) else repr(error)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, error_message=message, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def _run(job: ImportJob, progress: Progress | None) -> None:
    context = cell_context(job.object_type)
    importer = importer_for(job.object_type, context, job.created_by)
    columns = columns_of(job.object_type, list(job.mapping))
    with reader.open_csv(job.file_path) as (headers, rows):
        handle, writer, path = _open_errors(job, headers)
        checked: Generator[Row, None, None] | None = None
        try:
            if job.error_path != str(path):
                job.error_path = str(path)
                ImportJob.objects.filter(pk=job.pk).update(error_path=str(path))
            batch: list[Row] = []
            batch_keys: set[Any] = set()
            checked = checked_rows(rows, columns, importer, skip=job.rows_done)
            for row in checked:
                if row.keys & batch_keys:
                    # The same record twice in one batch: the first is written before the
                    # second is looked up.
                    if not _flush(job, importer, batch, writer, handle, progress):
                        return
                    batch, batch_keys = [], set()
                batch.append(row)
                batch_keys |= row.keys
                if len(batch) >= BATCH_SIZE:
                    if not _flush(job, importer, batch, writer, handle, progress):
                        return
                    batch, batch_keys = [], set()
            if batch and not _flush(job, importer, batch, writer, handle, progress):
                return
        finally:
            if checked is not None:
                checked.close()  # stops the reading thread before the file closes
            handle.close()
    finished = ImportJob.objects.filter(pk=job.pk, rows_done=job.rows_done).update(
        status=ImportStatus.DONE, finished_at=timezone.now(), total=job.rows_done
    )
    if finished:
        job.status = ImportStatus.DONE
        job.total = job.rows_done
        after_commit(_forget_upload, job.file_path)
        if progress:
            progress(job)


def _forget_upload(file_path: str) -> None:
    """An uploaded file (kept under DATA_DIR/imports/ until its import is done) holds
    personal data nobody needs any more: its failed rows are in the error CSV. A file the
    command read where it was is never touched."""
    path = Path(file_path)
    uploads = Path(settings.DATA_DIR).resolve() / "imports"
    # services.receive_upload names an upload by a random hex id: only such a file goes.
    if path.parent == uploads and re.fullmatch(r"[0-9a-f]{32}\.csv", path.name):
        path.unlink(missing_ok=True)


def _flush(
    job: ImportJob,
    importer: Importer,
    batch: list[Row],
    writer: Any,
    handle: Any,
    progress: Progress | None,
) -> bool:
    """Apply one batch and count it on the job, in one transaction. False when another run
    has counted these rows already (this run then stops)."""
    tally = Tally()
    with transaction.atomic():
        commit_without_waiting_for_disk()
        locked = ImportJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.rows_done != job.rows_done or locked.is_finished:
            return False
        good = []
        for row in batch:
            if row.error:
                tally.fail(row, row.error)
            else:
                good.append(row)
        _apply(importer, good, tally)
        tally.errors.sort(key=lambda item: item[0].number)
        for row, message in tally.errors:
            writer.writerow([*row.raw, message])
        handle.flush()
        job.rows_done += len(batch)
        job.created += tally.created
        job.updated += tally.updated
        job.unchanged += tally.unchanged
        job.failed += tally.failed
        ImportJob.objects.filter(pk=job.pk).update(
            rows_done=job.rows_done,
            created=job.created,
            updated=job.updated,
            unchanged=job.unchanged,
            failed=job.failed,
            updated_at=timezone.now(),
        )
    if progress:
        progress(job)
    return True


def _apply(importer: Importer, rows: list[Row], tally: Tally) -> None:
    """The batch at once; if the database refuses it, row by row (each in a savepoint)."""
    if not rows:
        return
    attempt = Tally()
    try:
        with transaction.atomic():
            importer.apply(rows, attempt)
    except (DatabaseError, SvardeskError, RowError) as error:
        if len(rows) == 1:
            tally.fail(rows[0], _row_message(error))
            return
        logger.info("import batch refused, applying row by row: %r", error)
        for row in rows:
            _apply(importer, [row], tally)
        return
    tally.created += attempt.created
    tally.updated += attempt.updated
    tally.unchanged += attempt.unchanged
    tally.failed += attempt.failed
    tally.errors.extend(attempt.errors)


def _row_message(error: Exception) -> str:
    if isinstance(error, RowError):
        return str(error)
    errors = getattr(error, "errors", None)
    if isinstance(errors, dict) and errors:
        return "; ".join(f"{name}: {message}" for name, message in errors.items())
    if isinstance(error, SvardeskError):
        return str(error)
    return _("The database refused this row.")


__all__ = ["BATCH_SIZE", "OWNER", "Importer", "Row", "RowError", "Tally", "run_job"]
