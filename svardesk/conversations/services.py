"""The agent's side of conversations: replies, internal comments with mentions, delivery of
outgoing email and its retry, notifications, and marking a ticket's conversation as spam.

Every write is atomic with an explicit actor; mail leaves only through a Huey task enqueued
after commit, and the browsers hear about changes through `tickets.signals.ticket_changed`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.channels.email.models import BlockedSender
from svardesk.channels.email.signing import make_message_id
from svardesk.conversations import mail
from svardesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Message,
    MessageDirection,
    Notification,
)
from svardesk.conversations.queries import (
    email_conversation_of,
    first_email_channel,
    may_block_senders,
    mentionable_users,
    reply_target,
    sender_address_of,
    team_addresses,
)
from svardesk.core.exceptions import PermissionDeniedError, SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.core.parsing import parse_id
from svardesk.tickets.models import Stage, Ticket
from svardesk.tickets.queries import access_ticket, visible_tickets
from svardesk.tickets.services import mark_spam, update_ticket
from svardesk.tickets.signals import ticket_changed

logger = logging.getLogger(__name__)

WAITING_ON_CONTACT = "Waiting on contact"
MAX_RECIPIENTS = 50
PREVIEW_LENGTH = 200


class ReplyValidationError(SvardeskError):
    """The reply or comment cannot be sent as it is; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NoEmailChannelError(SvardeskError):
    """The ticket has no email conversation and no email channel is connected to start one."""


class NoRecipientError(SvardeskError):
    """A new conversation needs an address: the ticket's contact has none."""


class MessageNotRetryableError(SvardeskError):
    """Only a reply whose delivery failed can be sent again."""


class DeliveryFailedError(SvardeskError):
    """Sending failed this time; the task retries (the message stays queued)."""


def _announce(ticket_id: int | None, actor_id: int | None) -> None:
    if ticket_id is not None:
        ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


# How long a worker may hold a reply while sending it; after that (the worker died), another
# attempt may claim it. Far above the SMTP timeout (20 s a step).
SEND_LEASE = dt.timedelta(minutes=10)
# A queued reply without an attempt for this long has lost its task (the longest planned
# wait between two tries is 8 minutes), and the sweep queues it again.
STUCK_AFTER = dt.timedelta(minutes=15)


def _enqueue_delivery(message_id: int) -> None:
    from svardesk.conversations.tasks import send_email_message

    send_email_message(message_id)


def _enqueue_mention_email(notification_id: int, ticket_url: str) -> None:
    from svardesk.conversations.tasks import send_mention_email

    send_mention_email(notification_id, ticket_url)


def _conversation_for_reply(ticket: Ticket, *, now: dt.datetime) -> Conversation:
    conversation = email_conversation_of(ticket)
    if conversation is not None:
        return conversation
    email_channel = first_email_channel()
    if email_channel is None:
        raise NoEmailChannelError(
            _("Connect an email channel before replying: there is no address to send from.")
        )
    return Conversation.objects.create(
        channel=email_channel.channel,
        inbox_id=email_channel.channel.inbox_id,
        ticket=ticket,
        contact=ticket.contact,
        subject=ticket.name,
        last_message_at=now,
    )


def _conversation_for_comment(ticket: Ticket, *, now: dt.datetime) -> Conversation:
    """Comments sit in the ticket's latest conversation; a ticket without one gets one on the
    first email channel (its first reply will use it too), else on any active channel."""
    conversation = (
        Conversation.objects.filter(ticket=ticket)
        .select_related("channel")
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )
    if conversation is not None:
        return conversation
    try:
        return _conversation_for_reply(ticket, now=now)
    except NoEmailChannelError:
        channel = Channel.objects.filter(is_active=True).order_by("pk").first()
        if channel is None:
            raise NoEmailChannelError(
                _("Connect a channel before adding comments: every note belongs to one.")
            ) from None
        return Conversation.objects.create(
            channel=channel,
            inbox_id=channel.inbox_id,
            ticket=ticket,
            contact=ticket.contact,
            subject=ticket.name,
            last_message_at=now,
        )


# --- Validation ------------------------------------------------------------------------------


def _clean_recipients(
    value: str | Iterable[str], field: str, errors: dict[str, str], ours: set[str]
) -> list[str]:
    entries: list[str] = []
    raw = [value] if isinstance(value, str) else list(value)
    for item in raw:
        good, bad = mail.split_address_list(item)
        entries.extend(good)
        if bad:
            errors[field] = _("“%(address)s” is not a valid email address.") % {"address": bad[0]}
    cleaned: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        address = mail.address_of(entry)
        try:
            validate_email(address)
        except ValidationError:
            errors[field] = _("“%(address)s” is not a valid email address.") % {"address": entry}
            continue
        if address in ours or address in seen:
            continue  # never mail ourselves: the copy would come straight back in
        seen.add(address)
        cleaned.append(entry)
    return cleaned


def check_attachments(files: Sequence[UploadedFile], *, limit: int) -> str:
    """An error message when a file (or all together) is over the size limit, else ""."""
    total = 0
    for upload in files:
        size = upload.size or 0
        total += size
        if size > limit:
            return _("“%(name)s” is %(size)s; attachments can be at most %(limit)s.") % {
                "name": upload.name,
                "size": filesizeformat(size),
                "limit": filesizeformat(limit),
            }
    if total > limit:
        return _("The attachments add up to %(size)s; together they can be at most %(limit)s.") % {
            "size": filesizeformat(total),
            "limit": filesizeformat(limit),
        }
    return ""


def _store_attachments(message: Message, files: Sequence[UploadedFile]) -> None:
    for upload in files:
        name = (upload.name or "attachment").rsplit("/", 1)[-1][:255]
        attachment = Attachment(
            message=message,
            filename=name,
            content_type=upload.content_type or "application/octet-stream",
            size=upload.size or 0,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()


def _record_activity(
    ticket: Ticket, *, now: dt.datetime, author: User | None, preview: str | None
) -> None:
    """The ticket's list columns: last activity, latest-message preview, who wrote last."""
    fields: dict[str, Any] = {"last_activity_at": now, "updated_at": now}
    if preview is not None:
        fields["preview"] = preview[:PREVIEW_LENGTH]
        fields["last_message_author"] = author
    Ticket.objects.filter(pk=ticket.pk).update(**fields)


def _waiting_on_contact_stage(ticket: Ticket) -> Stage | None:
    return Stage.objects.filter(
        pipeline_id=ticket.pipeline_id, name__iexact=WAITING_ON_CONTACT, is_closed=False
    ).first()


# --- Replies ---------------------------------------------------------------------------------


def send_reply(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    to: str | Iterable[str],
    cc: str | Iterable[str] = (),
    bcc: str | Iterable[str] = (),
    attachments: Sequence[UploadedFile] = (),
    client_token: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """Store an outbound email reply (queued) on the ticket's email conversation and send it
    from a background task after commit.

    The actor must be able to see the ticket (NotFoundError otherwise). The editor's HTML is
    sanitised before it is stored. A ticket without an email conversation gets one on the
    first connected email channel (NoEmailChannelError when there is none). The ticket's last
    activity, preview and last message author follow, and when the help desk settings say so
    an open ticket moves to "Waiting on contact" (recorded on its timeline).
    Raises ReplyValidationError, with nothing stored, for a bad reply.

    `client_token` names the composer's draft: the same draft posted again (a double click,
    a retried request, two at once) returns the reply stored the first time and sends
    nothing more."""
    return _once_per_draft(
        lambda: _store_reply(
            ticket,
            actor=actor,
            html=html,
            to=to,
            cc=cc,
            bcc=bcc,
            attachments=attachments,
            client_token=client_token,
            now=now,
        ),
        ticket=ticket,
        actor=actor,
        client_token=client_token,
        direction=MessageDirection.OUTBOUND,
    )


def _once_per_draft(
    store: Callable[[], Message],
    *,
    ticket: Ticket,
    actor: User,
    client_token: str,
    direction: str,
) -> Message:
    try:
        return store()
    except IntegrityError:
        # The same draft stored by a request running at the same time (the unique
        # constraint on author and token): everything of this attempt was rolled back.
        existing = _stored_draft(
            ticket, actor=actor, client_token=client_token, direction=direction
        )
        if existing is None:
            raise
        return existing


def _stored_draft(
    ticket: Ticket, *, actor: User, client_token: str, direction: str
) -> Message | None:
    """The message this draft already became, if it was posted before."""
    if not client_token:
        return None
    existing = (
        Message.objects.select_related("conversation")
        .filter(author=actor, client_token=client_token)
        .first()
    )
    if existing is None:
        return None
    if existing.conversation.ticket_id != ticket.pk or existing.direction != direction:
        raise ReplyValidationError(
            {
                "client_token": _(
                    "This draft was already sent from another ticket or tab. Reload the page "
                    "and write it again."
                )
            }
        )
    return existing


@transaction.atomic
def _store_reply(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    to: str | Iterable[str],
    cc: str | Iterable[str],
    bcc: str | Iterable[str],
    attachments: Sequence[UploadedFile],
    client_token: str,
    now: dt.datetime | None,
) -> Message:
    now = now or timezone.now()
    ticket = access_ticket(ticket.pk, actor=actor)
    existing = _stored_draft(
        ticket, actor=actor, client_token=client_token, direction=MessageDirection.OUTBOUND
    )
    if existing is not None:
        return existing  # sent (or queued) already: nothing more to do
    rules = HelpDeskSettings.load()
    body_html = mail.clean_editor_html(html)
    errors: dict[str, str] = {}
    if mail.is_blank_html(body_html):
        errors["html"] = _("Write a reply before sending it.")
    ours = team_addresses()
    to_list = _clean_recipients(to, "to", errors, ours)
    cc_list = _clean_recipients(cc, "cc", errors, ours)
    bcc_list = _clean_recipients(bcc, "bcc", errors, ours)
    if not to_list and "to" not in errors:
        errors["to"] = _("Add at least one recipient.")
    if len(to_list) + len(cc_list) + len(bcc_list) > MAX_RECIPIENTS:
        errors["to"] = _("A reply can go to at most %(count)s addresses.") % {
            "count": MAX_RECIPIENTS
        }
    attachment_error = check_attachments(attachments, limit=rules.max_attachment_bytes)
    if attachment_error:
        errors["attachments"] = attachment_error
    if errors:
        raise ReplyValidationError(errors)

    conversation = _conversation_for_reply(ticket, now=now)
    email_channel = conversation.channel.email
    parent = reply_target(conversation)
    domain = email_channel.address.rsplit("@", 1)[-1]
    text = mail.html_to_text(body_html)
    references: list[str] = []
    if parent is not None:
        references = [*parent.references, parent.message_id]
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=MessageDirection.OUTBOUND,
        author=actor,
        sender_name=actor.display_name,
        sender_address=email_channel.address,
        to=to_list,
        cc=cc_list,
        bcc=bcc_list,
        subject=mail.reply_subject(
            conversation.subject or ticket.name, ticket.pk, is_reply=parent is not None
        ),
        body_html=body_html,
        body_text=text,
        message_id=make_message_id(domain),
        in_reply_to=parent.message_id if parent is not None else "",
        references=mail.trim_references(references),
        delivery_status=DeliveryStatus.QUEUED,
        client_token=client_token or None,
        created_at=now,
    )
    _store_attachments(message, attachments)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, updated_at=now)
    _record_activity(ticket, now=now, author=actor, preview=text)
    if rules.move_to_waiting_on_contact_on_reply and ticket.is_open:
        stage = _waiting_on_contact_stage(ticket)
        if stage is not None and stage.pk != ticket.stage_id:
            update_ticket(ticket.pk, actor=actor, changes={"stage": stage.pk}, now=now)
    after_commit(_enqueue_delivery, message.pk)
    after_commit(_announce, ticket.pk, actor.pk)
    return message


def _load_outbound(message_id: int) -> Message | None:
    return (
        Message.objects.select_related("channel", "channel__email", "author", "conversation")
        .filter(pk=message_id, direction=MessageDirection.OUTBOUND)
        .first()
    )


def deliver_email_message(message_id: int, *, is_final_attempt: bool) -> str:
    """Send a queued reply once. Returns "sent", or "skipped" for a message that is not
    queued (already sent, failed for good, bounced) or that another worker just claimed.

    A failure records the error; on the final attempt the message becomes "failed" (the
    ticket shows Retry), otherwise DeliveryFailedError is raised so the task retries. No
    transaction is held while talking to the SMTP server."""
    from svardesk.channels.email.outbound import describe_destination, smtp_connection_for

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
    parent = None
    if message.in_reply_to:
        parent = (
            Message.objects.filter(channel_id=message.channel_id, message_id=message.in_reply_to)
            .exclude(pk=message.pk)
            .first()
        )
    try:
        connection = smtp_connection_for(message.channel.email)
        email = mail.build_reply_email(message, parent=parent, connection=connection)
        email.send(fail_silently=False)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.warning("Sending message %s failed: %s", message.pk, error)
        status = DeliveryStatus.FAILED if is_final_attempt else DeliveryStatus.QUEUED
        Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
            delivery_status=status, delivery_error=error, sending_since=None
        )
        _announce(ticket_id, None)
        if is_final_attempt:
            return "failed"
        raise DeliveryFailedError(error) from exc
    Message.objects.filter(pk=message.pk, delivery_status=DeliveryStatus.QUEUED).update(
        delivery_status=DeliveryStatus.SENT,
        delivery_error="",
        sending_since=None,
        delivered_via=describe_destination(connection)[:255],
    )
    _announce(ticket_id, None)
    return "sent"


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
        _enqueue_delivery(message_id)
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
    after_commit(_enqueue_delivery, message.pk)
    after_commit(_announce, ticket_id, actor.pk)
    return message


# --- Comments and mentions -------------------------------------------------------------------


def add_comment(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    mentioned_user_ids: Iterable[int] = (),
    ticket_url: str = "",
    client_token: str = "",
    now: dt.datetime | None = None,
) -> Message:
    """An internal note on the ticket, never sent to the customer. Each mentioned user whose
    "@Name" is still in the text and who may see the ticket gets a notification and, after
    commit, an email (`ticket_url` links back to the ticket). The same draft
    (`client_token`) posted again returns the comment stored the first time."""
    return _once_per_draft(
        lambda: _store_comment(
            ticket,
            actor=actor,
            html=html,
            mentioned_user_ids=mentioned_user_ids,
            ticket_url=ticket_url,
            client_token=client_token,
            now=now,
        ),
        ticket=ticket,
        actor=actor,
        client_token=client_token,
        direction=MessageDirection.COMMENT,
    )


@transaction.atomic
def _store_comment(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    mentioned_user_ids: Iterable[int],
    ticket_url: str,
    client_token: str,
    now: dt.datetime | None,
) -> Message:
    now = now or timezone.now()
    ticket = access_ticket(ticket.pk, actor=actor)
    existing = _stored_draft(
        ticket, actor=actor, client_token=client_token, direction=MessageDirection.COMMENT
    )
    if existing is not None:
        return existing
    body_html = mail.clean_editor_html(html)
    if mail.is_blank_html(body_html):
        raise ReplyValidationError({"html": _("Write a comment before saving it.")})
    conversation = _conversation_for_comment(ticket, now=now)
    text = mail.html_to_text(body_html)
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=MessageDirection.COMMENT,
        author=actor,
        sender_name=actor.display_name,
        body_html=body_html,
        body_text=text,
        delivery_status=DeliveryStatus.RECEIVED,
        client_token=client_token or None,
        created_at=now,
    )
    _record_activity(ticket, now=now, author=None, preview=None)
    ids = {pk for pk in map(parse_id, mentioned_user_ids) if pk is not None}
    for user in mentionable_users().filter(pk__in=ids).exclude(pk=actor.pk):
        if f"@{user.display_name}" not in text:
            continue
        if not visible_tickets(user).filter(pk=ticket.pk).exists():
            continue
        notification = Notification.objects.create(
            user=user, kind=Notification.Kind.MENTION, ticket=ticket, message=message, actor=actor
        )
        after_commit(_enqueue_mention_email, notification.pk, ticket_url)
    after_commit(_announce, ticket.pk, actor.pk)
    return message


# --- Notifications ---------------------------------------------------------------------------


@transaction.atomic
def mark_notification_read(
    notification: Notification, *, actor: User, now: dt.datetime | None = None
) -> Notification:
    """Mark one of the actor's notifications as read (someone else's is not found)."""
    from svardesk.core.exceptions import NotFoundError

    if notification.user_id != actor.pk:
        raise NotFoundError("No such notification")
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_notifications_read(*, actor: User, now: dt.datetime | None = None) -> int:
    return Notification.objects.filter(user=actor, read_at__isnull=True).update(
        read_at=now or timezone.now()
    )


# --- Spam ------------------------------------------------------------------------------------


def _check_may_block_senders(actor: User) -> None:
    if not may_block_senders(actor):
        raise PermissionDeniedError(
            _("Only super admins and users with Account access block or unblock senders.")
        )


@transaction.atomic
def mark_ticket_spam(ticket: Ticket, *, actor: User, block_sender: bool = False) -> str:
    """Mark the ticket and its conversations as spam: it leaves every view but Spam. With
    `block_sender`, further mail from the sender goes straight to Spam. Returns the address
    blocked ("" when none). Blocking needs `may_block_senders` (PermissionDeniedError, and
    nothing changes)."""
    ticket = access_ticket(ticket.pk, actor=actor)
    if block_sender:
        _check_may_block_senders(actor)
    mark_spam([ticket.pk], actor=actor, is_spam=True)
    Conversation.objects.filter(ticket=ticket).update(is_spam=True, updated_at=timezone.now())
    address = sender_address_of(ticket) if block_sender else ""
    if address:
        BlockedSender.objects.get_or_create(address=address, defaults={"blocked_by": actor})
    return address


@transaction.atomic
def mark_ticket_not_spam(ticket: Ticket, *, actor: User, unblock_sender: bool = False) -> str:
    """Undo `mark_ticket_spam`; with `unblock_sender` the sender's mail is accepted again.
    Returns the address unblocked ("" when none). Unblocking needs `may_block_senders`."""
    ticket = access_ticket(ticket.pk, actor=actor)
    if unblock_sender:
        _check_may_block_senders(actor)
    mark_spam([ticket.pk], actor=actor, is_spam=False)
    Conversation.objects.filter(ticket=ticket).update(is_spam=False, updated_at=timezone.now())
    address = sender_address_of(ticket) if unblock_sender else ""
    if address:
        deleted, _rows = BlockedSender.objects.filter(address__iexact=address).delete()
        if not deleted:
            address = ""
    return address
