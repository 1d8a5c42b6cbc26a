"""Background work of the chat channel: the transcript of a closed chat."""

from __future__ import annotations

from huey.api import Task
from huey.contrib.djhuey import db_task

from svardesk.channels.chat import services

TRANSCRIPT_RETRIES = 5


@db_task(retries=TRANSCRIPT_RETRIES, retry_delay=60, context=True)
def send_chat_transcript(session_id: int, task: Task | None = None) -> str:
    """Hand the transcript to the core (which stores it once per chat and delivers it with
    its own retries). Safe to run twice, on two workers or after a restart: the core's dedupe
    key makes the second run store and send nothing."""
    try:
        return services.send_transcript(session_id)
    except Exception as exc:
        if task is None or not task.retries:  # the last try: show it in the channel's state
            services.mark_transcript_failed(session_id, str(exc))
        raise
