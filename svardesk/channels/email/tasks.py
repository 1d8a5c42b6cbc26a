"""Processing of stored inbound mail. Tasks load by id and are idempotent: a message already
processed is left alone, and the (channel, Message-ID) key records it once.

IMAP polling tasks live in `imap_tasks.py`.
"""

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.channels.email.ingest import (
    MAX_ATTEMPTS,
    process_inbound_batch,
    process_pending_inbound,
)


@db_task(retries=MAX_ATTEMPTS - 1, retry_delay=30, retry_backoff=2)
def process_inbound_email(inbound_id: int) -> None:
    """Parse, thread and record one stored message — with the newer ones still waiting, when
    mail arrives faster than it is processed (see `ingest.process_inbound_batch`). A database
    failure raises and retries; unreadable mail is quarantined, not retried."""
    process_inbound_batch(inbound_id)


@db_periodic_task(crontab(minute="*"), retries=0)
def process_pending_inbound_emails() -> None:
    """Safety net: mail stored but never processed (a crash, a lost task) is picked up."""
    process_pending_inbound(older_than=dt.timedelta(minutes=10))


# Huey discovers `tasks` modules only: register the IMAP polling tasks and the pruning of
# kept outgoing mail (kept_mail.prune_kept_mail) too.
from svardesk.channels.email import imap_tasks, kept_mail  # noqa: E402, F401
