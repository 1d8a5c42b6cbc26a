"""`svardesk import_csv --type contacts|companies|tickets FILE [--map HEADER=PROPERTY ...]`

Columns are mapped by their headers (a property's internal name or its label, in English or
Swedish); `--map` maps the others (`--map "Kundnummer=external_id"`, or `HEADER=` to ignore
one). Unknown columns are reported on stderr and ignored. The file is read as a stream, in
batches; progress goes to stderr, and the last line on stdout is
`N created, M updated, K failed` (rows that found their record already as the file says
count as none of them). Failed rows are written, with their error, to a CSV file named on
stderr (or `--errors FILE`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from svardesk.imports import reader, services
from svardesk.imports.engine import run_job
from svardesk.imports.fields import fields_for, match_headers
from svardesk.imports.models import ImportJob, ImportObjectType, ImportStatus


class _DryRunDone(Exception):
    def __init__(self, job: ImportJob) -> None:
        self.job = job


class Command(BaseCommand):
    help = "Import contacts, companies or tickets from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--type", required=True, choices=ImportObjectType.values)
        parser.add_argument("file", help="CSV file (UTF-8, comma or semicolon separated)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=PROPERTY",
            help="map a column to a property by its internal name (empty: ignore the column)",
        )
        parser.add_argument("--errors", help="write failed rows here (default: DATA_DIR/imports/…)")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check and count every row, then undo everything",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress line")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        object_type = options["type"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            headers, _rows = reader.preview(path, rows=0)
        except reader.UnreadableFileError as error:
            raise CommandError(str(error)) from error
        mapping = self._mapping(object_type, headers, options["map"])
        problems = services.check_mapping(object_type, mapping)
        if problems:
            raise CommandError(" ".join(problems))
        ignored = [h for h, name in zip(headers, mapping, strict=True) if not name]
        if ignored:
            self.stderr.write(f"Ignored columns (no property; use --map): {', '.join(ignored)}")
        show = not options["no_progress"]
        if options["dry_run"]:
            try:
                with transaction.atomic():
                    job = self._run(path, object_type, headers, mapping, show)
                    raise _DryRunDone(job)
            except _DryRunDone as done:
                job = done.job
            self.stderr.write("Dry run: nothing was saved.")
        else:
            job = self._run(path, object_type, headers, mapping, show)
        if job.status == ImportStatus.FAILED:
            raise CommandError(job.error_message or "The import failed.")
        if job.failed and job.error_path:
            target = job.error_path
            if options["errors"]:
                shutil.copyfile(job.error_path, options["errors"])
                target = options["errors"]
            self.stderr.write(f"Failed rows and their errors: {target}")
        if job.unchanged:
            self.stderr.write(f"{job.unchanged} unchanged")
        self.stdout.write(f"{job.created} created, {job.updated} updated, {job.failed} failed")

    def _mapping(self, object_type: str, headers: list[str], pairs: list[str]) -> list[str]:
        known = {f.name for f in fields_for(object_type)}
        mapping = match_headers(headers, fields_for(object_type))
        for pair in pairs:
            header, sep, name = pair.partition("=")
            if not sep:
                raise CommandError(f"--map takes HEADER=PROPERTY, not {pair!r}")
            header, name = header.strip(), name.strip()
            if header not in headers:
                raise CommandError(f"--map: the file has no column {header!r}")
            if name and name not in known:
                raise CommandError(
                    f"--map: {object_type} have no property {name!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
            for index, existing in enumerate(mapping):
                if name and existing == name:
                    mapping[index] = ""  # the explicit mapping wins over a header match
            mapping[headers.index(header)] = name
        return mapping

    def _run(
        self,
        path: Path,
        object_type: str,
        headers: list[str],
        mapping: list[str],
        show: bool,
    ) -> ImportJob:
        job = services.create_job(
            actor=None,
            object_type=object_type,
            file_path=path,
            original_name=path.name,
            headers=headers,
            file_size=path.stat().st_size,
            mapping=mapping,
        )
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED)
        bar = _ProgressLine(self.stderr._out if show else None)
        job = run_job(job.pk, progress=bar.update)
        bar.close()
        return job


class _ProgressLine:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = 0.0
        self.is_tty = bool(stream) and getattr(stream, "isatty", lambda: False)()

    def update(self, job: ImportJob) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        # Redrawn in place on a terminal; a log (not a terminal) gets a line every 2 seconds.
        interval = 0.1 if self.is_tty else 2.0
        if now - self.drawn < interval and job.status != ImportStatus.DONE:
            return
        self.drawn = now
        total = job.total or 0
        done = job.rows_done
        width = 30
        filled = int(width * done / total) if total else width
        rate = done / max(now - self.started, 1e-6)
        line = (
            f"[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows"
            f"  {rate:,.0f} rows/s  {job.created:,} created {job.updated:,} updated"
            f" {job.failed:,} failed"
        )
        self.stream.write(("\r" if self.is_tty else "") + line + ("" if self.is_tty else "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.is_tty:
            self.stream.write("\n")
            self.stream.flush()
