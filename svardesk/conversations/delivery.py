"""Delivering outgoing messages on any channel: each attempt claims the message (compare-and-
set on its attempt count, and a lease while the channel's adapter sends it), hands it to
`ChannelAdapter.deliver` outside any transaction, and records the result; failures are
retried by the task (`conversations.tasks.deliver_message`), then shown as Not delivered
with Retry; a sweep queues again what lost its task. A channel that `delivers_immediately`
(chat) is delivered in the replying process right after commit, the queue taking over when
that fails. No channel is named here: the conversation's adapter comes from the registry.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.conversations.models import DeliveryStatus, Message, MessageDirection
from svardesk.conversations.queries import adapter_of
from svardesk.conversations.registry import UnknownChannelError, get_adapter
from svardesk.core.exceptions import SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.core.precompiled import precompiled_objects
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import access_ticket
from svardesk.tickets.signals import ticket_changed

logger = logging.getLogger(__name__)


class MessageNotRetryableError(SvardeskError):
    """Only a reply whose delivery failed can be sent again."""


class DeliveryFailedError(SvardeskError):
    """Sending failed this time; the task retries (the message stays queued)."""


def announce(ticket_id: int | None, actor_id: int | None) -> None:
    if ticket_id is not None:
        ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


# How long a worker may hold a reply while sending it; after that (the worker died), another
# attempt may claim it. Far above the SMTP timeout (20 s a step).
SEND_LEASE = dt.timedelta(minutes=10)
# A queued reply without an attempt for this long has lost its task (the longest planned
# wait between two tries is 8 minutes), and the sweep queues it again.
STUCK_AFTER = dt.timedelta(minutes=15)


def enqueue_delivery(message_id: int) -> None:
    from svardesk.conversations.tasks import deliver_message as deliver_task

    deliver_task(message_id)


def dispatch_delivery(message_id: int, immediately: bool) -> None:
    """After commit: deliver in this process for a channel that `delivers_immediately`,
    falling back to the task queue (and its retries) when that fails; else enqueue. Every
    caller announces the ticket's change after this (so an immediate delivery does not)."""
    if immediately:
        try:
            deliver_immediately(message_id)
        except Exception:
            logger.warning("Delivering message %s at once failed; it is queued", message_id)
        else:
            return  # delivered, or not queued any more
    enqueue_delivery(message_id)


def deliver_immediately(message_id: int) -> str:
    """Deliver a queued reply on a channel that `delivers_immediately` (chat) right after the
    transaction that stored it, and only then record it as sent: one read, the adapter's
    delivery, one UPDATE — no claim and its commit first, so the customer is not kept
    waiting for two write transactions (on SQLite, behind every other writer's lock).

    Safe without the claim because nothing else sends the reply meanwhile: it is not queued
    as a task unless this fails, the stuck-reply sweep leaves it alone for STUCK_AFTER, and a
    reply some worker is sending (`sending_since`) is skipped. Should it still go out twice,
    the receiving side drops a message id it has seen (the chat widget does). A failure is
    recorded as an attempt with its error and raised: the caller queues the task, which
    claims, retries and ends Not delivered as usual. Returns "sent" or "skipped"."""
    message = _load_outbound(message_id)
    if (
        message is None
        or message.delivery_status != DeliveryStatus.QUEUED
        or message.sending_since is not None
    ):
        return "skipped"
    try:
        destination = get_adapter(message.channel.kind).deliver(message)
    except Exception as exc:
        # Recorded as the claimed path records a failed attempt; the task tries again.
        Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
            delivery_error=f"{type(exc).__name__}: {exc}"[:2000],
            send_attempts=F("send_attempts") + 1,
            last_send_attempt_at=timezone.now(),
        )
        raise
    now = timezone.now()
    Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
        delivery_status=DeliveryStatus.SENT,
        delivery_error="",
        send_attempts=F("send_attempts") + 1,
        last_send_attempt_at=now,
        sending_since=None,
        delivered_via=(destination or "")[:255],
    )
    return "sent"


def _outbound(message_id: int) -> QuerySet[Message]:
    return (
        Message.objects.select_related("channel", "author", "conversation")
        .filter(pk=message_id, direction=MessageDirection.OUTBOUND)
        .order_by()
    )


def _load_outbound(message_id: int) -> Message | None:
    # Every reply on a live channel is delivered right after its commit: compiled once.
    found = precompiled_objects(Message, "conversations.outbound", _outbound, message_id)
    return found[0] if found else None


def deliver_message(message_id: int, *, is_final_attempt: bool) -> str:
    """Hand a queued outbound message to its channel's adapter (`deliver`) once. Returns
    "sent", "failed" (the final attempt failed), or "skipped" for a message that is not
    queued (already sent, failed for good, bounced) or that another worker just claimed.

    A failure records the error; on the final attempt the message becomes "failed" (the
    ticket shows Retry), otherwise DeliveryFailedError is raised so the task retries. No
    transaction is held while the channel delivers."""
    message = _load_outbound(message_id)
    if message is None or message.delivery_status != DeliveryStatus.QUEUED:
        return "skipped"
    # Claim this attempt (compare-and-set on the attempt count, and no other worker sending
    # it now), so two workers handed the same task send once.
    now = timezone.now()
    claimed = (
        Message.objects.filter(
            pk=message.pk,
            delivery_status=DeliveryStatus.QUEUED,
            send_attempts=message.send_attempts,
        )
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - SEND_LEASE))
        .update(send_attempts=F("send_attempts") + 1, sending_since=now, last_send_attempt_at=now)
    )
    if not claimed:
        return "skipped"
    ticket_id = message.conversation.ticket_id
    try:
        destination = get_adapter(message.channel.kind).deliver(message)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, UnknownChannelError):
            error = _("The channel “%(kind)s” is not installed.") % {"kind": message.channel.kind}
        logger.warning("Sending message %s failed: %s", message.pk, error)
        status = DeliveryStatus.FAILED if is_final_attempt else DeliveryStatus.QUEUED
        Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
            delivery_status=status, delivery_error=error, sending_since=None
        )
        announce(ticket_id, None)
        if is_final_attempt:
            return "failed"
        raise DeliveryFailedError(error) from exc
    Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
        delivery_status=DeliveryStatus.SENT,
        delivery_error="",
        sending_since=None,
        delivered_via=(destination or "")[:255],
    )
    announce(ticket_id, None)
    return "sent"


# The name from when every reply was an email; tests and old callers use it.
deliver_email_message = deliver_message


def requeue_stuck_replies(*, now: dt.datetime | None = None, limit: int = 100) -> list[int]:
    """Queue again the replies whose delivery task was lost (a worker killed mid-task, a
    queue emptied): still queued, no attempt for STUCK_AFTER, and nobody sending them. A
    reply whose retry is merely waiting is never among them. Returns their ids."""
    now = now or timezone.now()
    stale = now - STUCK_AFTER
    stuck = list(
        Message.objects.filter(
            delivery_status=DeliveryStatus.QUEUED, direction=MessageDirection.OUTBOUND
        )
        .filter(
            Q(last_send_attempt_at__lt=stale)
            | Q(last_send_attempt_at__isnull=True, created_at__lt=stale)
        )
        .filter(Q(sending_since__isnull=True) | Q(sending_since__lt=now - SEND_LEASE))
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in stuck:
        logger.warning("Reply %s was queued but not being sent; queueing it again", message_id)
        enqueue_delivery(message_id)
    return stuck


@transaction.atomic
def retry_delivery(message: Message, *, actor: User) -> Message:
    """Queue a reply whose delivery failed for another try. The actor must see its ticket."""
    ticket_id = message.conversation.ticket_id
    if ticket_id is not None:
        access_ticket(ticket_id, actor=actor)
    changed = Message.objects.filter(
        pk=message.pk,
        direction=MessageDirection.OUTBOUND,
        delivery_status=DeliveryStatus.FAILED,
    ).update(delivery_status=DeliveryStatus.QUEUED, delivery_error="")
    if not changed:
        raise MessageNotRetryableError(_("Only a reply that was not delivered can be retried."))
    message.refresh_from_db()
    adapter = adapter_of(message.channel)
    after_commit(dispatch_delivery, message.pk, bool(adapter and adapter.delivers_immediately))
    after_commit(announce, ticket_id, actor.pk)
    return message
