"""Every change to an import job: receiving a file, mapping its columns, starting it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from svardesk.core.exceptions import SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.imports import reader
from svardesk.imports.fields import ImportField, fields_for, match_headers
from svardesk.imports.models import ImportJob, ImportObjectType, ImportStatus

# The largest file the Settings page takes (the command reads files of any size).
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024


class ImportFileError(SvardeskError):
    """The uploaded file cannot be imported; the message says why."""


class ImportMappingError(SvardeskError):
    """The column mapping cannot be used; `errors` says what is wrong."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def imports_folder() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def receive_upload(*, actor: Any, upload: UploadedFile, object_type: str) -> ImportJob:
    """Keep an uploaded CSV under DATA_DIR/imports/ and make its job, its columns mapped by
    their headers. Raises ImportFileError for a file too large or not a CSV file (nothing
    is kept then)."""
    if object_type not in ImportObjectType.values:
        raise ImportFileError(_("Choose what the file holds."))
    limit = max_upload_bytes()
    if upload.size is not None and upload.size > limit:
        raise ImportFileError(
            _(
                "The file is larger than %(size)d MB. Split it, or import it with svardesk import_csv."
            )
            % {"size": limit // (1024 * 1024)}
        )
    name = Path(upload.name or "import.csv").name
    if not name.lower().endswith((".csv", ".txt")):
        raise ImportFileError(_("Choose a CSV file (.csv)."))
    path = imports_folder() / f"{uuid.uuid4().hex}.csv"
    size = 0
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            size += len(chunk)
            if size > limit:
                break
            handle.write(chunk)
    try:
        if size > limit:
            raise ImportFileError(
                _(
                    "The file is larger than %(size)d MB. Split it, or import it with svardesk import_csv."
                )
                % {"size": limit // (1024 * 1024)}
            )
        try:
            headers, _rows = reader.preview(path, rows=1)
        except reader.UnreadableFileError as error:
            raise ImportFileError(str(error)) from error
    except ImportFileError:
        path.unlink(missing_ok=True)
        raise
    return create_job(
        actor=actor,
        object_type=object_type,
        file_path=path,
        original_name=name,
        headers=headers,
        file_size=size,
    )


@transaction.atomic
def create_job(
    *,
    actor: Any,
    object_type: str,
    file_path: Path | str,
    original_name: str,
    headers: list[str],
    file_size: int = 0,
    mapping: list[str] | None = None,
) -> ImportJob:
    """A job waiting for its mapping (pre-filled from the headers unless given)."""
    if mapping is None:
        mapping = match_headers(headers, fields_for(object_type))
    return ImportJob.objects.create(
        object_type=object_type,
        file_path=str(Path(file_path).resolve()),
        original_name=original_name[:255],
        file_size=file_size,
        headers=headers,
        mapping=mapping,
        created_by=actor if getattr(actor, "pk", None) else None,
    )


def check_mapping(
    object_type: str, mapping: list[str], fields: list[ImportField] | None = None
) -> list[str]:
    """What is wrong with a mapping (an empty list when it can be used)."""
    names = {f.name: f for f in (fields if fields is not None else fields_for(object_type))}
    problems = []
    chosen = [name for name in mapping if name]
    unknown = [name for name in chosen if name not in names]
    if unknown:
        problems.append(_("Unknown properties: %(names)s.") % {"names": ", ".join(unknown)})
    twice = sorted({name for name in chosen if chosen.count(name) > 1})
    if twice:
        problems.append(
            _("Each property can be filled by one column only: %(names)s.")
            % {"names": ", ".join(twice)}
        )
    missing = [str(f.label) for f in names.values() if f.required and f.name not in chosen]
    if missing:
        problems.append(_("Map a column to: %(names)s.") % {"names": ", ".join(missing)})
    if not chosen:
        problems.append(_("Map at least one column to a property."))
    return problems


@transaction.atomic
def start_job(job: ImportJob, *, actor: Any, mapping: list[str]) -> ImportJob:
    """Save the mapping and queue the job (a background task runs it). Raises
    ImportMappingError for a mapping that cannot be used; a job already started is left as
    it is."""
    locked = ImportJob.objects.select_for_update().get(pk=job.pk)
    if locked.status != ImportStatus.MAPPING:
        return locked
    mapping = list(mapping) + [""] * (len(locked.headers) - len(mapping))
    problems = check_mapping(locked.object_type, mapping[: len(locked.headers)])
    if problems:
        raise ImportMappingError(" ".join(problems))
    locked.mapping = mapping[: len(locked.headers)]
    locked.status = ImportStatus.QUEUED
    locked.save(update_fields=["mapping", "status", "updated_at"])
    after_commit(_enqueue, locked.pk)
    return locked


def _enqueue(job_id: int) -> None:
    from svardesk.imports.tasks import run_import_job

    run_import_job(job_id)
