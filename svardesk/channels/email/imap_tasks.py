"""The scheduler polls every IMAP-connected channel once a minute.

The periodic task only enqueues one task per channel, so a slow mailbox does not hold up
the others; each task retries on failure, and the channel lease makes overlapping runs (a
retry meeting the next minute's poll) return at once.
"""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from svardesk.channels.email import imap
from svardesk.channels.email.channel_queries import list_pollable_channel_ids


@db_periodic_task(crontab(minute="*"))
def poll_imap_channels() -> None:
    for email_channel_id in list_pollable_channel_ids():
        poll_imap_channel(email_channel_id)


@db_task(retries=3, retry_delay=60)
def poll_imap_channel(email_channel_id: int) -> None:
    """Idempotent: fetches only UIDs above the stored one; stored mail is never stored twice."""
    imap.poll_channel(email_channel_id)
