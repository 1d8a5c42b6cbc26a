"""Raw bytes → a threaded message on a ticket, for every way mail comes in (IMAP, the SMTP
receiver, the raw-MIME endpoint).

1. `receive_raw_email` stores the raw bytes first, in its own transaction, keyed by
   (channel, Message-ID): the same mail delivered twice is stored once. Processing is
   enqueued after commit (`tasks.process_inbound_email`).
2. `process_inbound_email_now` parses, detects loops and bounces, threads and records the
   message through `conversations.inbound.record_inbound_message`. Unreadable mail goes to
   quarantine with the error; `reprocess` tries it again. Every step is idempotent: the
   Message's own (channel, message_id) key makes a second run, or two concurrent runs,
   record it once.
3. Rows a crash left in "received" are picked up again by `process_pending_inbound` (run
   every minute by the scheduler) and by any later delivery of the same mail.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Length
from django.utils import timezone

from svardesk.channels.email import loops, threads
from svardesk.channels.email.models import BlockedSender, EmailChannel, InboundEmail, InboundStatus
from svardesk.channels.email.parsing import ParsedEmail, ParseError, message_id_of, parse_email
from svardesk.conversations.inbound import (
    InboundAttachment,
    InboundItem,
    delete_attachment_files,
    record_inbound_messages,
    store_attachment_files,
)
from svardesk.conversations.models import DeliveryStatus, Message, MessageDirection
from svardesk.core import bursts
from svardesk.core.local_cache import cached
from svardesk.core.on_commit import after_commit
from svardesk.tickets.models import Ticket
from svardesk.tickets.signals import ticket_changed

logger = logging.getLogger(__name__)

# One first try plus the task's retries; after that the message waits in quarantine.
MAX_ATTEMPTS = 6
FINAL_STATUSES = (
    InboundStatus.PROCESSED,
    InboundStatus.DUPLICATE,
    InboundStatus.SPAM,
    InboundStatus.QUARANTINED,
)


# --- Receiving ------------------------------------------------------------------------------


def receive_raw_email(*, channel: EmailChannel, raw: bytes, via: str) -> InboundEmail:
    """Store a message exactly as it arrived and enqueue its processing after commit.

    Idempotent: a Message-ID already stored for this channel returns the existing row and
    stores nothing (`inbound.is_duplicate` is then True); a row still waiting to be processed
    is enqueued again. Safe under concurrency: the unique key decides, the loser reads the
    winner's row. A message without Message-ID gets a stable synthetic one."""
    message_id = message_id_of(raw)
    # Insert first: new mail is the common case, and the unique key answers races anyway.
    try:
        with transaction.atomic():
            inbound = _insert_inbound(channel, message_id, raw, via[:10])
            after_commit(enqueue_processing, inbound.pk)
    except IntegrityError:
        existing = _existing(channel, message_id)
        if existing is None:
            raise
        return _known(existing)
    vars(inbound)["is_duplicate"] = False
    return inbound


def _insert_inbound(channel: EmailChannel, message_id: str, raw: bytes, via: str) -> InboundEmail:
    """INSERT the row in plain SQL: every arriving mail passes here, and on a small machine
    the ORM's save() costs more than the INSERT itself (~1 ms of CPU a message)."""
    received_at = timezone.now()
    table = connection.ops.quote_name(InboundEmail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel_id, message_id, raw, via, status, error, attempts,"  # noqa: S608
            " received_at) VALUES (%s, %s, %s, %s, %s, '', 0, %s) RETURNING id",
            [
                channel.pk,
                message_id,
                raw,
                via,
                InboundStatus.RECEIVED.value,
                connection.ops.adapt_datetimefield_value(received_at),
            ],
        )
        row = cursor.fetchone()
    inbound = InboundEmail(
        id=row[0],
        channel=channel,
        message_id=message_id,
        raw=raw,
        via=via,
        status=InboundStatus.RECEIVED,
        attempts=0,
        received_at=received_at,
    )
    inbound._state.adding = False
    return inbound


def _existing(channel: EmailChannel, message_id: str) -> InboundEmail | None:
    return InboundEmail.objects.defer("raw").filter(channel=channel, message_id=message_id).first()


def _known(inbound: InboundEmail) -> InboundEmail:
    vars(inbound)["is_duplicate"] = True
    if inbound.status == InboundStatus.RECEIVED:
        after_commit(enqueue_processing, inbound.pk)
    return inbound


def enqueue_processing(inbound_id: int) -> None:
    """Have the message processed a moment after it arrived (settings.INBOUND_PROCESSING_DELAY,
    1 s), in a batch: mail arriving in a burst waits together and one task takes it all,
    instead of each message costing a task and a transaction of its own. While a batch is
    scheduled, further arrivals schedule nothing: that batch takes every message waiting
    when it starts (and schedules the next one when there are more than it takes)."""
    from svardesk.channels.email.tasks import process_inbound_email

    if not bursts.processing_deferred():
        process_inbound_email(inbound_id)
        return
    bursts.schedule_once(BATCH_MARKER, process_inbound_email, inbound_id)


# "A batch is scheduled" (core.bursts: in the task queue's storage, stale when its task was
# lost).
BATCH_MARKER = "svardesk:inbound-batch-scheduled"


def _batch_scheduled(storage: Any, *, stale_after: float) -> bool:
    """Whether a batch is already scheduled; if not, mark one as scheduled (the caller
    schedules it)."""
    return not bursts.mark_scheduled(BATCH_MARKER, stale_after=stale_after, storage=storage)


def _batch_started(storage: Any) -> None:
    bursts.batch_started(BATCH_MARKER, storage=storage)


def enqueue_processing_later(inbound_id: int) -> None:
    """Process again in a second (a reply whose parent is still being recorded)."""
    from svardesk.channels.email.tasks import process_inbound_email

    process_inbound_email.schedule((inbound_id,), delay=1)


# --- Processing -----------------------------------------------------------------------------


def process_inbound_email_now(
    inbound_id: int, *, lenient: bool = False, attempt_counted: bool = False
) -> InboundEmail | None:
    """Process one stored message now (the task, the tests and the benchmark call this).
    Does nothing to a message already processed, quarantined, spam or duplicate.

    A parse error quarantines the message with the error. Any other failure is recorded on
    the row and raised so the task retries; after MAX_ATTEMPTS the message is quarantined.
    (`attempt_counted`: the caller already counted this attempt, see process_pending_inbound.)
    """
    inbound = next(iter(InboundEmail.objects.filter(pk=inbound_id).order_by()[:1]), None)
    if inbound is None or inbound.status in FINAL_STATUSES:
        return inbound  # None: the row was deleted meanwhile
    inbound.channel = _email_channel(inbound.channel_id)
    if not attempt_counted:
        inbound.attempts += 1
    try:
        parsed = _parse(bytes(inbound.raw), lenient=lenient)
    except ParseError as exc:
        return _finish(inbound, InboundStatus.QUARANTINED, error=str(exc))
    except Exception as exc:
        logger.exception("Parsing inbound email %s failed", inbound.pk)
        return _finish(
            inbound,
            InboundStatus.QUARANTINED,
            error=f"Unexpected error while reading the message: {type(exc).__name__}: {exc}",
        )
    try:
        return _deliver(inbound, parsed)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.exception("Processing inbound email %s failed", inbound.pk)
        if inbound.attempts >= MAX_ATTEMPTS:
            return _finish(inbound, InboundStatus.QUARANTINED, error=error)
        InboundEmail.objects.filter(pk=inbound.pk, status=InboundStatus.RECEIVED).update(
            error=error, attempts=inbound.attempts
        )
        raise


def _finish(
    inbound: InboundEmail,
    status: str,
    *,
    error: str = "",
    message: Message | None = None,
) -> InboundEmail:
    """Move a received row to its final status (compare-and-set: a concurrent run that got
    there first wins)."""
    now = timezone.now()
    InboundEmail.objects.filter(pk=inbound.pk, status=InboundStatus.RECEIVED).update(
        status=status,
        error=error[:5000],
        recorded_message=message,
        processed_at=now,
        attempts=inbound.attempts,
    )
    inbound.refresh_from_db(
        fields=["status", "error", "recorded_message", "processed_at", "attempts"]
    )
    return inbound


def _arrival(inbound: InboundEmail) -> dt.datetime:
    # Arrival time orders a conversation: a sender's clock or forged Date cannot reorder it.
    return inbound.received_at


def _deliver(inbound: InboundEmail, parsed: ParsedEmail) -> InboundEmail:
    channel = inbound.channel.channel
    verdict = loops.classify(parsed)
    if verdict.bounce is not None and loops.has_null_return_path(parsed):
        bounced = _apply_bounce(verdict.bounce, channel_id=channel.pk)
        if bounced is not None:
            return _finish(inbound, InboundStatus.PROCESSED, message=bounced)

    # Threading, blocked senders and attachment files as in a batch (`_inbound_item`).
    item = _inbound_item(inbound, parsed, verdict.is_auto_generated)
    attachments = [a for a in item.attachments if a.stored_name]
    try:
        with transaction.atomic():
            _relax_commit()
            message = record_inbound_messages([item])[0]
            status = InboundStatus.SPAM if item.is_spam else InboundStatus.PROCESSED
            updated = InboundEmail.objects.filter(
                pk=inbound.pk, status=InboundStatus.RECEIVED
            ).update(
                status=status,
                error="",
                recorded_message=message,
                processed_at=timezone.now(),
                attempts=inbound.attempts,
            )
            if not updated:
                raise _AlreadyProcessed
    except _AlreadyProcessed:
        delete_attachment_files(attachments)
        inbound.refresh_from_db(fields=["status", "error", "recorded_message", "processed_at"])
        return inbound
    except IntegrityError:
        delete_attachment_files(attachments)
        existing = Message.objects.filter(channel=channel, message_id=inbound.message_id).first()
        if existing is None:
            raise
        # Already recorded: a copy of our own reply that came back in through the mailbox,
        # or a concurrent run of this row (which then set its final status first).
        return _finish(inbound, InboundStatus.DUPLICATE, message=existing)
    except BaseException:
        delete_attachment_files(attachments)
        raise
    inbound.status = status
    inbound.recorded_message = message
    return inbound


def _parse(raw: bytes, *, lenient: bool = False) -> ParsedEmail:
    """parse_email with the settings' limits on MIME parts and attachments."""
    return parse_email(
        raw,
        lenient=lenient,
        max_parts=settings.EMAIL_MAX_PARTS,
        max_attachments=settings.EMAIL_MAX_ATTACHMENTS,
    )


# --- Batches --------------------------------------------------------------------------------

BATCH_SIZE = 100
# How long a reply waits for its parent message still being processed elsewhere.
PARENT_WAIT = dt.timedelta(minutes=10)
# A batch finishes in seconds (its raw mail is at most INBOUND_BATCH_MAX_BYTES): a row it
# claimed longer ago than this and still "received" was in a batch that died.
CLAIM_LEASE = dt.timedelta(minutes=2)


def process_inbound_batch(first_id: int, *, limit: int = BATCH_SIZE) -> int:
    """Process the stored messages waiting for their first try — the oldest `limit` of
    them, up to settings.INBOUND_BATCH_MAX_BYTES of raw mail (at least one message), in one
    transaction: the task `enqueue_processing` schedules. The rules are
    `process_inbound_email_now`'s; only the statements are shared (one lookup of the rows,
    one INSERT per table for what they create, one status update per status). `first_id`
    is the message that scheduled the batch: if it waits after a failed try, this is its
    retry and it is processed alone.

    The batch first claims its rows in a short transaction of its own (their first attempt
    is counted and committed), so other workers take the next ones, and a message that
    kills the worker outright is never claimed by a batch again: the sweep tries such rows
    one by one. Raw bytes are read a few messages at a time (`RAW_CHUNK`), never for the
    whole batch.

    An unexpected failure rolls the whole batch back and every row is then processed alone,
    so one bad message costs only itself; the failure of `first_id` itself is raised (its
    task retries). Returns how many rows the batch claimed."""
    if _tried_before(first_id):
        # A retry after a failure: alone, through the path that counts and quarantines.
        process_inbound_email_now(first_id)
        return 1
    from huey.contrib.djhuey import HUEY

    _batch_started(HUEY.storage)
    claimed, more = _claim_batch(limit)
    if not claimed:
        return 0  # an earlier batch took them
    if more and not HUEY.immediate:
        # More are waiting: the next batch starts now, on another worker.
        from svardesk.channels.email.tasks import process_inbound_email

        process_inbound_email(claimed[-1])
    stored: list[InboundAttachment] = []
    rows: list[InboundEmail] = []
    try:
        with transaction.atomic():
            rows = list(
                InboundEmail.objects.defer("raw")
                .filter(pk__in=claimed, status=InboundStatus.RECEIVED)
                .order_by("pk")
            )
            _relax_commit()
            later = _process_claimed(rows, stored)
    except Exception:
        delete_attachment_files(stored)
        logger.warning("Batch from inbound email %s failed; processing it row by row", first_id)
        for inbound_id in claimed:
            if inbound_id == first_id:
                continue
            try:
                process_inbound_email_now(inbound_id, attempt_counted=True)
            except Exception:
                logger.exception("Inbound email %s failed", inbound_id)
        process_inbound_email_now(first_id, attempt_counted=first_id in claimed)
        return 0
    for inbound_id in later:  # bounces: their own path, after the batch
        process_inbound_email_now(inbound_id, attempt_counted=True)
    return len(claimed)


def _claim_batch(limit: int) -> tuple[list[int], bool]:
    """The ids of the oldest messages never tried — at most `limit`, and raw bytes up to the
    budget (the first one whatever its size) — with their first attempt counted, committed.
    Rows another worker is claiming are skipped (PostgreSQL). Also says whether more wait."""
    budget = settings.INBOUND_BATCH_MAX_BYTES
    with transaction.atomic():
        _relax_commit()  # lost in a crash, the rows are simply claimed again
        waiting = list(
            InboundEmail.objects.select_for_update(skip_locked=True)
            .filter(status=InboundStatus.RECEIVED, attempts=0)
            .annotate(raw_size=Length("raw"))
            .order_by("pk")
            .values_list("pk", "raw_size")[:limit]
        )
        claimed: list[int] = []
        total = 0
        for inbound_id, size in waiting:
            if claimed and total + (size or 0) > budget:
                break
            claimed.append(inbound_id)
            total += size or 0
        if claimed:
            InboundEmail.objects.filter(pk__in=claimed).update(
                attempts=1, claimed_at=timezone.now()
            )
    return claimed, len(claimed) < len(waiting) or len(waiting) == limit


def _tried_before(inbound_id: int) -> bool:
    """Whether the row waits after a failed try (its task is a retry; a row a batch only
    claimed has no error). Plain SQL: run for every batch, and the ORM would cost more than
    the answer."""
    table = connection.ops.quote_name(InboundEmail._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND status = %s AND attempts > 0"  # noqa: S608
            " AND error <> ''",
            [inbound_id, InboundStatus.RECEIVED.value],
        )
        return cursor.fetchone() is not None


def _process_claimed(rows: list[InboundEmail], stored: list[InboundAttachment]) -> list[int]:
    """Parse, thread and record the claimed rows; set their statuses. Returns the rows left
    for `process_inbound_email_now` (bounces of our replies).

    Rows are recorded in waves: first those that answer no other row of the batch, then
    those answering a row of the first wave, and so on — threading sees each parent
    recorded before its replies are threaded, and most batches need one or two waves."""
    later: list[int] = []
    deferred: set[int] = set()
    for row in rows:
        row.channel = _email_channel(row.channel_id)
    already = _already_recorded(rows)
    parsed_rows: list[tuple[InboundEmail, ParsedEmail]] = []
    raws = _RawsInChunks([r.pk for r in rows if r.pk not in already])
    for row in rows:
        if row.pk in already:
            _set_status(row, InboundStatus.DUPLICATE, message=already[row.pk])
            continue
        try:
            parsed = _parse(raws.take(row.pk))
        except ParseError as exc:
            _set_status(row, InboundStatus.QUARANTINED, error=str(exc))
            continue
        except Exception as exc:
            logger.exception("Parsing inbound email %s failed", row.pk)
            _set_status(
                row,
                InboundStatus.QUARANTINED,
                error=f"Unexpected error while reading the message: {type(exc).__name__}: {exc}",
            )
            continue
        parsed_rows.append((row, parsed))
    waiting_parents = _waiting_parents(rows, parsed_rows)
    waves: dict[int, list[tuple[InboundEmail, ParsedEmail, bool]]] = {}
    depth_of: dict[str, int] = {}  # Message-ID of a row in this batch → its wave
    for row, parsed in parsed_rows:
        verdict = loops.classify(parsed)
        parsed.mime = None  # the MIME tree holds the encoded parts: free it before the next
        if verdict.bounce is not None and loops.has_null_return_path(parsed):
            later.append(row.pk)
            continue
        answers = threads.candidate_ids(parsed.in_reply_to, parsed.references)
        if waiting_parents.intersection(answers):
            # It answers a message another worker is recording right now: its thread is not
            # visible yet. Leave it waiting and try again in a moment.
            deferred.add(row.pk)
            after_commit(enqueue_processing_later, row.pk)
            continue
        depth = 1 + max((depth_of[mid] for mid in answers if mid in depth_of), default=-1)
        depth_of.setdefault(row.message_id, depth)
        waves.setdefault(depth, []).append((row, parsed, verdict.is_auto_generated))
    for depth in sorted(waves):
        known = _thread_candidates(waves[depth])
        wave = [
            (
                row,
                _inbound_item(row, parsed, is_auto, known=known.get(row.channel.channel_id, {})),
            )
            for row, parsed, is_auto in waves[depth]
        ]
        for _row, item in wave:
            stored.extend(a for a in item.attachments if a.stored_name)
        _record_wave(wave)
    _save_statuses([r for r in rows if r.pk not in later and r.pk not in deferred])
    if deferred:  # not tried yet: its later try is a batch's again (and not the sweep's)
        InboundEmail.objects.filter(pk__in=deferred, status=InboundStatus.RECEIVED).update(
            attempts=0, claimed_at=None
        )
    return later


RAW_CHUNK = 20  # rows whose raw bytes one SELECT reads (the claim bounds their total)


class _RawsInChunks:
    """The rows' raw bytes (batches defer the column), read `RAW_CHUNK` rows per SELECT as
    they are needed, in the order given, each dropped once taken: one statement per chunk
    instead of one per message, and never the whole batch's mail in memory at once."""

    def __init__(self, ids: list[int]) -> None:
        self._ids = ids
        self._next = 0
        self._held: dict[int, bytes] = {}

    def take(self, inbound_id: int) -> bytes:
        if inbound_id not in self._held and self._next < len(self._ids):
            chunk = self._ids[self._next : self._next + RAW_CHUNK]
            self._next += len(chunk)
            self._held.update(
                (pk, bytes(raw or b""))
                for pk, raw in InboundEmail.objects.filter(pk__in=chunk)
                .order_by()
                .values_list("pk", "raw")
            )
        return self._held.pop(inbound_id, b"")


def _save_statuses(rows: list[InboundEmail]) -> None:
    """The final status of every finished row: one UPDATE per status and channel for rows
    with a recorded message (found by its Message-ID), one per row otherwise. (Their
    attempt was counted when the batch claimed them.)"""
    now = timezone.now()
    groups: dict[tuple[str, int], list[int]] = {}
    for row in rows:
        if row.recorded_message is None:
            InboundEmail.objects.filter(pk=row.pk, status=InboundStatus.RECEIVED).update(
                status=row.status,
                error=row.error,
                processed_at=now,
            )
        else:
            groups.setdefault((row.status, row.channel.channel_id), []).append(row.pk)
    for (status, channel_id), ids in groups.items():
        recorded = Message.objects.filter(
            channel_id=channel_id, message_id=OuterRef("message_id")
        ).values("pk")[:1]
        InboundEmail.objects.filter(pk__in=ids, status=InboundStatus.RECEIVED).update(
            status=status,
            error="",
            recorded_message=Subquery(recorded),
            processed_at=now,
        )


def _waiting_parents(
    rows: list[InboundEmail], parsed_rows: list[tuple[InboundEmail, ParsedEmail]]
) -> set[str]:
    """Message-IDs the batch's mail answers that are stored on its channels but not yet
    processed, outside this batch (another worker holds them, or they wait in the queue).
    Only recent ones: a reply does not wait for a message stuck for long (the sweep's)."""
    wanted = {
        mid
        for _row, parsed in parsed_rows
        for mid in threads.candidate_ids(parsed.in_reply_to, parsed.references)
    }
    if not wanted:
        return set()
    return set(
        InboundEmail.objects.filter(
            channel_id__in={r.channel_id for r in rows},
            message_id__in=wanted,
            status=InboundStatus.RECEIVED,
            received_at__gte=timezone.now() - PARENT_WAIT,
        )
        .exclude(pk__in=[r.pk for r in rows])
        .values_list("message_id", flat=True)
    )


def _already_recorded(rows: list[InboundEmail]) -> dict[int, Message]:
    """Rows whose message is recorded already (e.g. our own reply come back through the
    mailbox): they end as duplicates, as in `_deliver`."""
    if not rows:
        return {}
    existing = {
        (m.channel_id, m.message_id): m
        for m in Message.objects.filter(
            channel_id__in={r.channel.channel_id for r in rows},
            message_id__in=[r.message_id for r in rows],
        ).only("pk", "channel_id", "message_id")
    }
    return {
        r.pk: existing[(r.channel.channel_id, r.message_id)]
        for r in rows
        if (r.channel.channel_id, r.message_id) in existing
    }


def _thread_candidates(
    wave: list[tuple[InboundEmail, ParsedEmail, bool]],
) -> dict[int, dict[str, Message]]:
    """Per channel, the stored messages the wave's mail may answer: one query per channel
    instead of one per mail."""
    ids: dict[int, set[str]] = {}
    for row, parsed, _is_auto in wave:
        ids.setdefault(row.channel.channel_id, set()).update(
            threads.candidate_ids(parsed.in_reply_to, parsed.references)
        )
    return {
        channel_id: threads.messages_on_channel(channel_id, wanted)
        for channel_id, wanted in ids.items()
        if wanted
    }


def _inbound_item(
    row: InboundEmail,
    parsed: ParsedEmail,
    is_auto: bool,
    *,
    known: dict[str, Message] | None = None,
) -> InboundItem:
    email_channel = row.channel
    if parsed.from_address.lower() == email_channel.address.lower():
        is_auto = True  # mail from our own address: never answer it automatically
    blocked = _is_blocked(parsed.from_address)
    match = None
    if not blocked:
        match = threads.find_thread(
            channel=email_channel.channel,
            sender_address=parsed.from_address,
            in_reply_to=parsed.in_reply_to,
            references=parsed.references,
            subject=parsed.subject,
            known=known,
        )
    return InboundItem(
        channel=email_channel.channel,
        conversation=match.conversation if match else None,
        ticket=match.ticket if match else None,
        sender_name=parsed.from_name,
        sender_address=parsed.from_address,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject,
        body_text=parsed.text,
        body_html=parsed.html,
        message_id=row.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        attachments=_stored_attachments(parsed),
        is_auto_generated=is_auto,
        received_at=_arrival(row),
        is_spam=blocked,
    )


def _stored_attachments(parsed: ParsedEmail) -> list[InboundAttachment]:
    return store_attachment_files(
        [
            InboundAttachment(
                filename=a.filename,
                content_type=a.content_type,
                size=a.size,
                content_id=a.content_id,
                is_inline=a.is_inline,
                payload=a.payload,
            )
            for a in parsed.attachments
        ]
    )


def _record_wave(wave: list[tuple[InboundEmail, InboundItem]]) -> None:
    if not wave:
        return
    messages = record_inbound_messages([item for _row, item in wave])
    for (row, item), message in zip(wave, messages, strict=True):
        status = InboundStatus.SPAM if item.is_spam else InboundStatus.PROCESSED
        _set_status(row, status, message=message)


def _set_status(
    row: InboundEmail, status: str, *, error: str = "", message: Message | None = None
) -> None:
    row.status = status
    row.error = error[:5000]
    row.recorded_message = message
    row.processed_at = timezone.now()


def _relax_commit() -> None:
    """The processing transaction need not wait for its WAL flush: if a crash loses it, the
    raw message (committed durably before) is still "received" and is processed again."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


class _AlreadyProcessed(Exception):
    """Another run finished this row while we were recording: roll ours back."""


# Read for every message, changed rarely: kept a few seconds per process (core.local_cache;
# a block saved in this process applies at once, one saved elsewhere within seconds).


def _email_channel(channel_id: int) -> EmailChannel:
    return cached(
        f"email:channel:{channel_id}",
        lambda: EmailChannel.objects.select_related("channel", "channel__inbox").get(pk=channel_id),
    )


def _blocked_addresses() -> frozenset[str]:
    return cached(
        "email:blocked-senders",
        lambda: frozenset(
            a.lower() for a in BlockedSender.objects.values_list("address", flat=True)
        ),
    )


def _is_blocked(address: str) -> bool:
    return bool(address) and address.strip().lower() in _blocked_addresses()


def _apply_bounce(bounce: loops.Bounce, *, channel_id: int) -> Message | None:
    """Mark our returned reply as bounced. Returns it, or None when the DSN is not about a
    message we sent to the recipients it reports (then it is recorded like any other
    auto-generated mail). The caller checked the empty return path.

    Anyone who learns one of our Message-IDs can send a report naming it: it counts only
    when every failed recipient it names is one the reply went to."""
    # Our ids are signed and unique across channels; prefer this channel's copy.
    outbound = sorted(
        Message.objects.filter(
            message_id__in=bounce.original_message_ids, direction=MessageDirection.OUTBOUND
        ).select_related("conversation"),
        key=lambda m: (m.channel_id != channel_id, -m.pk),
    )
    if not outbound:
        return None
    target = outbound[0]
    reported = {_bare_address(r) for r in bounce.recipients} - {""}
    if not reported or not reported <= _recipients_of(target):
        return None
    if bounce.failed and target.delivery_status != DeliveryStatus.BOUNCED:
        Message.objects.filter(pk=target.pk).update(
            delivery_status=DeliveryStatus.BOUNCED, delivery_error=bounce.diagnostic
        )
        ticket_id = target.conversation.ticket_id
        if ticket_id is not None:
            after_commit(ticket_changed.send, sender=Ticket, ticket_id=ticket_id, actor_id=None)
    return target


def _bare_address(value: str) -> str:
    return value.strip().strip("<>").strip().lower()


def _recipients_of(message: Message) -> set[str]:
    entries = [*message.to, *message.cc, *message.bcc]
    return {address.lower() for _name, address in email.utils.getaddresses(entries) if address}


# --- Quarantine and recovery ----------------------------------------------------------------


def reprocess(inbound: InboundEmail, *, lenient: bool = False) -> InboundEmail | None:
    """Try a quarantined (or stuck) message again, e.g. after a fix. With `lenient` a broken
    MIME structure is read as best it can (its undecodable part becomes the text)."""
    InboundEmail.objects.filter(
        pk=inbound.pk, status__in=[InboundStatus.QUARANTINED, InboundStatus.RECEIVED]
    ).update(status=InboundStatus.RECEIVED, error="", attempts=0, processed_at=None)
    return process_inbound_email_now(inbound.pk, lenient=lenient)


def process_pending_inbound(*, older_than: dt.timedelta | None = None, limit: int = 500) -> int:
    """Process rows still "received" (a crash between storing and processing, a lost task,
    a batch that died: claimed over CLAIM_LEASE ago), one at a time. Returns how many were
    looked at. Failures stay for the next run."""
    query = InboundEmail.objects.filter(status=InboundStatus.RECEIVED)
    if older_than is not None:
        now = timezone.now()
        query = query.filter(
            Q(received_at__lt=now - older_than) | Q(claimed_at__lt=now - CLAIM_LEASE)
        )
    # Fewest attempts first: a message that stopped the worker on its last try comes after
    # the others, so it never keeps them waiting.
    ids = list(query.order_by("attempts", "received_at", "id").values_list("pk", flat=True)[:limit])
    for inbound_id in ids:
        # Count the attempt before trying: a message that kills its worker outright (the
        # case this sweep exists for) must not be retried forever.
        InboundEmail.objects.filter(pk=inbound_id, status=InboundStatus.RECEIVED).update(
            attempts=F("attempts") + 1
        )
        counted = InboundEmail.objects.filter(pk=inbound_id).values_list("attempts", flat=True)
        if (counted.first() or 0) > MAX_ATTEMPTS:
            InboundEmail.objects.filter(pk=inbound_id, status=InboundStatus.RECEIVED).update(
                status=InboundStatus.QUARANTINED,
                error="Processing this message stopped its worker repeatedly.",
                processed_at=timezone.now(),
            )
            continue
        try:
            process_inbound_email_now(inbound_id, attempt_counted=True)
        except Exception:
            logger.exception("Pending inbound email %s failed again", inbound_id)
    return len(ids)
