"""The batch task a burst of callbacks schedules (`services.enqueue_processing`), and the
safety net: callbacks whose processing failed (or never ran) are processed again, and
completed calls whose recording never came become missed calls — every minute. Idempotent."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.channels.calls.services import process_pending_batches, sweep


@db_task(retries=2, retry_delay=10)
def process_call_batches() -> None:
    """Every stored callback waiting for its first try, in batches."""
    process_pending_batches()


@db_periodic_task(crontab(minute="*"), retries=0)
def sweep_calls() -> None:
    sweep()
