"""Housekeeping tasks and the worker health check. Tasks load by id, are idempotent, retry."""

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, task


@task(retries=0)
def ping(token: str) -> str:
    """Answers the health check: proves a worker is consuming the queue."""
    return token


@db_periodic_task(crontab(hour="3", minute="17"), retries=3, retry_delay=60)
def clear_expired_sessions() -> None:
    call_command("clearsessions")
