"""Every change the chat channel makes: connecting and editing a widget, storing a visitor's
message (through the core's one way in, `record_inbound_message`), visitor details, closing a
chat and its transcript."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import FieldError, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.channels.chat import queries
from svardesk.channels.chat.models import (
    AskDetails,
    ChatChannel,
    ChatSession,
    TranscriptStatus,
    Visitor,
    WidgetSighting,
)
from svardesk.conversations import services as conversation_services
from svardesk.conversations.inbound import (
    link_contact,
    record_inbound_message,
    split_display_name,
)
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Message,
)
from svardesk.conversations.registry import UnknownChannelError, get_adapter
from svardesk.conversations.services import help_desk_inbox
from svardesk.core.exceptions import PermissionDeniedError, SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.core.origins import InvalidOriginError, normalise_origin
from svardesk.core.text import single_line
from svardesk.crm import queries as crm_queries
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import Contact
from svardesk.tickets.models import Ticket

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
MAX_WEBSITES = 50
SIGHTING_REFRESH = dt.timedelta(minutes=1)


class ChatChannelValidationError(SvardeskError):
    """A chat channel's settings cannot be saved (the message says why)."""


class ChatInputError(SvardeskError):
    """A visitor's frame was refused; `code` is the protocol's error code (docs/chat.md)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- Channel settings ------------------------------------------------------------------------


def may_manage_chat_channels(actor: User | None) -> bool:
    """Super admins and users with Account access connect, change, disconnect and reconnect
    chat channels, transcripts included (SPEC: Account access)."""
    if actor is None:  # a management command
        return True
    return bool(actor.is_active and (actor.is_superuser or actor.has_account_access))


def may_change_transcripts(actor: User | None) -> bool:
    """Super admins and users with Account access choose transcripts and their sender."""
    return may_manage_chat_channels(actor)


def clean_websites(values: Sequence[str]) -> list[str]:
    """Normalised, unique origins in the order given; ChatChannelValidationError names the
    first value that is not an http(s) origin."""
    result: list[str] = []
    for value in values:
        if not value.strip():
            continue
        try:
            origin = normalise_origin(value)
        except InvalidOriginError:
            raise ChatChannelValidationError(
                _(
                    "“%(value)s” is not a website origin. Write it as https://www.example.com "
                    "(scheme and host, optionally a port; no path)."
                )
                % {"value": single_line(value)[:200]}
            ) from None
        if origin not in result:
            result.append(origin)
    if not result:
        raise ChatChannelValidationError(_("Name at least one website the chat may run on."))
    if len(result) > MAX_WEBSITES:
        raise ChatChannelValidationError(
            _("A chat channel can run on at most %(count)s websites.") % {"count": MAX_WEBSITES}
        )
    return result


def sender_addresses() -> list[str]:
    """The addresses a transcript may be sent from: the email channel's own addresses."""
    try:
        adapter = get_adapter(ChannelKind.EMAIL)
    except UnknownChannelError:
        return []
    return sorted(adapter.own_addresses())


def _clean_transcript_from(enabled: bool, address: str) -> str:
    address = address.strip().lower()
    if address and address not in {a.lower() for a in sender_addresses()}:
        raise ChatChannelValidationError(
            _("Choose a Send from address among the connected email addresses.")
        )
    if enabled and not address:
        raise ChatChannelValidationError(
            _("Choose the address transcripts are sent from (connect an email address first).")
        )
    return address


def _clean_name(name: str) -> str:
    name = single_line(name).strip()
    if not name:
        raise ChatChannelValidationError(_("Give the chat channel a name."))
    return name[:200]


def _clean_language(language: str) -> str:
    codes = {code for code, _label in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _check_actor(actor: User | None) -> None:
    if not may_manage_chat_channels(actor):
        raise PermissionDeniedError(
            _("Channels are managed by super admins and users with Account access.")
        )


@dataclass(frozen=True)
class TranscriptSettings:
    enabled: bool
    send_from: str


@transaction.atomic
def connect_chat_channel(
    *,
    actor: User | None,
    name: str,
    websites: Sequence[str],
    ask_details: str = AskDetails.BEFORE,
    language: str = "",
    transcripts: TranscriptSettings | None = None,
) -> ChatChannel:
    """Connect a chat widget to the help desk inbox. `actor` None: a management command."""
    _check_actor(actor)
    clean_name = _clean_name(name)
    origins = clean_websites(websites)
    if ask_details not in AskDetails.values:
        raise ChatChannelValidationError(_("Choose when to ask for name and email."))
    enabled, send_from = False, ""
    if transcripts is not None:
        if not may_change_transcripts(actor):
            raise PermissionDeniedError(
                _("Transcripts are set by super admins and users with Account access.")
            )
        enabled = transcripts.enabled
        send_from = _clean_transcript_from(enabled, transcripts.send_from)
    channel = Channel.objects.create(
        inbox=help_desk_inbox(), kind=ChannelKind.CHAT, name=clean_name, is_active=True
    )
    return ChatChannel.objects.create(
        channel=channel,
        websites=origins,
        ask_details=ask_details,
        language=_clean_language(language or settings.LANGUAGE_CODE),
        transcripts_enabled=enabled,
        transcript_from=send_from,
    )


@transaction.atomic
def update_chat_channel(
    chat_channel: ChatChannel,
    *,
    actor: User,
    name: str,
    websites: Sequence[str],
    ask_details: str,
    language: str,
    transcripts: TranscriptSettings | None = None,
) -> ChatChannel:
    """Save a chat channel's settings. `transcripts` None leaves them as they are (the
    actor may not change them, or the form did not show them)."""
    _check_actor(actor)
    if ask_details not in AskDetails.values:
        raise ChatChannelValidationError(_("Choose when to ask for name and email."))
    chat_channel.channel.name = _clean_name(name)
    chat_channel.channel.save(update_fields=["name", "updated_at"])
    chat_channel.websites = clean_websites(websites)
    chat_channel.ask_details = ask_details
    chat_channel.language = _clean_language(language)
    fields = ["websites", "ask_details", "language", "updated_at"]
    if transcripts is not None:
        if not may_change_transcripts(actor):
            raise PermissionDeniedError(
                _("Transcripts are set by super admins and users with Account access.")
            )
        chat_channel.transcripts_enabled = transcripts.enabled
        chat_channel.transcript_from = _clean_transcript_from(
            transcripts.enabled, transcripts.send_from
        )
        fields += ["transcripts_enabled", "transcript_from"]
    chat_channel.save(update_fields=fields)
    return chat_channel


@transaction.atomic
def update_transcript_settings(
    chat_channel: ChatChannel, *, actor: User, transcripts: TranscriptSettings
) -> ChatChannel:
    """Transcripts alone: what an Account access user (not a super admin) may change."""
    if not may_change_transcripts(actor):
        raise PermissionDeniedError(
            _("Transcripts are set by super admins and users with Account access.")
        )
    chat_channel.transcripts_enabled = transcripts.enabled
    chat_channel.transcript_from = _clean_transcript_from(
        transcripts.enabled, transcripts.send_from
    )
    chat_channel.save(update_fields=["transcripts_enabled", "transcript_from", "updated_at"])
    return chat_channel


@transaction.atomic
def set_chat_channel_active(chat_channel: ChatChannel, *, actor: User, active: bool) -> None:
    """Disconnect (the widget stops at once in this process, within seconds elsewhere; open
    sockets are told `unavailable`) or connect again. Its chats and tickets stay."""
    _check_actor(actor)
    channel = chat_channel.channel
    if channel.is_active == active:
        return
    channel.is_active = active
    channel.save(update_fields=["is_active", "updated_at"])
    if not active:
        after_commit(_announce_disconnected, chat_channel.pk)


def _announce_disconnected(chat_channel_id: int) -> None:
    from svardesk.channels.chat.layer import channel_group, send_to_group

    send_to_group(channel_group(chat_channel_id), {"type": "chat.disconnected"})


def record_sighting(chat_channel: ChatChannel, origin: str, *, now: dt.datetime) -> None:
    """The widget was loaded on `origin` (already checked against the websites). Written at
    most once a minute per origin (a cache entry says it was, so a busy website's page views
    never take the database's write lock)."""
    marker = f"chat:sighting:{chat_channel.pk}:{origin}"
    if not cache.add(marker, 1, timeout=int(SIGHTING_REFRESH.total_seconds())):
        return
    updated = WidgetSighting.objects.filter(
        chat_channel=chat_channel, origin=origin, last_seen_at__lt=now - SIGHTING_REFRESH
    ).update(last_seen_at=now)
    if updated:
        return
    if WidgetSighting.objects.filter(chat_channel=chat_channel, origin=origin).exists():
        return
    try:
        with transaction.atomic():
            WidgetSighting.objects.create(
                chat_channel=chat_channel, origin=origin, first_seen_at=now, last_seen_at=now
            )
    except IntegrityError:
        pass  # another request recorded it first


# --- Visitors and their messages ---------------------------------------------------------------


def clean_visitor_name(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatInputError("bad_frame")
    return single_line(value).strip()[:MAX_NAME_LENGTH]


def clean_visitor_email(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ChatInputError("bad_frame")
    email = value.strip()
    if not email:
        return ""
    if len(email) > 254:
        raise ChatInputError("invalid_email")
    try:
        validate_email(email)
    except ValidationError:
        raise ChatInputError("invalid_email") from None
    return email


@dataclass(frozen=True)
class StoredMessage:
    message: Message
    visitor: Visitor
    session: ChatSession
    duplicate: bool
    by_email: bool  # nobody was available: the agents answer by email


def visitor_message_id(public_id: str, client_id: str) -> str:
    """The message's id on the channel: (channel, message_id) is unique, so one client id of
    one visitor is stored once however often the widget resends it."""
    return f"chat-{public_id}-{client_id}"


def _duplicate(chat_channel: ChatChannel, public_id: str, message: Message) -> StoredMessage:
    session = ChatSession.objects.select_related("visitor").get(
        conversation_id=message.conversation_id
    )
    return StoredMessage(
        message=message,
        visitor=session.visitor,
        session=session,
        duplicate=True,
        by_email=session.follows_up_by_email,
    )


def receive_visitor_message(
    *,
    chat_channel: ChatChannel,
    public_id: str,
    client_id: str,
    text: str,
    name: str = "",
    email: str = "",
    ip: str | None = None,
    agents_available: bool = True,
    now: dt.datetime | None = None,
    known_new: bool = False,
) -> StoredMessage:
    """Store a visitor's message (committed when this returns) in their open chat, or start
    a chat (and its ticket, source Chat). Name and email, when given, update the visitor; the
    visitor is a contact (matched by email when known). The same `client_id` again returns
    the stored message (`duplicate`). With nobody available and the visitor's email known,
    the ticket continues by email. Raises ChatInputError (details_required) when the channel
    asks for name and email before the chat and they are missing. `known_new`: the caller
    has just looked for this message (`queries.stored_message`) and found none, so it is not
    looked for again before storing (a resend that raced it is still caught)."""
    message_id = visitor_message_id(public_id, client_id)
    known = None if known_new else queries.stored_message(chat_channel.channel, message_id)
    if known is not None:
        return _duplicate(chat_channel, public_id, known)
    try:
        return _store_visitor_message(
            chat_channel=chat_channel,
            public_id=public_id,
            message_id=message_id,
            text=text,
            name=name,
            email=email,
            ip=ip,
            agents_available=agents_available,
            now=now or timezone.now(),
        )
    except IntegrityError:
        known = queries.stored_message(chat_channel.channel, message_id)
        if known is None:
            raise
        return _duplicate(chat_channel, public_id, known)  # a second socket sent it first


def _visitor_for_update(
    chat_channel: ChatChannel, public_id: str, *, ip: str | None, now: dt.datetime
) -> Visitor:
    # With the contact: the message's contact is decided from it (`_contact_for`).
    visitor, created = Visitor.objects.select_related("contact").get_or_create(
        public_id=public_id,
        defaults={
            "chat_channel": chat_channel,
            "ip_address": ip,
            "first_seen_at": now,
            "last_seen_at": now,
        },
    )
    if visitor.chat_channel_id != chat_channel.pk:
        raise ChatInputError("invalid_token")
    if not created:
        visitor.ip_address = ip or visitor.ip_address
        visitor.last_seen_at = now
    return visitor


def _apply_details(visitor: Visitor, *, name: str, email: str) -> None:
    if name:
        visitor.name = name
    if email:
        visitor.email = email


def _contact_for(visitor: Visitor) -> Contact | None:
    """The visitor's contact before their message is recorded: a nameless placeholder made
    for a visitor without email takes the email when one is given and no other contact has
    it (record_inbound_message then matches it)."""
    contact = visitor.contact
    if contact is None or not visitor.email or contact.email:
        return contact
    if crm_queries.contact_by_address(visitor.email) is not None:
        return contact  # the message will match that contact instead
    try:
        crm_services.add_contact_email(contact, visitor.email, actor=None)
    except RecordValidationError:
        return contact  # not an address a contact can have (or just taken): left as it is
    return contact


def _placeholder_contact(visitor: Visitor) -> Contact:
    first, last = split_display_name(visitor.name)
    if not first and not last:
        first = _("Chat visitor")
    return crm_services.create_contact(actor=None, first_name=first, last_name=last)


@transaction.atomic
def _store_visitor_message(
    *,
    chat_channel: ChatChannel,
    public_id: str,
    message_id: str,
    text: str,
    name: str,
    email: str,
    ip: str | None,
    agents_available: bool,
    now: dt.datetime,
) -> StoredMessage:
    visitor = _visitor_for_update(chat_channel, public_id, ip=ip, now=now)
    _apply_details(visitor, name=name, email=email)
    if chat_channel.ask_details == AskDetails.BEFORE and not (visitor.name and visitor.email):
        raise ChatInputError("details_required")
    _contact_for(visitor)
    session = queries.open_session(visitor)
    message = record_inbound_message(
        channel=chat_channel.channel,
        conversation=session.conversation if session is not None else None,
        sender_name=visitor.name,
        sender_address=visitor.email,
        to=[],
        cc=[],
        subject="",
        body_text=text,
        body_html="",
        message_id=message_id,
        in_reply_to="",
        references=[],
        attachments=[],
        is_auto_generated=False,
        received_at=now,
    )
    conversation = message.conversation
    if session is not None and session.conversation_id != conversation.pk:
        # The core started a new conversation (a closed ticket opens a follow-up ticket):
        # the old chat ends here, quietly, and a new one begins.
        ChatSession.objects.filter(pk=session.pk).update(is_open=False, closed_at=now)
        session = None
    if session is None:
        session = ChatSession.objects.create(
            visitor=visitor, conversation=conversation, created_at=now
        )
    contact = message.contact or visitor.contact or _placeholder_contact(visitor)
    link_contact(conversation, message, contact)
    visitor.contact = contact
    visitor.save()
    if not agents_available and visitor.email:
        _follow_up_by_email(session, conversation, now=now)
    return StoredMessage(
        message=message,
        visitor=visitor,
        session=session,
        duplicate=False,
        by_email=session.follows_up_by_email,
    )


def _follow_up_by_email(
    session: ChatSession, conversation: Conversation, *, now: dt.datetime
) -> None:
    """Nobody is available: the ticket gets an email conversation so the agents' reply
    reaches the visitor by email (once per chat)."""
    if session.follows_up_by_email or conversation.ticket_id is None:
        return
    ticket = Ticket.objects.get(pk=conversation.ticket_id)
    start = getattr(conversation_services, "start_follow_up_conversation", None)
    if start is None:  # the core without follow-up conversations: replies stay on the chat
        logger.warning("start_follow_up_conversation is missing; chat %s stays chat", session.pk)
        return
    if start(ticket, now=now) is None:
        return  # no channel can start a conversation (no email address connected)
    session.follows_up_by_email = True
    session.save(update_fields=["follows_up_by_email"])


@transaction.atomic
def save_visitor_details(
    *,
    chat_channel: ChatChannel,
    public_id: str,
    name: str,
    email: str,
    ip: str | None = None,
    agents_available: bool = True,
    now: dt.datetime | None = None,
) -> Visitor:
    """Name and email without a message (e.g. the email asked for when nobody is
    available). The open chat's contact follows; with nobody available the ticket then
    continues by email."""
    moment = now or timezone.now()
    visitor = _visitor_for_update(chat_channel, public_id, ip=ip, now=moment)
    _apply_details(visitor, name=name, email=email)
    visitor.save()
    session = queries.open_session(visitor)
    if session is None:
        return visitor
    if visitor.email:
        contact = _contact_for(visitor)
        if contact is None or (contact.email and contact.email.lower() != visitor.email.lower()):
            from svardesk.conversations.inbound import match_or_create_contact

            contact = match_or_create_contact(visitor.email, visitor.name)
        if contact is not None and contact.pk != visitor.contact_id:
            visitor.contact = contact
            visitor.save(update_fields=["contact"])
            Conversation.objects.filter(pk=session.conversation_id).update(contact=contact)
        if not agents_available:
            _follow_up_by_email(session, session.conversation, now=moment)
    return visitor


# --- Closing a chat and its transcript ----------------------------------------------------------


@transaction.atomic
def close_chat(session: ChatSession, *, actor: User, now: dt.datetime | None = None) -> bool:
    """Close an open chat: the widget is told at once (after commit) and, when the channel
    sends transcripts and the visitor gave an email, the transcript task is queued. False when
    the chat was closed already (nothing happens twice)."""
    moment = now or timezone.now()
    visitor = session.visitor
    chat_channel = visitor.chat_channel
    send = bool(chat_channel.transcripts_enabled and visitor.email)
    closed = ChatSession.objects.filter(pk=session.pk, is_open=True).update(
        is_open=False,
        closed_at=moment,
        closed_by=actor,
        transcript_status=TranscriptStatus.PENDING if send else TranscriptStatus.NONE,
        transcript_to=visitor.email if send else "",
    )
    if not closed:
        return False
    session.is_open, session.closed_at, session.closed_by = False, moment, actor
    after_commit(_announce_closed, visitor.public_id, session.pk, queries.iso(moment))
    if send:
        after_commit(_enqueue_transcript, session.pk)
    return True


def _announce_closed(public_id: str, session_id: int, at: str) -> None:
    from svardesk.channels.chat.layer import send_to_group, visitor_group

    send_to_group(
        visitor_group(public_id), {"type": "chat.closed", "chat_id": session_id, "at": at}
    )


def _enqueue_transcript(session_id: int) -> None:
    from svardesk.channels.chat.tasks import send_chat_transcript

    send_chat_transcript(session_id)


def _format_time(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d %H:%M")


def transcript_text(session: ChatSession) -> tuple[str, str]:
    """(subject, plain text body) of a chat's transcript, in the channel's language: every
    visitor message and agent reply with its sender and time (the server's time zone)."""
    chat_channel = session.visitor.chat_channel
    with translation.override(chat_channel.language or settings.LANGUAGE_CODE):
        subject = _("Transcript of your chat with %(name)s") % {"name": chat_channel.channel.name}
        zone = timezone.get_current_timezone_name()
        lines = [
            subject,
            _("Times are in %(zone)s.") % {"zone": zone},
            "",
        ]
        for message in queries.transcript_messages(session):
            frame = queries.message_frame(message, session.visitor)
            who = frame["name"] or (_("You") if frame["from"] == "visitor" else _("Support"))
            lines.append(f"[{_format_time(message.created_at)}] {who}:")
            lines.extend(f"  {line}" for line in message.body_text.splitlines() or [""])
            lines.append("")
        if session.closed_at is not None:
            lines.append(
                _("The chat was closed at %(time)s.") % {"time": _format_time(session.closed_at)}
            )
    return subject, "\n".join(lines).rstrip() + "\n"


def _email_channel_for(address: str) -> Channel | None:
    """The connected email channel whose address is `address` (looked up through the ORM
    relation the email app declares, never by importing it), or None for the default."""
    if not address:
        return None
    try:
        return (
            Channel.objects.filter(
                kind=ChannelKind.EMAIL, is_active=True, email__address__iexact=address
            )
            .order_by("id")
            .first()
        )
    except FieldError:  # the email channel app is not installed
        return None


def send_transcript(session_id: int, *, now: dt.datetime | None = None) -> str:
    """Hand a closed chat's transcript to the core's `send_automatic_message` (exactly once:
    its dedupe key is the chat's id, so a second run, another worker or a restart stores and
    sends nothing more). Returns the chat's transcript status."""
    session = (
        ChatSession.objects.select_related(
            "visitor", "visitor__chat_channel", "visitor__chat_channel__channel", "conversation"
        )
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        return "missing"
    if session.transcript_status != TranscriptStatus.PENDING:
        return str(session.transcript_status)
    ticket = (
        Ticket.objects.filter(pk=session.conversation.ticket_id).first()
        if session.conversation.ticket_id
        else None
    )
    if ticket is None or not session.transcript_to:
        ChatSession.objects.filter(
            pk=session.pk, transcript_status=TranscriptStatus.PENDING
        ).update(
            transcript_status=TranscriptStatus.FAILED,
            transcript_error="The chat has no ticket or no email address.",
        )
        return str(TranscriptStatus.FAILED)
    subject, text = transcript_text(session)
    chat_channel = session.visitor.chat_channel
    send_automatic_message = conversation_services.send_automatic_message
    send_automatic_message(
        ticket,
        to=session.transcript_to,
        subject=subject,
        text=text,
        dedupe_key=f"chat-transcript-{session.pk}",
        channel=_email_channel_for(chat_channel.transcript_from),
    )
    ChatSession.objects.filter(pk=session.pk, transcript_status=TranscriptStatus.PENDING).update(
        transcript_status=TranscriptStatus.SENT, transcript_sent_at=now or timezone.now()
    )
    return str(TranscriptStatus.SENT)


def mark_transcript_failed(session_id: int, error: str) -> None:
    ChatSession.objects.filter(pk=session_id, transcript_status=TranscriptStatus.PENDING).update(
        transcript_status=TranscriptStatus.FAILED, transcript_error=error[:2000]
    )
