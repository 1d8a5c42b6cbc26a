"""Processing stored submissions: the batch task a submission schedules after it is stored,
and the safety net — submissions whose processing failed, or that no batch took (a lost
task, a process that died), are processed again every minute. Idempotent: a submission
makes one ticket."""

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.channels.forms.services import (
    process_pending_batches,
    prune_submissions,
    retry_pending_submissions,
)


@db_task(retries=2, retry_delay=10)
def process_form_submissions() -> None:
    """Every submission waiting for its first try, in batches (see
    `services.enqueue_processing`)."""
    process_pending_batches()


@db_periodic_task(crontab(minute="*"), retries=0)
def retry_pending_form_submissions() -> None:
    # Failed ones after 30 s; never-tried ones are the batch task's unless it was lost.
    retry_pending_submissions(
        older_than=dt.timedelta(seconds=30), untried_after=dt.timedelta(minutes=2)
    )


@db_periodic_task(crontab(hour="3", minute="17"), retries=0)
def prune_form_submissions() -> None:
    """Spam and rejected submissions go after 30 days (bots would fill the table)."""
    prune_submissions()
