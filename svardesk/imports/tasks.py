"""The background import: loads the job by id and runs (or resumes) it. Idempotent: the
rows a run has committed are skipped by the next, and a finished job is left alone."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.imports.engine import run_job
from svardesk.imports.models import ImportJob, ImportStatus


@db_task(retries=3, retry_delay=30)
def run_import_job(job_id: int) -> None:
    run_job(job_id)


@db_periodic_task(crontab(minute="*/10"), retries=0)
def resume_stalled_imports() -> None:
    """Safety net: a queued or running job whose worker died is picked up again (a job
    running now is not harmed: each batch is counted by one run only)."""
    import datetime as dt

    from django.utils import timezone

    stalled = ImportJob.objects.filter(
        status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING],
        updated_at__lt=timezone.now() - dt.timedelta(minutes=10),
    ).values_list("pk", flat=True)
    for job_id in stalled:
        run_import_job(job_id)
