"""Sending webhook deliveries in the background. Each task loads its delivery by id and is
safe to run twice: the delivery's lease and status let one send happen per attempt, and a
delivered one is never sent again. Retries follow services.BACKOFF_SECONDS (the service
schedules the next attempt), not Huey's own retries."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.webhooks import services


@db_task(retries=0)
def deliver(delivery_id: int) -> str:
    """One attempt at a delivery that is due."""
    return services.attempt_delivery(delivery_id)


@db_periodic_task(crontab(minute="*"), retries=0)
def send_overdue_deliveries() -> None:
    """Safety net: a delivery whose task was lost is sent once it is two minutes overdue."""
    services.send_due_deliveries(late_by=120)


@db_periodic_task(crontab(hour="4", minute="41"), retries=1, retry_delay=600)
def prune_delivery_log() -> None:
    """The delivery log keeps the last services.LOG_DAYS days."""
    services.prune_delivery_log()
