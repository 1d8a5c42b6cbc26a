"""Reads for Settings → Import."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from svardesk.imports.models import ImportJob

RECENT_IMPORTS = 50


def list_jobs(limit: int = RECENT_IMPORTS) -> QuerySet[ImportJob]:
    """The latest imports, newest first, with who started them."""
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")[:limit]


def get_job(job_id: Any) -> ImportJob | None:
    from svardesk.core.parsing import parse_id

    pk = parse_id(job_id)
    if pk is None:
        return None
    return ImportJob.objects.select_related("created_by").filter(pk=pk).first()
