"""Inboxes: creating and renaming conversations inboxes, and migrating one channel with all
its historical conversations from a conversations inbox into the help desk.

A migration (`InboxMigration`) runs in steps that each commit on their own, so a run killed at
any point loses nothing and duplicates nothing, and the next run goes on where it stopped:

1. The channel moves to the help desk inbox (new messages make tickets at once) and the
   conversations still to move are counted (`total`).
2. Batches of the channel's conversations still in the source inbox, by id after
   `last_conversation_id`: in one transaction per batch, a ticket for each conversation without
   one (`tickets.services.create_tickets`), the conversations' `inbox` and `ticket` set in bulk,
   and the job's counters and `last_conversation_id` advanced.

Stage rule for the tickets it creates: a conversation whose customer wrote last (the last
message that is not an internal comment came in) is waiting for an answer, so its ticket opens
in the default pipeline's first (open) stage; one the team answered last gets the pipeline's
first closed stage.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import connections, router, transaction
from django.db.models import Field, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from svardesk.conversations.inbound import first_stage, ticket_name, ticket_source
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Inbox,
    InboxKind,
    InboxMigration,
    InboxMigrationStatus,
    Message,
    MessageDirection,
)
from svardesk.conversations.services import help_desk_inbox
from svardesk.core.exceptions import SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.tickets.models import Pipeline, Stage, Ticket
from svardesk.tickets.services import (
    NewTicket,
    create_tickets,
    ensure_default_pipeline,
    mark_spam,
)

if TYPE_CHECKING:
    from svardesk.accounts.models import User

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
NAME_TEXT_LENGTH = 500  # characters of the first message read to name a ticket
MIGRATABLE_KINDS = frozenset({ChannelKind.EMAIL, ChannelKind.FORM})
UNFINISHED = (InboxMigrationStatus.QUEUED, InboxMigrationStatus.RUNNING)

# Why a channel of another kind is not offered (shown in Settings → Inboxes and by the command).
NOT_MIGRATABLE: dict[str, Promise] = {
    ChannelKind.MESSENGER: gettext_lazy(
        "Facebook Messenger cannot be migrated: disconnect it and connect it to the help desk "
        "instead."
    ),
    ChannelKind.CHAT: gettext_lazy(
        "Chat cannot be migrated: connect a chat to the help desk instead."
    ),
    ChannelKind.CALL: gettext_lazy(
        "Calls cannot be migrated: connect the number to the help desk instead."
    ),
}

Progress = Callable[[InboxMigration], None]


class InboxMigrationError(SvardeskError):
    """The migration cannot start (its message is safe to show)."""


class InboxValidationError(SvardeskError):
    """An inbox name is not acceptable."""


def not_migratable_reason(channel: Channel) -> str:
    """Why this channel cannot be moved with its conversations ("" when it can)."""
    if channel.kind in MIGRATABLE_KINDS:
        return ""
    reason = NOT_MIGRATABLE.get(channel.kind)
    return str(reason) if reason else _("Only email and form channels can be migrated.")


# --- Inboxes ------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InboxValidationError(_("Give the inbox a name."))
    if len(name) > Inbox._meta.get_field("name").max_length:  # type: ignore[operator]
        raise InboxValidationError(_("The name is too long."))
    return name


@transaction.atomic
def create_inbox(*, actor: User, name: str) -> Inbox:
    """A new conversations inbox (the help desk is the one help desk inbox)."""
    return Inbox.objects.create(name=_clean_name(name), kind=InboxKind.CONVERSATIONS)


@transaction.atomic
def rename_inbox(inbox: Inbox, *, actor: User, name: str) -> Inbox:
    inbox.name = _clean_name(name)
    inbox.save(update_fields=["name", "updated_at"])
    return inbox


# --- Starting a migration -----------------------------------------------------------------


def unfinished_migration(channel: Channel) -> InboxMigration | None:
    """The channel's migration that has not finished (queued, running or failed), if any."""
    return (
        InboxMigration.objects.filter(channel=channel)
        .exclude(status=InboxMigrationStatus.DONE)
        .order_by("-id")
        .first()
    )


@transaction.atomic
def prepare_migration(channel_id: int, *, actor: User | None) -> tuple[InboxMigration, bool]:
    """The job that moves this channel into the help desk: a new one, or the channel's failed
    one set to go again. Returns (job, is_new). Raises InboxMigrationError when one is already
    queued or running, the channel is in the help desk already, or its kind can't be moved.
    The channel row is locked so two starts at once make one job."""
    channel = Channel.objects.select_for_update().select_related("inbox").get(pk=channel_id)
    job = unfinished_migration(channel)
    if job is not None:
        if job.status in UNFINISHED:
            raise InboxMigrationError(_("This channel is already being moved to the help desk."))
        job.status = InboxMigrationStatus.QUEUED
        job.error = ""
        job.save(update_fields=["status", "error"])
        return job, False
    if channel.inbox.kind == InboxKind.HELP_DESK:
        raise InboxMigrationError(_("This channel is in the help desk already."))
    reason = not_migratable_reason(channel)
    if reason:
        raise InboxMigrationError(reason)
    job = InboxMigration.objects.create(
        channel=channel,
        from_inbox=channel.inbox,
        to_inbox=help_desk_inbox(),
        started_by=actor,
        total=Conversation.objects.filter(channel=channel, inbox=channel.inbox).count(),
    )
    return job, True


@transaction.atomic
def start_migration(channel_id: int, *, actor: User) -> InboxMigration:
    """Create (or resume a failed) migration of the channel and queue it after commit."""
    from svardesk.conversations.migration_tasks import run_inbox_migration

    job, _is_new = prepare_migration(channel_id, actor=actor)
    after_commit(run_inbox_migration, job.pk)
    return job


# --- Running it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stages:
    pipeline: Pipeline
    open_stage: Stage
    closed_stage: Stage


def _stages() -> _Stages:
    """The default pipeline's first open stage and its first closed one (the first stage when
    the pipeline has no closed stage)."""
    first = first_stage()
    pipeline = first.pipeline if first else ensure_default_pipeline()
    stages = list(pipeline.stages.order_by("display_order", "id"))
    open_stage = next((s for s in stages if not s.is_closed), stages[0])
    closed_stage = next((s for s in stages if s.is_closed), open_stage)
    return _Stages(pipeline, open_stage, closed_stage)


def _may_own(user: User | None) -> bool:
    return user is not None and user.can_use_workspace


def run_migration(
    job_id: int,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    pause: float = 0.0,
    max_batches: int | None = None,
) -> InboxMigration:
    """Run (or resume) a migration to its end. Safe to call again at any time: a finished job
    is left alone, a stopped one goes on after its last committed batch. `pause` seconds are
    slept between batches (to go easy on a busy database); `max_batches` stops early (tests).
    A failure marks the job failed with the error and re-raises."""
    job = InboxMigration.objects.get(pk=job_id)
    if job.status == InboxMigrationStatus.DONE:
        return job
    try:
        job = _begin(job_id)
        if progress:
            progress(job)
        stages = _stages()
        batches = 0
        while max_batches is None or batches < max_batches:
            job, more = _migrate_batch(job_id, batch_size=batch_size, stages=stages)
            batches += 1
            if progress:
                progress(job)
            if not more:
                return _finish(job_id)
            if pause:
                time.sleep(pause)
        return job
    except Exception as exc:
        logger.exception("Inbox migration %s failed", job_id)
        InboxMigration.objects.filter(pk=job_id).update(
            status=InboxMigrationStatus.FAILED, error=str(exc)[:2000] or type(exc).__name__
        )
        raise


@transaction.atomic
def _begin(job_id: int) -> InboxMigration:
    """Mark the job running and move the channel to the help desk (once; again is harmless)."""
    job = InboxMigration.objects.select_for_update().get(pk=job_id)
    now = timezone.now()
    Channel.objects.filter(pk=job.channel_id).update(inbox=job.to_inbox_id, updated_at=now)
    fields = ["status", "error"]
    if job.started_at is None:
        # Counted once, when the channel moves: nothing new reaches the source inbox after.
        job.started_at = now
        job.total = job.moved + _remaining(job).count()
        fields += ["started_at", "total"]
    job.status = InboxMigrationStatus.RUNNING
    job.error = ""
    job.save(update_fields=fields)
    return job


def _remaining(job: InboxMigration) -> QuerySet[Conversation]:
    return Conversation.objects.filter(
        channel_id=job.channel_id, inbox_id=job.from_inbox_id, id__gt=job.last_conversation_id
    )


@transaction.atomic
def _migrate_batch(job_id: int, *, batch_size: int, stages: _Stages) -> tuple[InboxMigration, bool]:
    """Move the next batch; returns the job and whether more may follow. The job row is locked,
    so two runners never move the same batch."""
    job = InboxMigration.objects.select_for_update().get(pk=job_id)
    customer_messages = Message.objects.filter(conversation=OuterRef("pk")).exclude(
        direction=MessageDirection.COMMENT
    )
    first = customer_messages.order_by("created_at", "id")
    batch = list(
        _remaining(job)
        .select_related("channel", "assignee", "contact")
        .annotate(
            first_message_at=Subquery(first.values("created_at")[:1]),
            first_text=Subquery(
                first.annotate(t=Substr("body_text", 1, NAME_TEXT_LENGTH)).values("t")[:1]
            ),
            last_direction=Subquery(
                customer_messages.order_by("-created_at", "-id").values("direction")[:1]
            ),
        )
        .order_by("id")[:batch_size]
    )
    if not batch:
        return job, False
    now = timezone.now()
    needing = [c for c in batch if c.ticket_id is None]
    if needing:
        tickets = create_tickets([_new_ticket(c, stages) for c in needing], actor=None)
        times = []
        for conversation, ticket in zip(needing, tickets, strict=True):
            conversation.ticket = ticket
            # History keeps its times: created at the first message, active at the last.
            created = _first_at(conversation)
            last = conversation.last_message_at or created
            times.append((ticket.pk, created, last, last if ticket.closed_at else None))
        _update_by_id(Ticket, ["created_at", "last_activity_at", "closed_at"], times)
        _update_by_id(Conversation, ["ticket_id"], [(c.pk, c.ticket_id) for c in needing])
        spam = [c.ticket_id for c in needing if c.is_spam and c.ticket_id]
        if spam:  # spam stays out of the help desk's views, as inbound spam does
            mark_spam(spam, actor=None, is_spam=True, now=now)
    Conversation.objects.filter(pk__in=[c.pk for c in batch]).update(
        inbox=job.to_inbox_id, updated_at=now
    )
    job.moved += len(batch)
    job.tickets_created += len(needing)
    job.last_conversation_id = batch[-1].pk
    job.save(update_fields=["moved", "tickets_created", "last_conversation_id"])
    return job, len(batch) == batch_size


def _update_by_id(model: type[Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Set each row's own values in ONE statement: UPDATE … FROM (VALUES (id, v1, …), …).
    Django's bulk_update builds a CASE per column with a WHEN per row, which cost more Python
    time than the rest of a batch (~2 s per 1,000 rows in bench/inbox_migration.py)."""
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    fields = [
        cast("Field[Any, Any]", model._meta.get_field(c.removesuffix("_id"))) for c in columns
    ]
    casts = [""] * len(columns)
    if connection.vendor == "postgresql":  # VALUES' literals need their column types
        casts = [f"::{f.db_type(connection)}" for f in fields]
    sets = ", ".join(
        f"{qn(str(f.column))} = v.column{i + 2}{cast}"
        for i, (f, cast) in enumerate(zip(fields, casts, strict=True))
    )
    params: list[Any] = []
    for row in rows:
        params.append(row[0])
        params.extend(
            f.get_db_prep_save(value, connection) for f, value in zip(fields, row[1:], strict=True)
        )
    values = ", ".join(["(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"] * len(rows))
    sql = (
        f"UPDATE {table} SET {sets} FROM (VALUES {values}) AS v "  # noqa: S608 (names quoted)
        f"WHERE {table}.{qn('id')} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _first_at(conversation: Conversation) -> dt.datetime:
    """When the conversation began: its first message (annotated), else its row's time."""
    return getattr(conversation, "first_message_at", None) or conversation.created_at


def _new_ticket(conversation: Conversation, stages: _Stages) -> NewTicket:
    customer_last = getattr(conversation, "last_direction", None) in (
        None,
        MessageDirection.INBOUND,
    )
    assignee = conversation.assignee
    return NewTicket(
        name=ticket_name(conversation.subject, getattr(conversation, "first_text", None) or ""),
        pipeline=stages.pipeline,
        stage=stages.open_stage if customer_last else stages.closed_stage,
        description=(getattr(conversation, "first_text", None) or "").strip(),
        owner=assignee if _may_own(assignee) else None,
        contact=conversation.contact,
        source=ticket_source(conversation.channel),
        now=_first_at(conversation),
    )


@transaction.atomic
def _finish(job_id: int) -> InboxMigration:
    job = InboxMigration.objects.select_for_update().get(pk=job_id)
    job.status = InboxMigrationStatus.DONE
    job.finished_at = timezone.now()
    # A conversation that arrived in the source inbox after counting still moved: keep the
    # bar honest.
    job.total = max(job.total, job.moved)
    job.save(update_fields=["status", "finished_at", "total"])
    return job


def progress_percent(job: InboxMigration) -> int:
    if job.status == InboxMigrationStatus.DONE:
        return 100
    if not job.total:
        return 0
    return min(100, job.moved * 100 // job.total)


def count_movable(
    channel: Channel, *, job: InboxMigration | None = None, without_ticket: bool = False
) -> int:
    """The channel's conversations a migration would move (those still in its inbox, or in the
    source inbox of its unfinished `job`), or of them those that would get a new ticket."""
    inbox_id = job.from_inbox_id if job is not None else channel.inbox_id
    conversations = Conversation.objects.filter(channel=channel, inbox_id=inbox_id)
    if without_ticket:
        conversations = conversations.filter(ticket__isnull=True)
    return conversations.count()
