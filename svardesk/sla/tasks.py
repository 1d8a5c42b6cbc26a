"""The SLA's background work: the sweep every minute, and recomputation jobs."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.sla import recompute
from svardesk.sla.sweep import sweep


@db_periodic_task(crontab(minute="*"), retries=0)
def sweep_sla_statuses() -> None:
    """Running goals turn Due soon / Overdue (each transition announced once, see sweep.py).
    Every minute, so a status changes at most about a minute after its time."""
    sweep()


@db_task(retries=3, retry_delay=30)
def recompute_open_tickets(job_id: int) -> None:
    """A recomputation job; a retry (or a restarted worker) continues where it stopped."""
    recompute.run(job_id)
