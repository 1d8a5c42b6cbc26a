"""Two tickets merged into a new one (`tickets.merge`): their conversations — and with them
every message, whose Message-IDs keep email replies threading — and their notifications now
belong to the new ticket. Runs inside the merge's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from svardesk.conversations.models import Conversation, Notification
from svardesk.tickets.models import Ticket


def tickets_merging(
    sender: Any, *, target: Ticket, source_ids: Sequence[int], **kwargs: Any
) -> None:
    ids = list(source_ids)
    Conversation.objects.filter(ticket_id__in=ids).update(ticket=target)
    Notification.objects.filter(ticket_id__in=ids).update(ticket=target)
