"""Reads of the forms channel: forms by key or id, submissions and their summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from svardesk.channels.forms.models import Form, FormSubmission, SubmissionStatus
from svardesk.conversations.models import Channel
from svardesk.core.local_cache import cached

RECENT_SUBMISSIONS = 50


def _with_fields(forms: QuerySet[Form]) -> Form | None:
    return forms.select_related("channel__inbox").prefetch_related("fields").first()


def form_by_key(key: str) -> Form | None:
    """The form published at /forms/<key>/ (connected or not: the page says which), with its
    channel and fields. Read for every submission: kept per process for a few seconds
    (core.local_cache; a change saved in this process clears it at once, see apps.py)."""
    if not key or len(key) > 32:
        return None
    return cached(f"forms:by-key:{key}", lambda: _with_fields(Form.objects.filter(public_key=key)))


def form_with_fields(form_id: int) -> Form | None:
    """`form_by_key` by id (the same few seconds' cache)."""
    return cached(f"forms:by-id:{form_id}", lambda: _with_fields(Form.objects.filter(pk=form_id)))


def get_form(form_id: int) -> Form | None:
    return Form.objects.select_related("channel").filter(pk=form_id).first()


def form_for_channel(channel: Channel) -> Form | None:
    return Form.objects.select_related("channel").filter(channel=channel).first()


def list_forms() -> list[Form]:
    return list(Form.objects.select_related("channel").order_by("id"))


def recent_submissions(form: Form, *, limit: int = RECENT_SUBMISSIONS) -> list[FormSubmission]:
    """The latest submissions of every status (pending, processed, rejected, spam)."""
    return list(
        FormSubmission.objects.filter(form=form)
        .select_related("ticket")
        .order_by("-received_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class SubmissionSummary:
    last_received_at: dt.datetime | None
    today: int
    spam_today: int
    waiting: int
    last_error: str


def submission_summary(form: Form, *, now: dt.datetime) -> SubmissionSummary:
    start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    # Pending for over a minute: processing failed (a fresh one is being processed).
    stuck_before = now - dt.timedelta(minutes=1)
    totals = FormSubmission.objects.filter(form=form).aggregate(
        last=Max("received_at"),
        today=Count("id", filter=Q(received_at__gte=start_of_day)),
        spam_today=Count(
            "id", filter=Q(received_at__gte=start_of_day, status=SubmissionStatus.SPAM)
        ),
        waiting=Count(
            "id", filter=Q(status=SubmissionStatus.PENDING, received_at__lt=stuck_before)
        ),
    )
    last_error = ""
    if totals["waiting"]:
        last_error = (
            FormSubmission.objects.filter(form=form, status=SubmissionStatus.PENDING)
            .exclude(error="")
            .order_by("-received_at")
            .values_list("error", flat=True)
            .first()
            or ""
        )
    return SubmissionSummary(
        last_received_at=totals["last"],
        today=totals["today"],
        spam_today=totals["spam_today"],
        waiting=totals["waiting"],
        last_error=last_error,
    )


def submission_email(submission: FormSubmission) -> str:
    values = submission.data.get("email") if isinstance(submission.data, dict) else None
    if isinstance(values, list) and values:
        return str(values[0])[:254]
    return ""
