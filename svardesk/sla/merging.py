"""Two tickets merged into a new one (`tickets.merge`): one SLA record for it.

The new ticket keeps the primary's timers (its policy, schedule and each goal's start,
pauses and completion) and the primary's SLA columns, as HubSpot's merged ticket adopts the
primary's SLA. A goal the primary has no timer for (its SLA did not cover it, or next
response had not started) takes the other ticket's timer and columns, so a ticket merged into
one without an SLA keeps its running or decided goal. The other ticket's own SLA history —
its started, met and missed events — stays on the merged timeline (the events move with
it). Runs inside the merge's transaction; the report's rollup triggers follow the rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from svardesk.sla.models import GOALS, TicketSla
from svardesk.tickets.models import Ticket

_GOAL_PARTS = ("goal", "started_at", "paused_at", "paused_seconds", "completed_at")


def _has_timer(timers: TicketSla | None, goal: str) -> bool:
    return (
        timers is not None
        and getattr(timers, f"{goal}_goal") is not None
        and getattr(timers, f"{goal}_started_at") is not None
    )


def tickets_merging(
    sender: Any, *, target: Ticket, source_ids: Sequence[int], **kwargs: Any
) -> None:
    primary_id, other_id = source_ids
    found = {
        t.ticket_id: t
        for t in TicketSla.objects.select_for_update().filter(ticket_id__in=[primary_id, other_id])
    }
    if not found:
        return
    primary, other = found.get(primary_id), found.get(other_id)
    base = primary if primary is not None else found[other_id]
    fields = {
        f.attname: getattr(base, f.attname)
        for f in TicketSla._meta.concrete_fields
        if f.name != "ticket"
    }
    columns: dict[str, Any] = {}
    if primary is None:
        # Only the other ticket had timers: all its columns come with them.
        columns = _columns_of(other_id, GOALS)
    elif other is not None:
        taken = [g for g in GOALS if not _has_timer(primary, g) and _has_timer(other, g)]
        for goal in taken:
            for part in _GOAL_PARTS:
                fields[f"{goal}_{part}"] = getattr(other, f"{goal}_{part}")
        columns = _columns_of(other_id, taken)
    TicketSla.objects.filter(ticket_id__in=[primary_id, other_id]).delete()
    TicketSla.objects.create(ticket=target, **fields)
    if columns:
        Ticket.objects.filter(pk=target.pk).update(**columns)
        for name, value in columns.items():
            setattr(target, name, value)


def _columns_of(ticket_id: int, goals: Sequence[str]) -> dict[str, Any]:
    names = [f"sla_{goal}_{part}" for goal in goals for part in ("due", "status")]
    if not names:
        return {}
    row = Ticket.objects.filter(pk=ticket_id).values(*names).first()
    return dict(row or {})
