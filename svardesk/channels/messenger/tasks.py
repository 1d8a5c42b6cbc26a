"""Background work of the Messenger channel: the batch task a burst of webhook deliveries
schedules (`services.enqueue_processing`), a delivery whose processing failed in its
request tried again (with the task's retries), and a sweep picks up every stored
delivery still waiting — a lost task, a process that died after storing it. Idempotent: a
message id is recorded once however often its event is processed."""

from __future__ import annotations

import datetime as dt
import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.channels.messenger import services

logger = logging.getLogger(__name__)


@db_task(retries=2, retry_delay=10)
def process_messenger_batches() -> None:
    """Every stored event waiting for its first try, in batches."""
    services.process_pending_batches()


@db_task(retries=5, retry_delay=30)
def process_messenger_event(event_id: int) -> None:
    try:
        services.process_event(event_id)
    except services.EventBodyError:
        return  # kept with its error; processing it again cannot help


@db_periodic_task(crontab(minute="*"), retries=0)
def retry_pending_messenger_events() -> None:
    for event_id in services.pending_event_ids(older_than=dt.timedelta(minutes=2)):
        try:
            services.process_event(event_id)
        except Exception:
            logger.warning("Messenger event %s failed again; it is kept", event_id)


@db_periodic_task(crontab(minute="*"), retries=0)
def name_messenger_people_later() -> None:
    """Profiles Graph refused at a person's first message, asked for again when due."""
    services.name_people_later()
