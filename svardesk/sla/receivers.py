"""The sla app listens to the domain apps' events (tickets and conversations never import
it) and keeps each ticket's timers in step, inside the event's own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from svardesk.conversations.models import MessageDirection
from svardesk.sla import timers
from svardesk.sla.policy import load_config
from svardesk.tickets.models import Stage, Ticket


def tickets_created(sender: Any, tickets: Sequence[Ticket], **kwargs: Any) -> None:
    if not load_config().is_idle:
        timers.start_timers(tickets)


def ticket_updated(
    sender: Any, ticket: Ticket, changed: set[str], now: dt.datetime, **kwargs: Any
) -> None:
    if not load_config().is_idle:
        timers.record_update(ticket, changed, now=now)


def tickets_moved(
    sender: Any, ticket_ids: Sequence[int], stage: Stage, now: dt.datetime, **kwargs: Any
) -> None:
    if not load_config().is_idle:
        timers.record_stage(ticket_ids, stage, now=now)


def message_exchanged(
    sender: Any,
    messages: Sequence[tuple[int, dt.datetime | None]],
    direction: str,
    **kwargs: Any,
) -> None:
    if load_config().is_idle:
        return
    kind = "outbound" if direction == MessageDirection.OUTBOUND else "inbound"
    for ticket_id, at in messages:
        timers.record_message(ticket_id, direction=kind, at=at or timezone.now())
