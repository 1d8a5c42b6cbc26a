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

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest, Lower
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
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.core.local_cache import cached
from svardesk.core.on_commit import after_commit
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Stage, Ticket
from svardesk.tickets.services import create_ticket, ensure_default_pipeline, mark_spam
from svardesk.tickets.services import update_ticket as _update_ticket
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


def split_display_name(display_name: str) -> tuple[str, str]:
    """ "Anna Svensson" → ("Anna", "Svensson"); "Svensson, Anna" → ("Anna", "Svensson")."""
    name = " ".join(display_name.replace('"', " ").split()).strip(" '")
    if not name or "@" in name:
        return "", ""
    if "," in name:
        last, first = (p.strip() for p in name.split(",", 1))
        return first[:150], last[:150]
    parts = name.split(" ")
    if len(parts) == 1:
        return parts[0][:150], ""
    return " ".join(parts[:-1])[:150], parts[-1][:150]


def match_or_create_contact(address: str, display_name: str) -> Contact | None:
    """The contact with this email (case-insensitive; the oldest if several), or a new one
    named from the display name. A known contact without a name gets one."""
    address = address.strip()
    if not address:
        return None
    first, last = split_display_name(display_name)
    # lower(email) = lower(address): PostgreSQL has an index on lower(email) for this.
    contact = (
        Contact.objects.alias(email_lower=Lower("email"))
        .filter(email_lower=address.lower())
        .order_by("id")
        .first()
    )
    if contact is None:
        return Contact.objects.create(email=address[:254], first_name=first, last_name=last)
    if not contact.first_name and not contact.last_name and (first or last):
        contact.first_name, contact.last_name = first, last
        contact.save(update_fields=["first_name", "last_name", "updated_at"])
    return contact


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


def _first_stage() -> Stage | None:
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
    try:
        return _record(
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
    except BaseException:
        delete_attachment_files(stored_here)
        raise


@transaction.atomic(savepoint=False)  # the caller's transaction, or its own
def _record(
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
    now = timezone.now()
    settings_row = _settings()
    contact = match_or_create_contact(sender_address, sender_name)

    if conversation is not None and ticket is None:
        ticket = conversation.ticket
    if ticket is not None:
        ticket = _survivor(ticket)
        if conversation is not None and conversation.ticket_id != ticket.pk:
            # The conversation's ticket was merged: it continues on the survivor.
            conversation.ticket = ticket
            conversation.save(update_fields=["ticket", "updated_at"])
        if conversation is None:
            conversation = (
                Conversation.objects.filter(ticket=ticket, channel=channel)
                .order_by("-last_message_at", "-id")
                .first()
            )

    follow_up_of: Ticket | None = None
    if (
        ticket is not None
        and not ticket.is_open
        and not ticket.is_spam
        and not is_auto_generated
        and not settings_row.reopen_closed_on_reply
    ):
        follow_up_of, ticket, conversation = ticket, None, None

    continues_ticket = ticket is not None  # an existing ticket, not one made below
    visible_text, _quoted = split_quoted_text(body_text)
    notes = _dropped_notes(attachments)
    clean_html = sanitize_message_html(body_html)
    body_text, clean_html = _with_notes(body_text, clean_html, notes)
    subject = subject.strip()[:998]
    announced = False
    fresh_ticket = False  # create_ticket set its activity and preview already

    if conversation is None:
        if ticket is None and channel.inbox.kind == InboxKind.HELP_DESK:
            description = visible_text.strip()[:DESCRIPTION_LENGTH]
            if follow_up_of is not None:
                link = _("Follow-up to closed ticket #%(id)s “%(name)s”.") % {
                    "id": follow_up_of.pk,
                    "name": follow_up_of.name,
                }
                description = f"{link}\n\n{description}".strip()
            first_stage = _first_stage()
            ticket = create_ticket(
                actor=None,
                name=(subject or _("(no subject)"))[:255],
                pipeline=first_stage.pipeline if first_stage else ensure_default_pipeline(),
                stage=first_stage,
                description=description,
                contact=contact,
                source=Source.EMAIL,
                now=received_at,
            )
            announced = True  # create_ticket announces it
            fresh_ticket = follow_up_of is None
            if is_spam:
                mark_spam([ticket.pk], actor=None, is_spam=True, now=now)
        conversation = Conversation.objects.create(
            channel=channel,
            inbox_id=channel.inbox_id,
            ticket=ticket,
            contact=contact,
            subject=subject,
            is_spam=is_spam,
            last_message_at=received_at,
        )
    else:
        Conversation.objects.filter(pk=conversation.pk).update(
            last_message_at=Greatest(F("last_message_at"), received_at)
            if conversation.last_message_at
            else received_at,
            updated_at=now,
        )
    if ticket is not None and continues_ticket and not ticket.is_spam and not is_auto_generated:
        stage = None
        if not ticket.is_open:
            stage = _open_stage_for_reply(ticket)
        elif settings_row.move_to_waiting_on_us_on_customer_reply:
            stage = _waiting_on_us(ticket)
        if stage is not None and stage.pk != ticket.stage_id:
            _update_ticket(ticket.pk, actor=None, changes={"stage": stage}, now=now)
            announced = True

    message = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.INBOUND,
        contact=contact,
        sender_name=sender_name[:255],
        sender_address=sender_address[:320],
        to=list(to),
        cc=list(cc),
        subject=subject,
        body_text=body_text,
        body_html=clean_html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=list(references),
        delivery_status=DeliveryStatus.RECEIVED,
        is_auto_generated=is_auto_generated,
        created_at=received_at,
    )
    _create_attachments(message, attachments)

    if ticket is not None and not fresh_ticket:
        changes: dict[str, object] = {
            "last_activity_at": Greatest(F("last_activity_at"), received_at),
            "last_message_author": None,
            "updated_at": now,
        }
        if not is_auto_generated or not ticket.preview:
            changes["preview"] = _preview(visible_text or body_text)
        Ticket.objects.filter(pk=ticket.pk).update(**changes)
        if not announced:
            after_commit(_announce, ticket.pk)
    return message


def attachment_url(attachment: Attachment) -> str:
    """Where the workspace shows an inline attachment: the permission-checked
    `conversations:attachment` view (inline), else the storage URL."""
    try:
        url = reverse("conversations:attachment", kwargs={"attachment_id": attachment.pk})
    except NoReverseMatch:
        return attachment.file.url
    return f"{url}?inline=1"


def _create_attachments(message: Message, attachments: Sequence[InboundAttachment]) -> None:
    rows: list[Attachment] = []
    for item in attachments:
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
    for row in rows:
        row.save()  # one by one: the ids are needed for the cid: links below
    inline = {normalise_content_id(r.content_id): r for r in rows if r.content_id}
    if inline and "cid:" in message.body_html.lower():
        urls = {cid: attachment_url(row) for cid, row in inline.items()}
        message.body_html = rewrite_cid_sources(message.body_html, urls)
        Message.objects.filter(pk=message.pk).update(body_html=message.body_html)


__all__ = [
    "InboundAttachment",
    "attachment_url",
    "delete_attachment_files",
    "match_or_create_contact",
    "record_inbound_message",
    "split_display_name",
    "store_attachment_files",
]
