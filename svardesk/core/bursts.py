"""Processing a burst of stored inbound deliveries in batches: the first delivery of a burst
schedules one task a moment later (settings.INBOUND_PROCESSING_DELAY); while it is
scheduled, further deliveries schedule nothing — the task takes every delivery waiting when
it starts. Forms, email, Messenger and calls share this (each with its own marker).

The marker lives in the task queue's storage (SQLite file or Redis), which every process
shares; its value is when it was set, so a marker whose task was lost goes stale and the
next delivery schedules a new task."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from huey.constants import EmptyData

# A scheduled batch starts after the delay; a marker older than delay + this was lost.
STALE_AFTER_SECONDS = 30.0


def processing_deferred() -> bool:
    """Whether stored deliveries are processed by a batch task in the worker (the default)
    rather than in the request — with tasks run immediately or
    settings.INBOUND_PROCESSING_DELAY at 0 (tests, a trial without a worker)."""
    from huey.contrib.djhuey import HUEY

    return not HUEY.immediate and settings.INBOUND_PROCESSING_DELAY > 0


def _storage(storage: Any | None) -> Any:
    from huey.contrib.djhuey import HUEY

    return HUEY.storage if storage is None else storage


def mark_scheduled(marker: str, *, stale_after: float, storage: Any | None = None) -> bool:
    """Set `marker` unless a fresh one is set; True when the caller should schedule the
    batch. Two processes racing may both schedule one: harmless, the second finds less or
    nothing to do. (`storage`: the task queue's, unless a test gives its own.)"""
    storage = _storage(storage)
    now = time.time()
    value = storage.peek_data(marker)
    if value is not EmptyData:
        try:
            if now - float(value) < stale_after:
                return False
        except (TypeError, ValueError):
            pass  # unreadable: replace it
    storage.put_data(marker, str(now).encode())
    return True


def schedule_once(marker: str, task: Any, *args: Any, delay: float | None = None) -> bool:
    """Schedule Huey `task(*args)` `delay` seconds from now (default
    settings.INBOUND_PROCESSING_DELAY) unless a batch is already scheduled under `marker`;
    the marker is stale after delay + STALE_AFTER_SECONDS. True when it scheduled."""
    wait = float(settings.INBOUND_PROCESSING_DELAY if delay is None else delay)
    if not mark_scheduled(marker, stale_after=wait + STALE_AFTER_SECONDS):
        return False
    task.schedule(args, delay=wait)
    return True


def batch_started(marker: str, *, storage: Any | None = None) -> None:
    """Called by the batch before it claims its rows: deliveries stored from now on schedule
    a new batch; those stored before are visible to this batch's claim, which comes after."""
    _storage(storage).delete_data(marker)


def run_or_schedule(marker: str, task: Any, run_now: Callable[[], object]) -> None:
    """The webhook's side: in the request (`run_now`) when processing is not deferred, else
    one batch task per burst."""
    if processing_deferred():
        schedule_once(marker, task)
    else:
        run_now()


def relax_commit() -> None:
    """Inside a batch's transaction: its COMMIT need not wait for the WAL flush (PostgreSQL).
    Only for batches whose raw deliveries were committed durably before and stay pending
    until the batch commits: if a crash loses the commit, they are processed again."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
