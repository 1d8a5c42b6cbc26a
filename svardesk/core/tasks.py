"""Housekeeping tasks and the worker health check. Tasks load by id, are idempotent, retry."""

import gc

from django.core.management import call_command
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup, task


@on_startup()
def freeze_what_is_loaded() -> None:
    """Each worker thread starts with everything the worker loaded (Django, the apps, the
    tasks) kept out of the collector's full passes, as the web processes do (config/asgi.py):
    a batch of inbound messages no longer stops for ~55 ms while one walks all of it."""
    gc.collect()
    gc.freeze()


@task(retries=0)
def ping(token: str) -> str:
    """Answers the health check: proves a worker is consuming the queue."""
    return token


@db_periodic_task(crontab(hour="3", minute="17"), retries=3, retry_delay=60)
def clear_expired_sessions() -> None:
    call_command("clearsessions")
