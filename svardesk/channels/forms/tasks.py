"""The safety net: submissions stored but not processed (processing failed, or the process
died before it) are processed again every minute. Idempotent: a submission makes one ticket."""

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from svardesk.channels.forms.services import prune_submissions, retry_pending_submissions


@db_periodic_task(crontab(minute="*"), retries=0)
def retry_pending_form_submissions() -> None:
    # Younger ones are still being processed by the request that stored them.
    retry_pending_submissions(older_than=dt.timedelta(seconds=30))


@db_periodic_task(crontab(hour="3", minute="17"), retries=0)
def prune_form_submissions() -> None:
    """Spam and rejected submissions go after 30 days (bots would fill the table)."""
    prune_submissions()
