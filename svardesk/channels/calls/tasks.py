"""The safety net: callbacks whose processing failed (or never ran) are processed again, and
completed calls whose recording never came become missed calls — every minute. Idempotent."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from svardesk.channels.calls.services import sweep


@db_periodic_task(crontab(minute="*"), retries=0)
def sweep_calls() -> None:
    sweep()
