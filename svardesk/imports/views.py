"""Settings → Import (super admins): upload a CSV, map its columns with a preview, start the
background job, watch its progress, download the failed rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from django import forms
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.core.decorators import super_admin_required
from svardesk.core.shortcuts import found, render_settings
from svardesk.imports import queries, reader, services
from svardesk.imports.engine import cell_context, columns_of, importer_for, read_row
from svardesk.imports.fields import fields_for
from svardesk.imports.models import ImportJob, ImportObjectType, ImportStatus

SECTION = "import"
PREVIEW_ROWS = 5


class UploadForm(forms.Form):
    object_type = forms.ChoiceField(
        label=_("What does the file hold?"), choices=ImportObjectType.choices
    )
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, comma or semicolon separated, with column names on the first line."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = services.receive_upload(
                    actor=request.user,
                    upload=form.cleaned_data["file"],
                    object_type=form.cleaned_data["object_type"],
                )
            except services.ImportFileError as error:
                form.add_error("file", str(error))
            else:
                return redirect("imports:job", job.pk)
        status = 422
    return render_settings(
        request,
        "imports/import.html",
        section=SECTION,
        context={
            "form": form,
            "jobs": list(queries.list_jobs()),
            "max_mb": services.max_upload_bytes() // (1024 * 1024),
        },
        status=status,
    )


def _mapping_from(request: HttpRequest, job: ImportJob) -> list[str]:
    return [request.POST.get(f"column-{index}", "") for index in range(len(job.headers))]


def _mapping_context(job: ImportJob, mapping: list[str]) -> dict[str, Any]:
    """Each column: its header, the chosen property, the preview cells and how many of them
    the chosen property would refuse."""
    fields = fields_for(job.object_type)
    try:
        headers, rows = reader.preview(job.file_path, rows=PREVIEW_ROWS)
    except (reader.UnreadableFileError, OSError):
        headers, rows = job.headers, []
    valid_names = {f.name for f in fields}
    mapping = [name if name in valid_names else "" for name in mapping]
    columns = columns_of(job.object_type, mapping, fields)
    importer = importer_for(job.object_type, cell_context(job.object_type), None, fields)
    checked = [read_row(n, raw, columns, importer) for n, raw in enumerate(rows, start=1)]
    table = []
    for index, header in enumerate(headers):
        cells = [raw[index] if index < len(raw) else "" for raw in rows]
        name = mapping[index] if index < len(mapping) else ""
        invalid = 0
        if name:
            invalid = sum(1 for row in checked if name in row.invalid)
        table.append(
            {"index": index, "header": header, "name": name, "cells": cells, "invalid": invalid}
        )
    return {
        "job": job,
        "fields": fields,
        "columns": table,
        "problems": services.check_mapping(job.object_type, mapping, fields),
        "preview_count": len(rows),
    }


@super_admin_required
@require_http_methods(["GET", "POST"])
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = found(queries.get_job(pk))
    if job.status != ImportStatus.MAPPING:
        return render_settings(request, "imports/job.html", section=SECTION, context={"job": job})
    mapping = list(job.mapping)
    error = ""
    if request.method == "POST":
        mapping = _mapping_from(request, job)
        try:
            services.start_job(job, actor=request.user, mapping=mapping)
        except services.ImportMappingError as problem:
            error = problem.message
        else:
            return redirect("imports:job", job.pk)
    context = _mapping_context(job, mapping)
    context["error"] = error
    return render_settings(
        request,
        "imports/mapping.html",
        section=SECTION,
        context=context,
        status=422 if error else 200,
    )


@super_admin_required
@require_POST
def import_check(request: HttpRequest, pk: int) -> HttpResponse:
    """The mapping table again, checked with the columns as now chosen (HTMX)."""
    job = found(queries.get_job(pk))
    if job.status != ImportStatus.MAPPING:
        raise Http404("Already started")
    return render(
        request,
        "imports/partials/_mapping_table.html",
        _mapping_context(job, _mapping_from(request, job)),
    )


@super_admin_required
@require_GET
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    job = found(queries.get_job(pk))
    return render(request, "imports/partials/_progress.html", {"job": job})


@super_admin_required
@require_GET
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    job = found(queries.get_job(pk))
    path = Path(job.error_path) if job.error_path else None
    if path is None or not job.failed or not path.is_file():
        raise Http404("No failed rows")
    stem = Path(job.original_name).stem or "import"
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=f"{stem}-errors.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return cast(HttpResponse, response)  # streamed: a large error file is never in memory
