"""The agent's side of conversations: replies, internal comments with mentions, automatic
messages (transcripts, confirmations), follow-up conversations, notifications, and marking a
ticket's conversation as spam. Delivery and its retries are in `delivery.py` (its names are
imported here too, for callers written before it moved).

No channel is named here: a reply is composed and delivered by the conversation's channel
adapter (`conversations.registry`). Every write is atomic with an explicit actor; a message
leaves after commit — from a Huey task, or at once in this process for a channel that
`delivers_immediately` (the task queue takes over if that fails) — and the browsers hear
about changes through `tickets.signals.ticket_changed`.
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
from django.db.models import F, Max, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.conversations.content import html_to_text
from svardesk.conversations.delivery import (
    SEND_LEASE as SEND_LEASE,
)
from svardesk.conversations.delivery import (
    STUCK_AFTER as STUCK_AFTER,
)
from svardesk.conversations.delivery import (
    DeliveryFailedError as DeliveryFailedError,
)
from svardesk.conversations.delivery import (
    MessageNotRetryableError as MessageNotRetryableError,
)
from svardesk.conversations.delivery import announce as _announce
from svardesk.conversations.delivery import deliver_email_message as deliver_email_message
from svardesk.conversations.delivery import deliver_message as deliver_message
from svardesk.conversations.delivery import dispatch_delivery as _dispatch_delivery
from svardesk.conversations.delivery import requeue_stuck_replies as requeue_stuck_replies
from svardesk.conversations.delivery import retry_delivery as retry_delivery
from svardesk.conversations.editor import clean_editor_html, is_blank_html, text_as_html
from svardesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    DeliveryStatus,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
    Notification,
)
from svardesk.conversations.queries import (
    adapter_of,
    first_starting_channel,
    help_desk_inbox_ids,
    helpdesk_settings,
    is_in_help_desk,
    may_block_senders,
    mentionable_users,
    reply_blocked_reason,
    reply_conversation_of,
    reply_target,
    spam_sender_of,
    team_addresses,
)
from svardesk.conversations.registry import ChannelAdapter, get_adapter
from svardesk.conversations.signals import message_created, message_exchanged
from svardesk.core.addresses import address_of, split_address_list
from svardesk.core.exceptions import NotFoundError, PermissionDeniedError, SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.core.parsing import parse_id
from svardesk.core.precompiled import precompiled_objects
from svardesk.tickets.models import Stage, Ticket
from svardesk.tickets.queries import access_ticket, list_stages_cached, visible_tickets
from svardesk.tickets.services import mark_spam, move_to_stage

logger = logging.getLogger(__name__)

WAITING_ON_CONTACT = "Waiting on contact"
MAX_RECIPIENTS = 50
PREVIEW_LENGTH = 200


class ReplyValidationError(SvardeskError):
    """The reply or comment cannot be sent as it is; `errors` maps fields to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NoReplyChannelError(SvardeskError):
    """The ticket has no conversation to reply on, and no channel that starts conversations
    (an email address) is connected to start one."""


# The name before channels plugged in; kept for callers written against it.
NoEmailChannelError = NoReplyChannelError


class NoRecipientError(SvardeskError):
    """A new conversation needs an address: the ticket's contact has none."""


def _message_created(message: Message, ticket_id: int) -> None:
    """Announce a new message after commit (webhooks out listen)."""
    kind = "COMMENT" if message.direction == MessageDirection.COMMENT else "MESSAGE"
    after_commit(
        message_created.send,
        sender=Message,
        message_id=message.pk,
        conversation_id=message.conversation_id,
        ticket_id=ticket_id,
        kind=kind,
    )


def _enqueue_mention_email(notification_id: int, ticket_url: str) -> None:
    from svardesk.conversations.tasks import send_mention_email

    send_mention_email(notification_id, ticket_url)


def _start_conversation(ticket: Ticket, channel: Channel, *, now: dt.datetime) -> Conversation:
    return Conversation.objects.create(
        channel=channel,
        inbox_id=channel.inbox_id,
        ticket=ticket,
        contact=ticket.contact,
        subject=ticket.name,
        last_message_at=now,
    )


def _conversation_for_reply(ticket: Ticket, *, now: dt.datetime) -> Conversation:
    """The ticket's latest conversation on an active channel that takes replies (any kind);
    for a ticket without one, a new conversation on the first active channel that starts
    conversations (NoReplyChannelError when there is none)."""
    conversation = reply_conversation_of(ticket)
    if conversation is not None:
        return conversation
    channel = first_starting_channel()
    if channel is None:
        raise NoReplyChannelError(
            _("Connect an email channel before replying: there is no address to send from.")
        )
    return _start_conversation(ticket, channel, now=now)


def _conversation_for_comment(ticket: Ticket, *, now: dt.datetime) -> Conversation:
    """Comments sit in the ticket's latest conversation, on any channel; a ticket without one
    gets one where its first reply would go, else on any active channel."""
    conversation = (
        Conversation.objects.filter(ticket=ticket, inbox_id__in=help_desk_inbox_ids())
        .select_related("channel")
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )
    if conversation is not None:
        return conversation
    try:
        return _conversation_for_reply(ticket, now=now)
    except NoReplyChannelError:
        channel = Channel.objects.filter(is_active=True).order_by("pk").first()
        if channel is None:
            raise NoReplyChannelError(
                _("Connect a channel before adding comments: every note belongs to one.")
            ) from None
        return _start_conversation(ticket, channel, now=now)


def _ticket_conversation(ticket: Ticket, conversation: Conversation) -> Conversation:
    """`conversation` read again, with its channel, contact and ticket; NotFoundError when
    it is not one of the ticket's."""
    chosen = (
        Conversation.objects.select_related("channel", "contact", "ticket")
        .filter(pk=conversation.pk, ticket=ticket)
        .first()
    )
    if chosen is None:
        raise NotFoundError("No such conversation")
    return chosen


def _chosen_reply_conversation(ticket: Ticket, conversation: Conversation) -> Conversation:
    chosen = _ticket_conversation(ticket, conversation)
    adapter = adapter_of(chosen.channel)
    if not is_in_help_desk(chosen):
        raise ReplyValidationError(
            {
                "channel": _(
                    "This conversation was moved to another inbox: no reply goes out on it "
                    "from this ticket."
                )
            }
        )
    if not chosen.channel.is_active or adapter is None or not adapter.capabilities.replies:
        raise ReplyValidationError(
            {
                "channel": _(
                    "This conversation's channel takes no replies: it is disconnected or "
                    "only brings messages in. Reply on another conversation of the ticket."
                )
            }
        )
    return chosen


# --- Validation ------------------------------------------------------------------------------


def _clean_recipients(
    value: str | Iterable[str], field: str, errors: dict[str, str], ours: set[str]
) -> list[str]:
    entries: list[str] = []
    raw = [value] if isinstance(value, str) else list(value)
    for item in raw:
        good, bad = split_address_list(item)
        entries.extend(good)
        if bad:
            errors[field] = _("“%(address)s” is not a valid email address.") % {"address": bad[0]}
    cleaned: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        address = address_of(entry)
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
    # The pipeline's stages as the ticket pages read them (kept per process for a few
    # seconds, cleared when a stage is saved here): every reply asks.
    wanted = WAITING_ON_CONTACT.casefold()
    return next(
        (
            stage
            for stage in list_stages_cached(ticket.pipeline_id)
            if stage.name.casefold() == wanted and not stage.is_closed
        ),
        None,
    )


# --- Replies ---------------------------------------------------------------------------------


def send_reply(
    ticket: Ticket,
    *,
    actor: User,
    html: str = "",
    text: str = "",
    to: str | Iterable[str] = (),
    cc: str | Iterable[str] = (),
    bcc: str | Iterable[str] = (),
    attachments: Sequence[UploadedFile] = (),
    client_token: str = "",
    conversation: Conversation | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """Store an outbound reply (queued) on the ticket's latest conversation on an active
    channel (any kind), and deliver it through that channel's adapter after commit.
    `conversation` picks one of the ticket's conversations instead (the API replies in the
    thread it names): NotFoundError when it is not the ticket's, ReplyValidationError when
    its channel is disconnected or takes no replies.

    The actor must be able to see the ticket (NotFoundError otherwise). A ticket without a
    conversation to reply on gets one on the first active channel whose adapter starts
    conversations (NoReplyChannelError when there is none). What the reply may hold follows
    the channel's capabilities: To/Cc/Bcc only where it has them (else the recipient is the
    conversation's customer, and Cc/Bcc are refused); the editor's HTML, sanitised, where it
    takes rich text, else plain text (`text`, or the HTML's text) stored with escaped line
    breaks; attachments only where it takes them. The adapter's `reply_blocked_reason`
    refuses the reply with its message. Raises ReplyValidationError, with nothing stored, for
    a bad reply. The ticket's last activity, preview and last message author follow, and
    when the help desk settings say so an open ticket moves to "Waiting on contact"
    (recorded on its timeline).

    `client_token` names the composer's draft: the same draft posted again (a double click,
    a retried request, two at once) returns the reply stored the first time and sends
    nothing more."""
    return _once_per_draft(
        lambda: _store_reply(
            ticket,
            actor=actor,
            html=html,
            text=text,
            to=to,
            cc=cc,
            bcc=bcc,
            attachments=attachments,
            client_token=client_token,
            conversation=conversation,
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


def _draft_message(author_id: int, client_token: str) -> QuerySet[Message]:
    return (
        Message.objects.select_related("conversation")
        .filter(author_id=author_id, client_token=client_token)
        .order_by("created_at", "id")[:1]
    )


def _stored_draft(
    ticket: Ticket, *, actor: User, client_token: str, direction: str
) -> Message | None:
    """The message this draft already became, if it was posted before."""
    if not client_token:
        return None
    # Looked for on every reply and comment: compiled once (core.precompiled).
    found = precompiled_objects(
        Message, "conversations.stored_draft", _draft_message, actor.pk, client_token
    )
    existing = found[0] if found else None
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


def _is_given(value: str | Iterable[str]) -> bool:
    values = [value] if isinstance(value, str) else list(value)
    return any(str(v).strip() for v in values)


def _reply_body(rich_text: bool, *, html: str, text: str) -> tuple[str, str]:
    """(body_html, body_text) of a reply: sanitised editor HTML on a rich-text channel, else
    the text (the HTML's text when only HTML came) with escaped line breaks as its HTML."""
    if rich_text and (html.strip() or not text.strip()):
        body_html = clean_editor_html(html)
        return body_html, html_to_text(body_html)
    plain = text if text.strip() else html_to_text(clean_editor_html(html))
    plain = plain.replace("\r\n", "\n").replace("\r", "\n").strip()
    return (text_as_html(plain) if plain else ""), plain


def _check_recipients(
    adapter: ChannelAdapter,
    *,
    to: str | Iterable[str],
    cc: str | Iterable[str],
    bcc: str | Iterable[str],
    errors: dict[str, str],
) -> tuple[list[str], list[str], list[str]]:
    if not adapter.capabilities.cc_bcc:
        # The recipient is the conversation's customer; a To sent anyway (a stale editor) is
        # ignored, a Cc or Bcc would silently not be copied, so it is refused.
        if _is_given(cc) or _is_given(bcc):
            errors["cc"] = _(
                "%(channel)s replies go to the conversation's customer only: Cc and Bcc are "
                "not available."
            ) % {"channel": adapter.label}
        return [], [], []
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
    return to_list, cc_list, bcc_list


@transaction.atomic
def _store_reply(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    text: str,
    to: str | Iterable[str],
    cc: str | Iterable[str],
    bcc: str | Iterable[str],
    attachments: Sequence[UploadedFile],
    client_token: str,
    conversation: Conversation | None,
    now: dt.datetime | None,
) -> Message:
    now = now or timezone.now()
    ticket = access_ticket(ticket.pk, actor=actor)
    existing = _stored_draft(
        ticket, actor=actor, client_token=client_token, direction=MessageDirection.OUTBOUND
    )
    if existing is not None:
        return existing  # sent (or queued) already: nothing more to do
    rules = helpdesk_settings()
    if conversation is not None:
        conversation = _chosen_reply_conversation(ticket, conversation)
    else:
        # A conversation started here is rolled back with everything else when the reply
        # fails.
        conversation = _conversation_for_reply(ticket, now=now)
    adapter = get_adapter(conversation.channel.kind)
    capabilities = adapter.capabilities
    errors: dict[str, str] = {}
    blocked = reply_blocked_reason(conversation, adapter, now=now)
    if blocked:
        errors["channel"] = blocked
    body_html, body_text = _reply_body(capabilities.rich_text, html=html, text=text)
    if is_blank_html(body_html):
        errors["html"] = _("Write a reply before sending it.")
    to_list, cc_list, bcc_list = _check_recipients(adapter, to=to, cc=cc, bcc=bcc, errors=errors)
    if attachments and not capabilities.attachments:
        errors["attachments"] = _(
            "Files cannot be sent on %(channel)s. Remove the attachments, or share a link."
        ) % {"channel": adapter.label}
    else:
        attachment_error = check_attachments(attachments, limit=rules.max_attachment_bytes)
        if attachment_error:
            errors["attachments"] = attachment_error
    if errors:
        raise ReplyValidationError(errors)

    parent = reply_target(conversation)
    fields = adapter.compose_reply(conversation, actor=actor, body_text=body_text, parent=parent)
    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=MessageDirection.OUTBOUND,
        author=actor,
        sender_name=actor.display_name,
        sender_address=fields.sender_address[:320],
        to=to_list if capabilities.cc_bcc else list(fields.to),
        cc=cc_list,
        bcc=bcc_list,
        subject=fields.subject[:998],
        body_html=body_html,
        body_text=body_text,
        message_id=fields.message_id,
        in_reply_to=fields.in_reply_to,
        references=list(fields.references),
        delivery_status=DeliveryStatus.QUEUED,
        client_token=client_token or None,
        created_at=now,
    )
    # First of the hooks that run after commit: a live channel's customer gets the reply
    # before the announcements of what else it changed (the stage, below) are made.
    after_commit(_dispatch_delivery, message.pk, adapter.delivers_immediately)
    _store_attachments(message, attachments)
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now, updated_at=now)
    _record_activity(ticket, now=now, author=actor, preview=body_text)
    message_exchanged.send(
        sender=Message, messages=[(ticket.pk, now)], direction=MessageDirection.OUTBOUND
    )
    if rules.move_to_waiting_on_contact_on_reply and ticket.is_open:
        stage = _waiting_on_contact_stage(ticket)
        if stage is not None and stage.pk != ticket.stage_id:
            # The stage alone: move_to_stage reads no more of the ticket than it changes.
            move_to_stage([ticket.pk], stage, actor=actor, now=now)
    after_commit(_announce, ticket.pk, actor.pk)
    _message_created(message, ticket.pk)
    return message


# --- Channels --------------------------------------------------------------------------------


def help_desk_inbox() -> Inbox:
    """The help desk's inbox, where a newly connected channel goes (made when missing: a
    transactional test's flush removes the one the migrations made)."""
    inbox = Inbox.objects.filter(kind=InboxKind.HELP_DESK).order_by("id").first()
    if inbox is None:
        inbox = Inbox.objects.create(name="Help desk", kind=InboxKind.HELP_DESK)
    return inbox


def may_manage_channels(user: User) -> bool:
    """Super admins and users with Account access connect and disconnect channels."""
    return bool(user.is_active and (user.is_superuser or user.has_account_access))


def check_may_manage_channels(actor: User | None) -> None:
    """A channel's connect and settings services start here: PermissionDeniedError unless
    `actor` may manage channels; None is a management command."""
    if actor is not None and not may_manage_channels(actor):
        raise PermissionDeniedError(
            _("Channels are managed by super admins and users with Account access.")
        )


@transaction.atomic
def disconnect_channel(channel: Channel, *, actor: User | None) -> Channel:
    """Stop taking messages on `channel` (the generic disconnect; a channel with a page of its
    own, e.g. email's, also erases what it stores). Its tickets and conversations stay, and no
    reply goes out on it any more. Needs `may_manage_channels` (PermissionDeniedError); None
    is a command (the demo loader)."""
    if actor is not None and not may_manage_channels(actor):
        raise PermissionDeniedError(_("Connecting channels needs the Account access permission."))
    Channel.objects.filter(pk=channel.pk).update(is_active=False, updated_at=timezone.now())
    channel.is_active = False
    return channel


# --- Automatic messages and follow-ups --------------------------------------------------------


def _starting_channel() -> Channel:
    channel = first_starting_channel()
    if channel is None:
        raise NoReplyChannelError(
            _("Connect an email channel before replying: there is no address to send from.")
        )
    return channel


def send_automatic_message(
    ticket: Ticket,
    *,
    to: str,
    subject: str,
    text: str,
    dedupe_key: str,
    channel: Channel | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """Send an automatic message (a chat's transcript, a form's confirmation) to `to` on the
    ticket's conversation on `channel` (default: the first active channel that starts
    conversations; NoReplyChannelError when there is none), started if the ticket has none
    there. It is outbound, author-less and `is_auto_generated`; stored, then delivered after
    commit like a reply (claim, lease, retries).

    The same `dedupe_key` (e.g. "chat-transcript:<conversation id>") stores and sends ONE
    message however often it is called — several workers, a restart, a retried task: the
    adapter derives the Message-ID from the key and the unique (channel, message_id)
    constraint keeps the second out; the first one is returned. It never moves the ticket's
    stage and is not an agent's response (no last message author). A customer's answer to
    it threads into the ticket like an answer to any reply."""
    if not dedupe_key:
        raise ValueError("An automatic message needs a dedupe_key.")
    channel = channel or _starting_channel()
    attempt: dict[str, str] = {}
    try:
        return _store_automatic(
            ticket,
            channel=channel,
            to=to,
            subject=subject,
            text=text,
            dedupe_key=dedupe_key,
            now=now or timezone.now(),
            attempt=attempt,
        )
    except IntegrityError:
        # Stored by a worker running at the same time: everything of this attempt was
        # rolled back (its conversation too).
        existing = Message.objects.filter(
            channel=channel, message_id=attempt.get("message_id", "")
        ).first()
        if existing is None:
            raise
        return existing


@transaction.atomic
def _store_automatic(
    ticket: Ticket,
    *,
    channel: Channel,
    to: str,
    subject: str,
    text: str,
    dedupe_key: str,
    now: dt.datetime,
    attempt: dict[str, str],
) -> Message:
    adapter = get_adapter(channel.kind)
    errors: dict[str, str] = {}
    recipients = [to.strip()] if to.strip() else []
    if adapter.capabilities.cc_bcc:
        recipients = _clean_recipients(to, "to", errors, set())
        if not recipients and "to" not in errors:
            errors["to"] = _("Add at least one recipient.")
    if errors:
        raise ReplyValidationError(errors)
    conversation = (
        Conversation.objects.select_related("channel", "ticket")
        .filter(ticket=ticket, channel=channel)
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )
    started = conversation is None
    if conversation is None:
        conversation = Conversation.objects.create(
            channel=channel,
            inbox_id=channel.inbox_id,
            ticket=ticket,
            contact=ticket.contact,
            subject=subject or ticket.name,
            last_message_at=now,
        )
    fields = adapter.compose_automatic(conversation, subject=subject, dedupe_key=dedupe_key)
    if not fields.message_id:
        raise ValueError(f"The {channel.kind} adapter gave no Message-ID for a dedupe key.")
    attempt["message_id"] = fields.message_id
    existing = Message.objects.filter(channel=channel, message_id=fields.message_id).first()
    if existing is not None:
        if started:  # another worker's message went in meanwhile: no empty conversation
            conversation.delete()
        return existing  # stored (and sent or queued) before
    body_text = text.replace("\r\n", "\n").strip()
    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.OUTBOUND,
        author=None,
        sender_name=channel.name[:255],
        sender_address=fields.sender_address[:320],
        to=recipients,
        subject=fields.subject[:998],
        body_html=text_as_html(body_text),
        body_text=body_text,
        message_id=fields.message_id,
        in_reply_to=fields.in_reply_to,
        references=list(fields.references),
        delivery_status=DeliveryStatus.QUEUED,
        is_auto_generated=True,
        created_at=now,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message_at=Greatest(Coalesce(F("last_message_at"), now), now), updated_at=now
    )
    after_commit(_dispatch_delivery, message.pk, adapter.delivers_immediately)
    after_commit(_announce, ticket.pk, None)
    _message_created(message, ticket.pk)
    return message


@transaction.atomic
def start_follow_up_conversation(
    ticket: Ticket, *, now: dt.datetime | None = None
) -> Conversation | None:
    """Give the ticket a conversation on the first active channel that starts conversations
    (an email address), to the ticket's contact and newer than its other conversations, so
    the agents' next reply goes out there (a chat whose visitor left is answered by email).
    A ticket whose latest conversation is on such a channel already keeps it (calling this
    twice starts one). None when no such channel exists."""
    now = now or timezone.now()
    channel = first_starting_channel()
    if channel is None:
        return None
    latest = (
        Conversation.objects.select_related("channel")
        .filter(ticket=ticket)
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )
    if latest is not None and latest.channel.is_active:
        adapter = adapter_of(latest.channel)
        if adapter is not None and adapter.capabilities.starts_conversations:
            return latest
    newest = Conversation.objects.filter(ticket=ticket).aggregate(at=Max("last_message_at"))["at"]
    if newest is not None and newest >= now:
        now = newest + dt.timedelta(microseconds=1)
    conversation = _start_conversation(ticket, channel, now=now)
    after_commit(_announce, ticket.pk, None)
    return conversation


# --- Comments and mentions -------------------------------------------------------------------


def add_comment(
    ticket: Ticket,
    *,
    actor: User,
    html: str,
    mentioned_user_ids: Iterable[int] = (),
    ticket_url: str = "",
    client_token: str = "",
    conversation: Conversation | None = None,
    now: dt.datetime | None = None,
) -> Message:
    """An internal note on the ticket, never sent to the customer. Each mentioned user whose
    "@Name" is still in the text and who may see the ticket gets a notification and, after
    commit, an email (`ticket_url` links back to the ticket). The same draft
    (`client_token`) posted again returns the comment stored the first time. It goes in the
    ticket's latest conversation, or in `conversation` (one of the ticket's, on any channel;
    NotFoundError otherwise)."""
    return _once_per_draft(
        lambda: _store_comment(
            ticket,
            actor=actor,
            html=html,
            mentioned_user_ids=mentioned_user_ids,
            ticket_url=ticket_url,
            client_token=client_token,
            conversation=conversation,
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
    conversation: Conversation | None,
    now: dt.datetime | None,
) -> Message:
    now = now or timezone.now()
    ticket = access_ticket(ticket.pk, actor=actor)
    existing = _stored_draft(
        ticket, actor=actor, client_token=client_token, direction=MessageDirection.COMMENT
    )
    if existing is not None:
        return existing
    body_html = clean_editor_html(html)
    if is_blank_html(body_html):
        raise ReplyValidationError({"html": _("Write a comment before saving it.")})
    if conversation is not None:
        conversation = _ticket_conversation(ticket, conversation)
    else:
        conversation = _conversation_for_comment(ticket, now=now)
    text = html_to_text(body_html)
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
    _message_created(message, ticket.pk)
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
    `block_sender`, further messages from the sender go straight to Spam, blocked by the
    channel they came by (`ChannelAdapter.block_sender`; a channel that cannot block blocks
    nothing). Returns the address blocked ("" when none). Blocking needs
    `may_block_senders` (PermissionDeniedError, and nothing changes)."""
    ticket = access_ticket(ticket.pk, actor=actor)
    if block_sender:
        _check_may_block_senders(actor)
    mark_spam([ticket.pk], actor=actor, is_spam=True)
    Conversation.objects.filter(ticket=ticket).update(is_spam=True, updated_at=timezone.now())
    if not block_sender:
        return ""
    sender = spam_sender_of(ticket)
    if not sender.address or sender.adapter is None:
        return ""
    return sender.address if sender.adapter.block_sender(sender.address, actor=actor) else ""


@transaction.atomic
def mark_ticket_not_spam(ticket: Ticket, *, actor: User, unblock_sender: bool = False) -> str:
    """Undo `mark_ticket_spam`; with `unblock_sender` the sender's messages are accepted
    again. Returns the address unblocked ("" when none was blocked). Unblocking needs
    `may_block_senders`."""
    ticket = access_ticket(ticket.pk, actor=actor)
    if unblock_sender:
        _check_may_block_senders(actor)
    mark_spam([ticket.pk], actor=actor, is_spam=False)
    Conversation.objects.filter(ticket=ticket).update(is_spam=False, updated_at=timezone.now())
    if not unblock_sender:
        return ""
    sender = spam_sender_of(ticket)
    if not sender.address or sender.adapter is None:
        return ""
    return sender.address if sender.adapter.unblock_sender(sender.address, actor=actor) else ""


# --- Archiving (the API's thread trash) -------------------------------------------------------


@transaction.atomic
def archive_conversation(
    conversation: Conversation, *, actor: User, now: dt.datetime | None = None
) -> Conversation:
    """Move a conversation to the API's thread trash: it leaves the thread lists but keeps
    its messages and its ticket. Archiving an archived conversation changes nothing."""
    if conversation.archived_at is None:
        conversation.archived_at = now or timezone.now()
        conversation.save(update_fields=["archived_at", "updated_at"])
    return conversation


@transaction.atomic
def restore_conversation(
    conversation: Conversation, *, actor: User, now: dt.datetime | None = None
) -> Conversation:
    """Take a conversation out of the thread trash."""
    if conversation.archived_at is not None:
        conversation.archived_at = None
        conversation.save(update_fields=["archived_at", "updated_at"])
    return conversation
