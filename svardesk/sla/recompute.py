"""Saving the SLA settings: "new tickets only", or "new tickets and existing open tickets" —
a background job that recomputes the open tickets' timers in batches, with its progress
stored on a `Recomputation` row (restartable: it continues after the last ticket done).

Open tickets SLAs apply to but without timers (created while SLAs were off) get them from
their creation, with the first response met by the first message sent to the customer, if
any. Every ticket's next response is rebuilt from its messages as the live timers would have
it: a customer message after the last agent reply leaves it running from that message's time
(paused from then if the ticket's status pauses it), a reply after the customer's last message
leaves the last exchange as it was. Statuses are written as they stand, without notifications (a recomputation is not a
transition anybody missed); the sweep announces only what happens from then on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Min, Model, QuerySet
from django.utils import timezone

from svardesk.accounts.models import User
from svardesk.conversations.models import Message, MessageDirection
from svardesk.core.on_commit import after_commit
from svardesk.sla.models import GOALS, Recomputation, TicketSla
from svardesk.sla.policy import get_settings, load_config, resolve
from svardesk.sla.timers import TICKET_FIELDS, _apply_policy, _is_running, _pauses, evaluate
from svardesk.tickets.models import Stage, Ticket

BATCH = 1000
_COLUMNS = [f"sla_{goal}_{part}" for goal in GOALS for part in ("due", "status")]
_NEXT = [
    f"next_response_{part}"
    for part in ("started_at", "completed_at", "paused_at", "paused_seconds")
]


@transaction.atomic
def apply_settings(*, actor: User | None, existing_open: bool) -> Recomputation | None:
    """Call after the SLA settings were saved: new tickets follow them from now on; with
    `existing_open`, a background job recomputes every open ticket too (returned)."""
    row = get_settings()
    row.version = F("version") + 1
    row.save(update_fields=["version", "updated_at"])
    row.refresh_from_db(fields=["version"])
    if not existing_open:
        return None
    job = Recomputation.objects.create(
        settings_version=row.version,
        started_by=actor,
        total=_open_tickets().count(),
    )
    after_commit(_enqueue, job.pk)
    return job


def _enqueue(job_id: int) -> None:
    from svardesk.sla.tasks import recompute_open_tickets

    recompute_open_tickets(job_id)


def _open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.filter(is_open=True, is_spam=False)


def run(job_id: int) -> Recomputation:
    """Run (or continue) a recomputation job to its end, one transaction per batch."""
    job = Recomputation.objects.get(pk=job_id)
    if job.state == Recomputation.State.DONE:
        return job
    Recomputation.objects.filter(pk=job.pk).update(state=Recomputation.State.RUNNING)
    while True:
        ids = list(
            Ticket.objects.filter(is_open=True, is_spam=False, pk__gt=job.last_ticket_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            break
        with transaction.atomic():
            recompute_tickets(ids)
            job.last_ticket_id = ids[-1]
            job.done = min(job.total, job.done + len(ids)) if job.total else job.done + len(ids)
            Recomputation.objects.filter(pk=job.pk).update(
                last_ticket_id=job.last_ticket_id, done=job.done, updated_at=timezone.now()
            )
    job.state = Recomputation.State.DONE
    job.done = job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "done", "finished_at", "updated_at"])
    return job


def recompute_tickets(ticket_ids: Sequence[int], *, now: dt.datetime | None = None) -> int:
    """Recompute these tickets' goals, due times and statuses under the current settings."""
    now = now or timezone.now()
    config = load_config()
    tickets = {t.pk: t for t in Ticket.objects.filter(pk__in=list(ticket_ids)).only(*TICKET_FIELDS)}
    timers = {
        t.ticket_id: t
        for t in TicketSla.objects.select_for_update().filter(ticket_id__in=list(tickets))
    }
    missing = [t for pk, t in tickets.items() if pk not in timers and config.applies_to(t)]
    created: list[TicketSla] = []
    if missing:
        first_replies = dict(
            Message.objects.filter(
                conversation__ticket_id__in=[t.pk for t in missing],
                direction=MessageDirection.OUTBOUND,
                is_auto_generated=False,
            )
            .values("conversation__ticket_id")
            .annotate(first=Min("created_at"))
            .values_list("conversation__ticket_id", "first")
        )
        for ticket in missing:
            row = TicketSla(
                ticket_id=ticket.pk,
                first_response_started_at=ticket.created_at,
                first_response_completed_at=first_replies.get(ticket.pk),
                close_started_at=ticket.created_at,
            )
            timers[ticket.pk] = row
            created.append(row)
    if not timers:
        return 0
    pending = _pending_customer_messages(list(timers))
    stages = {s.pk: s for s in Stage.objects.filter(pk__in={t.stage_id for t in tickets.values()})}
    for pk, row in timers.items():
        started = pending.get(pk)
        if started is None or row.first_response_completed_at is None:
            continue  # no customer message waits for an answer: the last exchange stands
        if _is_running(row, "next_response") and row.next_response_started_at == started:
            continue  # already running from that message (keeps its pauses)
        row.next_response_started_at = started
        row.next_response_completed_at = None
        row.next_response_paused_at = None
        row.next_response_paused_seconds = 0
        tickets[pk].sla_next_response_status = None  # a new exchange: its own status
        stage = stages.get(tickets[pk].stage_id)
        if stage is not None and _pauses(config, stage, "next_response"):
            row.next_response_paused_at = started
    policies = resolve([tickets[pk] for pk in timers], config)
    changed_tickets = []
    for pk, row in timers.items():
        _apply_policy(row, policies[pk])
        row.settings_version = config.settings.version
        calendar = config.calendar_by_id(row.schedule_id)
        ticket = tickets[pk]
        before = [getattr(ticket, name) for name in _COLUMNS]
        for goal in GOALS:
            due, status = evaluate(row, goal, calendar, config.settings.due_soon_seconds(goal), now)
            setattr(ticket, f"sla_{goal}_due", due)
            setattr(ticket, f"sla_{goal}_status", status)
        if [getattr(ticket, name) for name in _COLUMNS] != before:
            changed_tickets.append(ticket)
    TicketSla.objects.bulk_create(created)
    created_ids = {row.ticket_id for row in created}
    goal_fields = [f"{goal}_goal" for goal in GOALS]
    _update_rows(
        TicketSla,
        "ticket_id",
        ["policy", "schedule_id", "settings_version", *goal_fields, *_NEXT],
        [
            (
                row.ticket_id,
                [
                    getattr(row, name)
                    for name in ["policy", "schedule_id", "settings_version", *goal_fields, *_NEXT]
                ],
            )
            for row in timers.values()
            if row.ticket_id not in created_ids
        ],
    )
    _update_rows(
        Ticket,
        "id",
        _COLUMNS,
        [(ticket.pk, [getattr(ticket, name) for name in _COLUMNS]) for ticket in changed_tickets],
    )
    return len(timers)


def _pending_customer_messages(ticket_ids: Sequence[int]) -> dict[int, dt.datetime]:
    """Per ticket, the first customer message after the last reply sent to the customer (the
    start of a running next response), for tickets where one waits for an answer."""
    last_reply: dict[int, dt.datetime] = {}
    first_after: dict[int, dt.datetime] = {}
    for ticket_id, direction, at in (
        Message.objects.filter(
            conversation__ticket_id__in=list(ticket_ids),
            direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND],
            is_auto_generated=False,
        )
        .order_by("created_at", "pk")
        .values_list("conversation__ticket_id", "direction", "created_at")
    ):
        if direction == MessageDirection.OUTBOUND:
            last_reply[ticket_id] = at
            first_after.pop(ticket_id, None)
        elif ticket_id in last_reply and ticket_id not in first_after:
            first_after[ticket_id] = at
    return first_after


def _update_rows(
    model: type[Model], key: str, columns: Sequence[str], rows: Sequence[tuple[int, Sequence[Any]]]
) -> None:
    """Write `columns` of many rows by key. PostgreSQL: one UPDATE … FROM (VALUES …); SQLite:
    one pipelined executemany. (Django's bulk_update builds a CASE per column and row, which
    takes far longer to compile than to run.)"""
    if not rows:
        return
    table = model._meta.db_table
    fields = {field.column: field for field in model._meta.concrete_fields}
    with connection.cursor() as cursor:
        # Table and column names are the code's own, never input.
        if connection.vendor == "postgresql":
            casts = {name: fields[name].db_type(connection) for name in [key, *columns]}
            assignments = ", ".join(f'"{c}" = v."{c}"::{casts[c]}' for c in columns)
            names = ", ".join(f'"{c}"' for c in [key, *columns])
            row_sql = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
            cursor.execute(
                f'UPDATE "{table}" AS t SET {assignments} '  # noqa: S608
                f"FROM (VALUES {', '.join([row_sql] * len(rows))}) AS v({names}) "
                f'WHERE t."{key}" = v."{key}"::{casts[key]}',
                [value for pk, values in rows for value in (pk, *values)],
            )
            return
        assignments = ", ".join(f'"{column}" = %s' for column in columns)
        cursor.executemany(
            f'UPDATE "{table}" SET {assignments} WHERE "{key}" = %s',  # noqa: S608
            [[*values, pk] for pk, values in rows],
        )
