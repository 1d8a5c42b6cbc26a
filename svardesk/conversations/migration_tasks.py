"""The background inbox migration: loads the job by id and runs (or resumes) it. Idempotent:
batches a run has committed are not moved again, and a finished job is left alone."""

import datetime as dt

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.conversations.inbox_migration import UNFINISHED, run_migration
from svardesk.conversations.models import InboxMigration

STALLED_AFTER = dt.timedelta(minutes=10)


@db_task(retries=3, retry_delay=30)
def run_inbox_migration(job_id: int) -> None:
    run_migration(job_id)


@db_periodic_task(crontab(minute="*/10"), retries=0)
def resume_stalled_inbox_migrations() -> None:
    """Safety net: a job queued or running for long whose worker died (or whose task was lost)
    is picked up again. A job running now is not harmed: each batch is moved by one run only
    (its job row is locked)."""
    stalled = InboxMigration.objects.filter(
        status__in=UNFINISHED, created_at__lt=timezone.now() - STALLED_AFTER
    ).values_list("pk", flat=True)
    for job_id in stalled:
        run_inbox_migration(job_id)
