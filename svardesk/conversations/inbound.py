"""The one way in for a customer's message, whatever the channel: `record_inbound_message`.

It matches or creates the contact, continues the given conversation or starts one with its
ticket, follows merged tickets to the survivor, reopens a closed ticket (or opens a linked
follow-up, per the help desk settings), moves the ticket to "Waiting on us", stores the
attachments and announces the change after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from svardesk.conversations.content import (
    QUOTED_OPEN,
    normalise_content_id,
    rewrite_cid_sources,
    sanitize_message_html,
    split_quoted_text,
)
from svardesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Message,
    MessageDirection,
)
from svardesk.conversations.queries import help_desk_inbox_ids, is_in_help_desk
from svardesk.conversations.registry import UnknownChannelError, get_adapter
from svardesk.conversations.signals import message_created, message_exchanged
from svardesk.core.local_cache import cached
from svardesk.core.on_commit import after_commit
from svardesk.core.text import single_line
from svardesk.crm import services as crm_services
from svardesk.crm.models import Contact
from svardesk.crm.names import split_display_name
from svardesk.tickets.models import Source, Stage, Ticket
from svardesk.tickets.services import (
    NewTicket,
    announce_changed,
    create_tickets,
    ensure_default_pipeline,
    mark_spam,
    move_to_stage,
)
from svardesk.tickets.signals import ticket_changed

logger = logging.getLogger(__name__)

WAITING_ON_US = "Waiting on us"
DESCRIPTION_LENGTH = 2000
PREVIEW_LENGTH = 200
MAX_MERGE_CHAIN = 20


@dataclass(frozen=True)
class InboundAttachment:
    """A file that came with a message. Give `payload` (stored by record_inbound_message) or
    `stored_name` (already in default_storage, see `store_attachment_files`)."""

    filename: str
    content_type: str
    size: int
    content_id: str = ""
    is_inline: bool = False
    payload: bytes | None = None
    stored_name: str = ""
    dropped_reason: str = ""  # set when the file was not stored (e.g. over the size limit)


# --- Attachment files -----------------------------------------------------------------------


def _storage_name(filename: str, now: dt.datetime) -> str:
    safe = default_storage.get_valid_name(filename) or "attachment"
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}/{safe[:150]}"


def store_attachment_files(
    attachments: Sequence[InboundAttachment], *, max_bytes: int | None = None
) -> list[InboundAttachment]:
    """Write the payloads to default_storage (call outside a transaction: storage may be
    remote). Files over the limit (HelpDeskSettings.max_attachment_bytes unless given) are not
    stored; they come back with `dropped_reason`, which record_inbound_message shows on the
    message. On failure, already written files are removed."""
    if not any(a.payload is not None for a in attachments):
        return list(attachments)
    limit = _settings().max_attachment_bytes if max_bytes is None else max_bytes
    now = timezone.now()
    result: list[InboundAttachment] = []
    try:
        for item in attachments:
            if item.stored_name or item.dropped_reason or item.payload is None:
                result.append(item)
                continue
            if item.size > limit:
                reason = _(
                    "The attachment “%(name)s” (%(size)s) was not stored: attachments can be "
                    "at most %(limit)s."
                ) % {
                    "name": item.filename,
                    "size": filesizeformat(item.size),
                    "limit": filesizeformat(limit),
                }
                result.append(replace(item, payload=None, dropped_reason=reason))
                continue
            name = default_storage.save(
                _storage_name(item.filename, now), ContentFile(item.payload)
            )
            result.append(replace(item, payload=None, stored_name=name))
    except BaseException:
        delete_attachment_files(result)
        raise
    return result


def delete_attachment_files(attachments: Sequence[InboundAttachment]) -> None:
    for item in attachments:
        if item.stored_name:
            try:
                default_storage.delete(item.stored_name)
            except Exception:  # cleanup is best effort
                logger.warning("Could not delete attachment file %s", item.stored_name)


# --- Contacts -------------------------------------------------------------------------------


def match_or_create_contact(address: str, display_name: str) -> Contact | None:
    """The contact owning this address (any of a contact's addresses, case-insensitive), or
    a new one named from the display name. A known contact without a name gets one."""
    return match_or_create_contacts([(address, display_name)]).get(address.strip().lower())


def match_or_create_contacts(senders: Sequence[tuple[str, str]]) -> dict[str, Contact]:
    """`match_or_create_contact` for many (address, display name) pairs at once, keyed by the
    lower-case address: crm's one way to find or create a sender's contact (one lookup; for
    new senders their address rows, their company by email domain and their timeline)."""
    return crm_services.find_or_create_contacts_for_addresses(senders)


def link_contact(conversation: Conversation, message: Message, contact: Contact) -> None:
    """Give a conversation, its message and its ticket (when it has none) the sender's
    contact. The core matches senders by email address only; a channel whose senders have
    none (a chat visitor, a caller's number, a Messenger user) finds or creates the contact
    itself and links it here, in the transaction that recorded the message."""
    if conversation.contact_id != contact.pk:
        Conversation.objects.filter(pk=conversation.pk).update(contact=contact)
        conversation.contact = contact
    if message.contact_id != contact.pk:
        Message.objects.filter(pk=message.pk).update(contact=contact)
        message.contact = contact
    if conversation.ticket_id is not None:
        Ticket.objects.filter(pk=conversation.ticket_id, contact__isnull=True).update(
            contact=contact
        )


# --- Tickets --------------------------------------------------------------------------------


def _survivor(ticket: Ticket) -> Ticket:
    """Follow `merged_into` to the ticket that lives on (guarding against a cycle)."""
    seen = {ticket.pk}
    current = ticket
    for _step in range(MAX_MERGE_CHAIN):
        if current.merged_into_id is None:
            return current
        nxt = Ticket.objects.filter(pk=current.merged_into_id).first()
        if nxt is None or nxt.pk in seen:
            return current
        seen.add(nxt.pk)
        current = nxt
    return current


# Settings and stages are read for every message: through core.local_cache, a few seconds.


def _settings() -> HelpDeskSettings:
    return cached("conversations:helpdesk-settings", HelpDeskSettings.load)


def _open_stages(pipeline_id: int) -> list[Stage]:
    return cached(
        f"conversations:open-stages:{pipeline_id}",
        lambda: list(
            Stage.objects.filter(pipeline_id=pipeline_id, is_closed=False).order_by(
                "display_order", "id"
            )
        ),
    )


def _open_stage_for_reply(ticket: Ticket) -> Stage | None:
    """ "Waiting on us" in the ticket's pipeline, else its first open stage."""
    stages = _open_stages(ticket.pipeline_id)
    return _waiting_on_us(ticket) or (stages[0] if stages else None)


def first_stage() -> Stage | None:
    """The default (first) pipeline's first stage, with its pipeline, in one query."""
    return cached(
        "conversations:first-stage",
        lambda: (
            Stage.objects.select_related("pipeline")
            .order_by("pipeline__display_order", "pipeline_id", "display_order", "id")
            .first()
        ),
    )


def _waiting_on_us(ticket: Ticket) -> Stage | None:
    for stage in _open_stages(ticket.pipeline_id):
        if stage.name.strip().lower() == WAITING_ON_US.lower():
            return stage
    return None


def _announce(ticket_id: int) -> None:
    ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=None)


def _preview(text: str) -> str:
    return " ".join(text.split())[:PREVIEW_LENGTH]


# --- Recording ------------------------------------------------------------------------------


def _dropped_notes(attachments: Sequence[InboundAttachment]) -> list[str]:
    return [a.dropped_reason for a in attachments if a.dropped_reason]


def _with_notes(body_text: str, body_html: str, notes: list[str]) -> tuple[str, str]:
    """Append the notes (e.g. dropped attachments) to both bodies, before quoted history."""
    if not notes:
        return body_text, body_html
    text_notes = "\n".join(f"[{note}]" for note in notes)
    body_text = f"{body_text.rstrip()}\n\n{text_notes}" if body_text.strip() else text_notes
    if body_html:
        html_notes = "".join(f"<p><em>[{escape(note)}]</em></p>" for note in notes)
        index = body_html.find(QUOTED_OPEN)
        if index >= 0:
            body_html = f"{body_html[:index]}{html_notes}{body_html[index:]}"
        else:
            body_html = f"{body_html}{html_notes}"
    return body_text, body_html


@dataclass(frozen=True)
class InboundItem:
    """One customer message for `record_inbound_messages` (the arguments of
    `record_inbound_message`; attachments must already be stored)."""

    channel: Channel
    sender_name: str
    sender_address: str
    to: Sequence[str]
    cc: Sequence[str]
    subject: str
    body_text: str
    body_html: str
    message_id: str
    in_reply_to: str
    references: Sequence[str]
    attachments: Sequence[InboundAttachment]
    is_auto_generated: bool
    received_at: dt.datetime
    conversation: Conversation | None = None
    ticket: Ticket | None = None
    is_spam: bool = False
    # The sender's contact when the channel found it itself (senders without an email address:
    # a Messenger user, a caller): the conversation, message and new ticket get it at once.
    contact: Contact | None = None


def record_inbound_message(
    *,
    channel: Channel,
    conversation: Conversation | None = None,
    ticket: Ticket | None = None,
    sender_name: str,
    sender_address: str,
    to: Sequence[str],
    cc: Sequence[str],
    subject: str,
    body_text: str,
    body_html: str,
    message_id: str,
    in_reply_to: str,
    references: Sequence[str],
    attachments: Sequence[InboundAttachment],
    is_auto_generated: bool,
    received_at: dt.datetime,
    is_spam: bool = False,
) -> Message:
    """Record a customer's message on `channel`, continuing `conversation` (or `ticket`) when
    the channel's threading found one, else starting a conversation and — in the help desk —
    its ticket (source EMAIL, in the default pipeline's first stage).

    `body_html` is raw: it is sanitised here and its quoted history marked. `message_id` is
    unique per channel: recording the same id twice raises IntegrityError and stores nothing
    (no savepoint is taken: inside a caller's transaction, catch it outside that block).
    Auto-generated messages (auto-replies, bounces) never reopen or move a ticket. With
    `is_spam` (a blocked sender) the new conversation and ticket go straight to Spam.
    Attachments given as payloads are stored here, and removed again if recording fails;
    store them first with `store_attachment_files` to keep storage I/O out of the
    transaction. Announces `ticket_changed` after commit.
    """
    attachments = list(attachments)
    pending = [i for i, a in enumerate(attachments) if a.payload is not None and not a.stored_name]
    stored_here: list[InboundAttachment] = []
    if pending:
        stored_here = store_attachment_files([attachments[i] for i in pending])
        for index, item in zip(pending, stored_here, strict=True):
            attachments[index] = item
    inbound_item = InboundItem(
        channel=channel,
        conversation=conversation,
        ticket=ticket,
        sender_name=sender_name,
        sender_address=sender_address,
        to=to,
        cc=cc,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        is_auto_generated=is_auto_generated,
        received_at=received_at,
        is_spam=is_spam,
    )
    try:
        return record_inbound_messages([inbound_item])[0]
    except BaseException:
        delete_attachment_files(stored_here)
        raise


@dataclass
class _Plan:
    """Where one item goes, worked out before the batch's INSERTs."""

    item: InboundItem
    contact: Contact | None
    ticket: Ticket | None
    conversation: Conversation | None
    follow_up_of: Ticket | None
    continues_ticket: bool
    visible_text: str
    body_text: str
    body_html: str
    subject: str
    fresh_ticket: bool = False  # made by this batch: its activity and preview are set
    announced: bool = False


@transaction.atomic(savepoint=False)  # the caller's transaction, or its own
def record_inbound_messages(items: Sequence[InboundItem]) -> list[Message]:
    """Record several customer messages — `record_inbound_message`'s rules for each, in its
    order — with one INSERT per table for what the batch creates (contacts, tickets and
    their timelines, conversations, messages). Two items may continue the same conversation,
    but an item cannot continue a conversation another item of the same batch starts (its
    threading could not have seen it): the caller splits the batch there. Raises
    IntegrityError when a message id is already recorded on its channel (nothing of the
    batch is then stored)."""
    if not items:
        return []
    now = timezone.now()
    settings_row = _settings()
    contacts = match_or_create_contacts([(i.sender_address, i.sender_name) for i in items])
    plans = [_plan(item, contacts, settings_row) for item in items]

    _create_tickets(plans)
    spam_ids = [p.ticket.pk for p in plans if p.fresh_ticket and p.item.is_spam and p.ticket]
    if spam_ids:
        mark_spam(spam_ids, actor=None, is_spam=True, now=now)
    _start_or_continue_conversations(plans, now)
    _move_continued_tickets(plans, settings_row, now)

    messages = Message.objects.bulk_create(_message(plan) for plan in plans)
    _create_attachments(messages, plans)
    for message, plan in zip(messages, plans, strict=True):
        after_commit(
            message_created.send,
            sender=Message,
            message_id=message.pk,
            conversation_id=message.conversation_id,
            ticket_id=plan.ticket.pk if plan.ticket else None,
            kind="MESSAGE",
        )
    _touch_continued_tickets(plans, now)
    message_exchanged.send(
        sender=Message,
        messages=[
            (plan.ticket.pk, plan.item.received_at)
            for plan in plans
            if plan.ticket is not None and not plan.item.is_auto_generated and not plan.item.is_spam
        ],
        direction=MessageDirection.INBOUND,
    )
    return messages


def _plan(item: InboundItem, contacts: dict[str, Contact], settings_row: HelpDeskSettings) -> _Plan:
    ticket, conversation = item.ticket, item.conversation
    if conversation is not None and not is_in_help_desk(conversation):
        # Moved to a conversations inbox: it goes on there, and its ticket (kept for the
        # ticket's history) is neither continued, reopened nor moved.
        ticket = None
    elif conversation is not None and ticket is None:
        ticket = conversation.ticket
    if ticket is not None:
        ticket = _survivor(ticket)
        if conversation is not None and conversation.ticket_id != ticket.pk:
            # The conversation's ticket was merged: it continues on the survivor.
            conversation.ticket = ticket
            conversation.save(update_fields=["ticket", "updated_at"])
        if conversation is None:
            conversation = (
                Conversation.objects.filter(
                    ticket=ticket, channel=item.channel, inbox_id__in=help_desk_inbox_ids()
                )
                .order_by("-last_message_at", "-id")
                .first()
            )
    follow_up_of: Ticket | None = None
    if (
        ticket is not None
        and not ticket.is_open
        and not ticket.is_spam
        and not item.is_auto_generated
        and not settings_row.reopen_closed_on_reply
    ):
        follow_up_of, ticket, conversation = ticket, None, None
    visible_text, _quoted = split_quoted_text(item.body_text)
    body_text, body_html = _with_notes(
        item.body_text,
        sanitize_message_html(item.body_html),
        _dropped_notes(item.attachments),
    )
    return _Plan(
        item=item,
        contact=item.contact or contacts.get(item.sender_address.strip().lower()),
        ticket=ticket,
        conversation=conversation,
        follow_up_of=follow_up_of,
        continues_ticket=ticket is not None,  # an existing ticket, not one made below
        visible_text=visible_text,
        body_text=body_text,
        body_html=body_html,
        subject=item.subject.strip()[:998],
    )


def _create_tickets(plans: Sequence[_Plan]) -> None:
    """A ticket for every help desk item that starts a conversation (in one INSERT)."""
    help_desk = help_desk_inbox_ids()
    starting = [
        p
        for p in plans
        if p.conversation is None
        and p.ticket is None
        and p.item.channel.inbox_id in help_desk  # no inbox read per item
    ]
    if not starting:
        return
    stage = first_stage()
    pipeline = stage.pipeline if stage else ensure_default_pipeline()
    new: list[NewTicket] = []
    for plan in starting:
        description = plan.visible_text.strip()[:DESCRIPTION_LENGTH]
        if plan.follow_up_of is not None:
            link = _("Follow-up to closed ticket #%(id)s “%(name)s”.") % {
                "id": plan.follow_up_of.pk,
                "name": plan.follow_up_of.name,
            }
            description = f"{link}\n\n{description}".strip()
        new.append(
            NewTicket(
                name=ticket_name(plan.subject, plan.visible_text or plan.body_text),
                pipeline=pipeline,
                stage=stage,
                description=description,
                contact=plan.contact,
                source=ticket_source(plan.item.channel),
                now=plan.item.received_at,
            )
        )
    for plan, ticket in zip(starting, create_tickets(new, actor=None), strict=True):
        plan.ticket = ticket
        plan.announced = True  # create_tickets announces it
        plan.fresh_ticket = plan.follow_up_of is None


TICKET_NAME_WORDS = 60  # characters of the text that name a ticket without a subject


def ticket_name(subject: str, text: str) -> str:
    """A new ticket's name: the subject; without one (a chat, a subject-less mail) the first
    words of the text, cut at a word; "(no subject)" when there are none."""
    name = single_line(subject or "")
    if not name:
        words = " ".join((text or "").split())
        if len(words) > TICKET_NAME_WORDS:
            cut = words[:TICKET_NAME_WORDS].rsplit(" ", 1)[0] or words[:TICKET_NAME_WORDS]
            words = f"{cut}…"
        name = words
    return (name or _("(no subject)"))[:255]


def ticket_source(channel: Channel) -> str:
    """The source of a ticket the channel starts, as its adapter says (email without one)."""
    try:
        return get_adapter(channel.kind).ticket_source or Source.EMAIL
    except UnknownChannelError:
        return Source.EMAIL


def _start_or_continue_conversations(plans: Sequence[_Plan], now: dt.datetime) -> None:
    starting = [p for p in plans if p.conversation is None]
    created = Conversation.objects.bulk_create(
        Conversation(
            channel=p.item.channel,
            inbox_id=p.item.channel.inbox_id,
            ticket=p.ticket,
            contact=p.contact,
            subject=p.subject,
            is_spam=p.item.is_spam,
            last_message_at=p.item.received_at,
        )
        for p in starting
    )
    for plan, conversation in zip(starting, created, strict=True):
        plan.conversation = conversation
    started = {id(p) for p in starting}  # by identity: comparing plans field by field is slow
    latest: dict[int, dt.datetime] = {}
    for plan in plans:
        if plan.conversation is not None and id(plan) not in started:
            pk = plan.conversation.pk
            latest[pk] = max(latest.get(pk, plan.item.received_at), plan.item.received_at)
    if latest:  # one UPDATE for every continued conversation of the batch
        Conversation.objects.filter(pk__in=list(latest)).update(
            last_message_at=Case(
                *(When(pk=pk, then=_later_of("last_message_at", at)) for pk, at in latest.items())
            ),
            updated_at=now,
        )


def _later_of(column: str, at: dt.datetime) -> Coalesce:
    """The column's value or `at`, whichever is later (`at` when the column is empty)."""
    return Coalesce(Greatest(F(column), Value(at)), Value(at))


def _move_continued_tickets(
    plans: Sequence[_Plan], settings_row: HelpDeskSettings, now: dt.datetime
) -> None:
    """A customer's reply reopens a closed ticket and moves an open one to "Waiting on us"
    (per the settings); auto-replies and spam never move a ticket. One move per stage."""
    by_stage: dict[int, tuple[Stage, list[_Plan]]] = {}
    for plan in plans:
        ticket = plan.ticket
        if ticket is None or not plan.continues_ticket:
            continue
        if ticket.is_spam or plan.item.is_auto_generated:
            continue
        stage = None
        if not ticket.is_open:
            stage = _open_stage_for_reply(ticket)
        elif settings_row.move_to_waiting_on_us_on_customer_reply:
            stage = _waiting_on_us(ticket)
        if stage is not None and stage.pk != ticket.stage_id:
            by_stage.setdefault(stage.pk, (stage, []))[1].append(plan)
    for stage, moving in by_stage.values():
        moved = set(
            move_to_stage({p.ticket.pk for p in moving if p.ticket}, stage, actor=None, now=now)
        )
        for plan in moving:
            if plan.ticket is not None and plan.ticket.pk in moved:
                plan.announced = True


def _message(plan: _Plan) -> Message:
    item = plan.item
    if plan.conversation is None:  # _start_or_continue_conversations gave every plan one
        raise RuntimeError("a message needs its conversation")
    return Message(
        conversation=plan.conversation,
        channel=item.channel,
        direction=MessageDirection.INBOUND,
        contact=plan.contact,
        sender_name=item.sender_name[:255],
        sender_address=item.sender_address[:320],
        to=list(item.to),
        cc=list(item.cc),
        subject=plan.subject,
        body_text=plan.body_text,
        body_html=plan.body_html,
        message_id=item.message_id,
        in_reply_to=item.in_reply_to,
        references=list(item.references),
        delivery_status=DeliveryStatus.RECEIVED,
        is_auto_generated=item.is_auto_generated,
        created_at=item.received_at,
    )


def _touch_continued_tickets(plans: Sequence[_Plan], now: dt.datetime) -> None:
    """Last activity and preview of every ticket the batch added a message to: one UPDATE
    for the batch, whatever its size (each ticket's latest message wins; an auto-reply keeps
    the preview a customer's message set)."""
    announced: set[int] = set()
    latest: dict[int, dt.datetime] = {}
    previews: dict[int, str] = {}
    for plan in plans:
        ticket = plan.ticket
        if ticket is None:
            continue
        if plan.announced:
            announced.add(ticket.pk)
        if plan.fresh_ticket:
            continue
        at = plan.item.received_at
        latest[ticket.pk] = max(latest.get(ticket.pk, at), at)
        if not plan.item.is_auto_generated or not ticket.preview:
            previews[ticket.pk] = _preview(plan.visible_text or plan.body_text)
    if not latest:
        return
    changes: dict[str, Any] = {
        "last_activity_at": Case(
            *(When(pk=pk, then=_later_of("last_activity_at", at)) for pk, at in latest.items())
        ),
        "last_message_author": None,
        "updated_at": now,
    }
    if previews:
        changes["preview"] = Case(
            *(When(pk=pk, then=Value(text)) for pk, text in previews.items()),
            default=F("preview"),
        )
    Ticket.objects.filter(pk__in=list(latest)).update(**changes)
    unannounced = [pk for pk in latest if pk not in announced]
    announced.update(unannounced)
    after_commit(announce_changed, unannounced, None)


def start_follow_up_conversations(messages: Sequence[Message], *, now: dt.datetime) -> None:
    """`services.start_follow_up_conversation` for the new tickets a batch of inbound messages
    just made on a channel that does not start conversations (a form): each gets an (empty)
    conversation on the first active channel that does (an email address), newer than the
    message's, so the agents' replies go out there — one INSERT for the batch. Nothing
    without such a channel. Each message's conversation must be its ticket's only one."""
    from svardesk.conversations.queries import first_starting_channel

    channel = cached("conversations:first-starting-channel", first_starting_channel)
    if channel is None:
        return
    new = [
        Conversation(
            channel=channel,
            inbox_id=channel.inbox_id,
            ticket_id=m.conversation.ticket_id,
            contact_id=m.conversation.ticket.contact_id if m.conversation.ticket else None,
            subject=m.conversation.ticket.name if m.conversation.ticket else "",
            last_message_at=max(now, m.created_at + dt.timedelta(microseconds=1)),
        )
        for m in messages
        if m.conversation.ticket_id is not None
    ]
    Conversation.objects.bulk_create(new)
    for conversation in new:
        after_commit(_announce, conversation.ticket_id)


def attachment_url(attachment: Attachment) -> str:
    """Where the workspace shows an inline attachment: the permission-checked
    `conversations:attachment` view (inline), else the storage URL."""
    try:
        url = reverse("conversations:attachment", kwargs={"attachment_id": attachment.pk})
    except NoReverseMatch:
        return attachment.file.url
    return f"{url}?inline=1"


def _create_attachments(messages: Sequence[Message], plans: Sequence[_Plan]) -> None:
    """The batch's attachment rows in one INSERT; a message whose HTML shows an inline
    attachment (cid:) gets its links rewritten, one UPDATE each of those."""
    rows: list[Attachment] = []
    for message, plan in zip(messages, plans, strict=True):
        for item in plan.item.attachments:
            if item.dropped_reason or not item.stored_name:
                continue
            attachment = Attachment(
                message=message,
                filename=item.filename[:255],
                content_type=item.content_type[:255] or "application/octet-stream",
                size=item.size,
                content_id=item.content_id[:255],
                is_inline=item.is_inline,
            )
            attachment.file.name = item.stored_name
            rows.append(attachment)
    if not rows:
        return
    Attachment.objects.bulk_create(rows)  # both databases return the ids (for the links)
    inline: dict[int, dict[str, Attachment]] = {}
    for row in rows:
        if row.content_id:
            inline.setdefault(row.message_id, {})[normalise_content_id(row.content_id)] = row
    for message in messages:
        cids = inline.get(message.pk)
        if cids and "cid:" in message.body_html.lower():
            urls = {cid: attachment_url(row) for cid, row in cids.items()}
            message.body_html = rewrite_cid_sources(message.body_html, urls)
            Message.objects.filter(pk=message.pk).update(body_html=message.body_html)


__all__ = [
    "InboundAttachment",
    "InboundItem",
    "attachment_url",
    "delete_attachment_files",
    "match_or_create_contact",
    "match_or_create_contacts",
    "record_inbound_message",
    "record_inbound_messages",
    "split_display_name",
    "start_follow_up_conversations",
    "store_attachment_files",
]
