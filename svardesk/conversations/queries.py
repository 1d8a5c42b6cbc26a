"""Reads for the agent's side of conversations: the thread shown in a ticket, where a reply
goes, attachments and messages behind a ticket permission check, mentionable users and
notifications. Everything that names a ticket goes through `tickets.queries.access_ticket`.
(Inbound threading reads live in `conversations/inbound.py` and `channels/email/threads.py`.)
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Aggregate,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    prefetch_related_objects,
)
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from svardesk.accounts.models import User
from svardesk.conversations import content
from svardesk.conversations.models import (
    Attachment,
    Channel,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
    Notification,
)
from svardesk.conversations.registry import (
    Capabilities,
    ChannelAdapter,
    ConversationAction,
    UnknownChannelError,
    get_adapter,
    registered_adapters,
)
from svardesk.core.addresses import address_of, format_address
from svardesk.core.exceptions import NotFoundError
from svardesk.core.local_cache import cached
from svardesk.core.precompiled import precompiled_objects, precompiled_rows
from svardesk.tickets.models import Ticket, TicketEvent
from svardesk.tickets.queries import TicketScope, access_ticket, ticket_scope

MENTION_RESULTS = 10
NOTIFICATIONS_SHOWN = 100


# --- Where a reply goes ------------------------------------------------------------------------


def adapter_of(channel: Channel) -> ChannelAdapter | None:
    """The channel's registered adapter; None when its app is not installed."""
    try:
        return get_adapter(channel.kind)
    except UnknownChannelError:
        return None


def _kinds(*, starting: bool = False) -> list[str]:
    return [
        adapter.kind
        for adapter in registered_adapters()
        if adapter.capabilities.replies
        and (adapter.capabilities.starts_conversations or not starting)
    ]


def first_starting_channel() -> Channel | None:
    """The oldest active channel whose adapter starts conversations (an email address): a
    ticket without a conversation to reply on gets one there."""
    return (
        Channel.objects.filter(is_active=True, kind__in=_kinds(starting=True))
        .order_by("pk")
        .first()
    )


def help_desk_inbox_ids() -> frozenset[int]:
    """The ids of the help desk's inboxes (kept a few seconds: an inbox never changes kind)."""
    return cached(
        "conversations:help-desk-inboxes",
        lambda: frozenset(
            Inbox.objects.filter(kind=InboxKind.HELP_DESK).values_list("pk", flat=True)
        ),
    )


def is_in_help_desk(conversation: Conversation) -> bool:
    """False for a conversation moved to a conversations inbox: it keeps its ticket (the
    ticket's history), but no reply goes out on it from the ticket and a new message on it
    no longer touches the ticket."""
    return conversation.inbox_id in help_desk_inbox_ids()


def reply_conversation_of(ticket: Ticket) -> Conversation | None:
    """The ticket's most recent conversation in the help desk on an active channel that takes
    replies (any kind): an agent's reply goes there. Read for every reply: compiled once per
    number of channel kinds and help desk inboxes (core.precompiled)."""
    kinds = _kinds()
    inbox_ids = sorted(help_desk_inbox_ids())
    if not kinds or not inbox_ids:
        return None
    found = precompiled_objects(
        Conversation,
        "conversations.reply_conversation_of",
        _reply_conversation,
        ticket.pk,
        *kinds,
        *inbox_ids,
    )
    return found[0] if found else None


def _reply_conversation(ticket_id: int, *kinds_then_inboxes: str | int) -> QuerySet[Conversation]:
    # The values' kinds tell them apart: channel kinds are text, inbox ids numbers.
    kinds = [value for value in kinds_then_inboxes if isinstance(value, str)]
    inbox_ids = [value for value in kinds_then_inboxes if isinstance(value, int)]
    return (
        Conversation.objects.select_related("channel", "contact", "ticket")
        .filter(
            ticket_id=ticket_id,
            channel__is_active=True,
            channel__kind__in=kinds,
            inbox_id__in=inbox_ids,
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")[:1]
    )


def _reply_conversation_among(conversations: list[Conversation]) -> Conversation | None:
    """`reply_conversation_of` over conversations already read (with their channels)."""
    kinds = set(_kinds())
    candidates = [
        c
        for c in conversations
        if c.channel.is_active and c.channel.kind in kinds and is_in_help_desk(c)
    ]
    # Newest last message first, conversations without one last; ties: the newest id.
    return max(
        candidates,
        key=lambda c: (c.last_message_at is not None, c.last_message_at or _NEVER, c.pk),
        default=None,
    )


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


def reply_target(conversation: Conversation) -> Message | None:
    """The message a reply answers: the latest customer message or reply with a Message-ID.
    An auto-reply or bounce is never answered while a message from a person exists."""
    candidates = conversation.messages.filter(
        direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND]
    ).exclude(message_id="")
    human = candidates.filter(is_auto_generated=False).order_by("-created_at", "-id").first()
    return human or candidates.order_by("-created_at", "-id").first()


def reply_blocked_reason(
    conversation: Conversation,
    adapter: ChannelAdapter,
    *,
    now: dt.datetime,
    messages: list[Message] | None = None,
) -> str:
    """Why no reply can go out on `conversation` now, in the agent's language ("" when one
    can): the adapter's own reason, else its reply window closed (a reply may follow the
    customer's last message by at most `capabilities.reply_window`). `messages`: the
    conversation's messages when the caller has read them already."""
    reason = str(adapter.reply_blocked_reason(conversation, now=now) or "")
    window = adapter.capabilities.reply_window
    if reason or window is None:
        return reason
    if messages is None:
        last = conversation.messages.filter(direction=MessageDirection.INBOUND).aggregate(
            at=Max("created_at")
        )["at"]
    else:
        last = max(
            (m.created_at for m in messages if m.direction == MessageDirection.INBOUND),
            default=None,
        )
    if last is None or now - last <= window:
        return ""
    return _(
        "%(channel)s takes replies only within %(window)s of the customer's last message. "
        "Reply on another channel, or add a comment."
    ) % {"channel": adapter.label, "window": timesince(now - window, now)}


def team_addresses() -> set[str]:
    """Every address that is ours on any channel (never a recipient of our own replies)."""
    ours: set[str] = set()
    for adapter in registered_adapters():
        ours |= {a.lower() for a in adapter.own_addresses()}
    return ours


def _cached_team_addresses() -> frozenset[str]:
    # Read for every ticket page; channels change rarely. Saving a channel clears
    # core.local_cache in this process (the channel apps connect it); others follow within
    # its few seconds.
    return cached("conversations:team-addresses", lambda: frozenset(team_addresses()))


def helpdesk_settings() -> HelpDeskSettings:
    """The help desk settings through core.local_cache (cleared when they are saved)."""
    return cached("conversations:helpdesk-settings", HelpDeskSettings.load)


def contact_address(ticket: Ticket) -> str:
    contact = ticket.contact
    if contact is None or not contact.email:
        return ""
    name = f"{contact.first_name} {contact.last_name}".strip()
    return format_address(name, contact.email)


# The editor of a channel that is not registered (its app removed): plain text, nothing more.
NO_CAPABILITIES = Capabilities()


@dataclass(frozen=True)
class ReplyDefaults:
    """What the reply tab starts with, and what the conversation's channel lets it offer.
    `problem` says why no reply can be sent yet: "no_channel" (no channel to reply on or to
    start a conversation on) or "no_address" (no one to write to); `blocked_reason` is the
    channel's own reason (e.g. its reply window closed)."""

    to: list[str]
    cc: list[str]
    from_address: str
    problem: str = ""
    channel_kind: str = ""
    channel_label: str = ""
    capabilities: Capabilities = NO_CAPABILITIES
    blocked_reason: str = ""
    agent_script: str = ""
    actions: list[ConversationAction] = field(default_factory=list)
    conversation_id: int | None = None

    @property
    def editor_key(self) -> str:
        """Names the editor: a new conversation (or channel) gets a fresh one."""
        return f"{self.channel_kind or 'none'}-{self.conversation_id or 'new'}"


def _channel_fields(adapter: ChannelAdapter | None, channel: Channel) -> dict[str, Any]:
    return {
        "channel_kind": channel.kind,
        "channel_label": str(adapter.label) if adapter else channel.get_kind_display(),
        "capabilities": adapter.capabilities if adapter else NO_CAPABILITIES,
        "agent_script": adapter.agent_script if adapter else "",
    }


def reply_defaults(
    ticket: Ticket,
    *,
    actor: User | None = None,
    now: dt.datetime | None = None,
    loaded: TicketConversations | None = None,
) -> ReplyDefaults:
    """Where the ticket's next reply goes and what the editor offers for its channel. On a
    channel with To/Cc/Bcc: To = the customer who wrote last (or the ticket's contact); Cc =
    everyone else that message went to, except our own addresses. Auto-replies and bounces
    are never answered. On other channels the recipient is the conversation's customer.
    `loaded`: the ticket's conversations and messages when the caller has read them."""
    loaded = loaded or load_ticket_conversations(ticket)
    conversation = _reply_conversation_among(loaded.conversations)
    if conversation is None:
        # Every page of a ticket without a conversation asks; channels change rarely and
        # saving one clears the cache (core.local_cache). Sending reads it afresh.
        channel = cached("conversations:first-starting-channel", first_starting_channel)
        if channel is None:
            return ReplyDefaults([], [], "", problem="no_channel")
        fields = _channel_fields(adapter_of(channel), channel)
        address = contact_address(ticket)
        if not address and fields["capabilities"].cc_bcc:
            return ReplyDefaults([], [], channel.name, problem="no_address", **fields)
        return ReplyDefaults([address] if address else [], [], channel.name, **fields)
    messages = [m for m in loaded.messages if m.conversation_id == conversation.pk]
    adapter = adapter_of(conversation.channel)
    fields = _channel_fields(adapter, conversation.channel)
    fields["conversation_id"] = conversation.pk
    if adapter is not None:
        fields["blocked_reason"] = reply_blocked_reason(
            conversation, adapter, now=now or timezone.now(), messages=messages
        )
        if actor is not None:
            fields["actions"] = adapter.conversation_actions(conversation, actor=actor)
    from_address = conversation.channel.name
    if not fields["capabilities"].cc_bcc:
        return ReplyDefaults([], [], from_address, **fields)
    ours = _cached_team_addresses()
    latest = _latest(
        m
        for m in messages
        if m.direction == MessageDirection.INBOUND and not m.is_auto_generated and m.sender_address
    )
    to: list[str] = []
    cc: list[str] = []
    if latest is not None:
        to = [format_address(latest.sender_name, latest.sender_address)]
        seen = {latest.sender_address.lower(), *ours}
        for entry in [*latest.to, *latest.cc]:
            address = address_of(str(entry))
            if address and address not in seen:
                seen.add(address)
                cc.append(str(entry))
    elif contact_address(ticket):
        to = [contact_address(ticket)]
    else:
        last_out = _latest(m for m in messages if m.direction == MessageDirection.OUTBOUND)
        if last_out is not None:
            to, cc = list(last_out.to), list(last_out.cc)
    if not to:
        return ReplyDefaults([], [], from_address, problem="no_address", **fields)
    return ReplyDefaults(to, cc, from_address, **fields)


def _latest(messages: Iterable[Message]) -> Message | None:
    """The newest of `messages` by (created_at, id), as `.order_by("-created_at", "-id")`."""
    return max(messages, key=lambda m: (m.created_at, m.pk), default=None)


@dataclass(frozen=True)
class SpamSender:
    """Who blocking would stop, and the channel that would block them (None: no channel of
    the ticket can block a sender)."""

    address: str
    adapter: ChannelAdapter | None


def spam_sender_of(ticket: Ticket, *, loaded: TicketConversations | None = None) -> SpamSender:
    """The latest customer message's sender on its channel; else the contact's email on the
    first of the ticket's channels that can block a sender. `loaded`: the ticket's
    conversations and messages when the caller has read them."""
    loaded = loaded or load_ticket_conversations(ticket)
    latest = _latest(
        m for m in loaded.messages if m.direction == MessageDirection.INBOUND and m.sender_address
    )
    if latest is not None:
        adapter = adapter_of(latest.channel)
        if adapter is not None and adapter.can_block_senders:
            return SpamSender(latest.sender_address.lower(), adapter)
    if ticket.contact is None or not ticket.contact.email:
        return SpamSender("", None)
    by_pk = {c.channel_id: c.channel for c in loaded.conversations}
    channels = [by_pk[pk] for pk in sorted(by_pk)]
    for channel in channels:
        adapter = adapter_of(channel)
        if adapter is not None and adapter.can_block_senders:
            return SpamSender(ticket.contact.email.lower(), adapter)
    return SpamSender("", None)


def sender_address_of(ticket: Ticket) -> str:
    """Who blocking would stop ("" when no channel of the ticket can block them)."""
    return spam_sender_of(ticket).address


def may_block_senders(user: User) -> bool:
    """A block is help-desk wide: the sender's later mail goes to Spam whichever team's
    ticket it answers. So only super admins and users with Account access block or unblock
    senders; any agent may still mark a ticket they see as spam."""
    return bool(user.is_active and (user.is_superuser or user.has_account_access))


# --- The thread ------------------------------------------------------------------------------


@dataclass
class ThreadMessage:
    """A message as the ticket shows it. `body` and `quoted` are safe HTML: stored bodies were
    sanitised (nh3) on the way in; plain text is escaped here."""

    message: Message
    body: SafeString
    quoted: SafeString
    attachments: list[Attachment] = field(default_factory=list)
    blocked_images: int = 0  # remote images left out of `body` and `quoted`
    channel_kind: str = ""  # the channel the message came or went by ("email", "chat", …)
    channel_label: str = ""  # its name in the agent's language ("Email", "Chat", …)

    kind = "message"

    @property
    def at(self) -> dt.datetime:
        return self.message.created_at

    @property
    def blocked_images_label(self) -> str:
        return ngettext(
            "%(counter)s remote image blocked",
            "%(counter)s remote images blocked",
            self.blocked_images,
        ) % {"counter": self.blocked_images}


@dataclass
class ThreadEvent:
    event: TicketEvent

    kind = "event"

    @property
    def at(self) -> dt.datetime:
        return self.event.created_at


def _inline_shown(body_html: str, attachments: list[Attachment]) -> set[int]:
    """Inline images the body already shows (their cid: was pointed at the attachment view
    when the message was recorded); they are not listed again under the message."""
    shown = set()
    for attachment in attachments:
        if not attachment.is_inline:
            continue
        url = reverse("conversations:attachment", args=[attachment.pk])
        if f'"{url}' in body_html:
            shown.add(attachment.pk)
    return shown


def message_html_parts(message: Message) -> tuple[SafeString, SafeString]:
    """(visible, quoted) of a message's HTML body as stored, remote images included: only for
    the sandboxed frame the agent opens with "Load images"."""
    visible, hidden = message.body_html, ""
    if message.direction == MessageDirection.INBOUND:
        visible, hidden = content.split_quoted_html(message.body_html)
    # Stored bodies were sanitised (nh3) when they were recorded.
    return mark_safe(visible), mark_safe(hidden)  # noqa: S308


def display_message(message: Message, attachments: list[Attachment] | None = None) -> ThreadMessage:
    """The message as the thread shows it; `attachments`: its attachments when the caller
    has read them (`load_ticket_conversations`), else they are read here."""
    if attachments is None:
        attachments = list(message.attachments.all())
    quoted: SafeString = SafeString("")
    blocked_images = 0
    if message.body_html:
        inline = _inline_shown(message.body_html, attachments)
        visible, hidden = message_html_parts(message)
        # The thread never names a remote image's address: "Load images" shows the message
        # in a frame of its own (`message_html_parts`).
        shown_visible, blocked_visible = content.block_remote_images(visible)
        shown_hidden, blocked_hidden = content.block_remote_images(hidden)
        blocked_images = blocked_visible + blocked_hidden
        body = mark_safe(shown_visible)  # noqa: S308 - sanitised when recorded
        quoted = mark_safe(shown_hidden)  # noqa: S308 - sanitised when recorded
    else:
        inline = set()
        visible_text, hidden_text = message.body_text, ""
        if message.direction == MessageDirection.INBOUND:
            visible_text, hidden_text = content.split_quoted_text(message.body_text)
        body = mark_safe(linebreaks(escape(visible_text)))  # noqa: S308 - escaped
        if hidden_text.strip():
            quoted = mark_safe(linebreaks(escape(hidden_text)))  # noqa: S308 - escaped
    adapter = adapter_of(message.channel)
    return ThreadMessage(
        message=message,
        body=body,
        quoted=quoted,
        attachments=[a for a in attachments if a.pk not in inline],
        blocked_images=blocked_images,
        channel_kind=message.channel.kind,
        channel_label=str(adapter.label) if adapter else message.channel.get_kind_display(),
    )


def list_ticket_messages(ticket: Ticket) -> QuerySet[Message]:
    """Every message of every conversation of the ticket, oldest first, with attachments."""
    return (
        _messages_of_ticket(ticket.pk).prefetch_related("attachments").order_by("created_at", "id")
    )


def _messages_of_ticket(ticket_id: int) -> QuerySet[Message]:
    return Message.objects.filter(conversation__ticket_id=ticket_id).select_related(
        "author", "contact", "channel"
    )


def _message_of_ticket(ticket_id: int, message_id: int) -> QuerySet[Message]:
    return _messages_of_ticket(ticket_id).filter(pk=message_id).order_by()


def ticket_message(ticket: Ticket, message_id: int) -> Message | None:
    """One message of the ticket as `list_ticket_messages` gives it (attachments included);
    None if the ticket has no such message. A live channel's Send answers with it: compiled
    once (core.precompiled)."""
    found = precompiled_objects(
        Message, "conversations.ticket_message", _message_of_ticket, ticket.pk, message_id
    )
    prefetch_related_objects(found, "attachments")
    return found[0] if found else None


class _JSONArrayAgg(Aggregate):
    """Rows as one JSON array: json_agg on PostgreSQL, json_group_array on SQLite."""

    function = "JSON_AGG"
    output_field = TextField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSON_GROUP_ARRAY", **extra)


_ATTACHMENT_FIELDS = ("id", "filename", "size", "is_inline")


def _attachments_json() -> Subquery:
    """A message's attachments (the fields the thread shows) as a JSON array, so the thread
    and its attachments come in one statement."""
    rows = (
        Attachment.objects.filter(message_id=OuterRef("pk"))
        .order_by()
        .values("message_id")
        .annotate(items=_JSONArrayAgg(JSONObject(**{f: f for f in _ATTACHMENT_FIELDS})))
        .values("items")
    )
    return Subquery(rows, output_field=TextField())


def _attachments_of(message: Message) -> list[Attachment]:
    items = _json_items(getattr(message, "attachments_json", None))
    attachments = [
        Attachment(
            pk=item["id"],
            message=message,
            filename=item["filename"],
            size=item["size"],
            is_inline=bool(item["is_inline"]),
        )
        for item in items
    ]
    attachments.sort(key=lambda a: a.pk)
    return attachments


@dataclass
class TicketConversations:
    """A ticket's conversations (with their channels) and all their messages, oldest first
    (with author, contact, channel and `attachments_json`): what the ticket page reads of
    conversations, in at most two statements whatever their number."""

    conversations: list[Conversation]
    messages: list[Message]


# The conversation and channel fields the ticket page reads, as `conversations_summary` names
# them in its JSON.
_SUMMARY_FIELDS = {
    "id": "id",
    "channel_id": "channel_id",
    "inbox_id": "inbox_id",
    "contact_id": "contact_id",
    "subject": "subject",
    "is_spam": "is_spam",
    "last_message_at": "last_message_at",
    "channel_kind": "channel__kind",
    "channel_name": "channel__name",
    "channel_is_active": "channel__is_active",
    "channel_inbox_id": "channel__inbox_id",
}


def conversations_summary() -> Subquery:
    """For a ticket query (`access_ticket(annotate=…)`): the ticket's conversations with
    their channels as a JSON array, so reading the ticket reads them too."""
    rows = (
        Conversation.objects.filter(ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .annotate(items=_JSONArrayAgg(JSONObject(**_SUMMARY_FIELDS)))
        .values("items")
    )
    return Subquery(rows, output_field=TextField())


def _json_items(raw: Any) -> list[dict[str, Any]]:
    """A JSON array column: PostgreSQL's driver decodes it, SQLite's gives text."""
    if raw is None:
        return []
    return list(json.loads(raw) if isinstance(raw, str) else raw)


def _json_datetime(raw: Any) -> dt.datetime | None:
    if raw is None:
        return None
    moment = parse_datetime(str(raw))
    if moment is not None and timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)  # SQLite stores UTC without an offset
    return moment


def _conversations_from_summary(ticket: Ticket, raw: Any) -> list[Conversation]:
    conversations = []
    for item in _json_items(raw):
        channel = Channel(
            pk=item["channel_id"],
            inbox_id=item["channel_inbox_id"],
            kind=item["channel_kind"],
            name=item["channel_name"],
            is_active=bool(item["channel_is_active"]),
        )
        conversation = Conversation(
            pk=item["id"],
            channel=channel,
            inbox_id=item["inbox_id"],
            ticket=ticket,
            contact_id=item["contact_id"],
            subject=item["subject"],
            is_spam=bool(item["is_spam"]),
            last_message_at=_json_datetime(item["last_message_at"]),
        )
        if conversation.contact_id is not None and conversation.contact_id == ticket.contact_id:
            conversation.contact = ticket.contact
        conversations.append(conversation)
    return conversations


def load_ticket_conversations(ticket: Ticket) -> TicketConversations:
    """The ticket's conversations and messages; the conversations come from the ticket's
    `conversations_json` when it was read with `conversations_summary()`."""
    if hasattr(ticket, "conversations_json"):
        conversations = _conversations_from_summary(ticket, ticket.conversations_json)
    else:
        conversations = list(
            Conversation.objects.select_related("channel", "contact").filter(ticket=ticket)
        )
        for conversation in conversations:
            conversation.ticket = ticket  # the adapters may read it; no query for it
    messages: list[Message] = []
    # A conversation moved to a conversations inbox leaves the ticket's thread (its move
    # stays on the timeline); it shows on its inbox's page.
    shown = [c for c in conversations if is_in_help_desk(c)]
    if shown:
        rows = Message.objects.filter(conversation__ticket=ticket)
        if len(shown) < len(conversations):
            rows = rows.filter(conversation_id__in=[c.pk for c in shown])
        messages = list(
            rows.select_related("author", "contact", "channel")
            .annotate(attachments_json=_attachments_json())
            .order_by("created_at", "id")
        )
    return TicketConversations(conversations, messages)


def build_thread(
    ticket: Ticket,
    timeline: list[TicketEvent],
    *,
    loaded: TicketConversations | None = None,
) -> list[ThreadMessage | ThreadEvent]:
    """Messages and timeline events of the ticket, oldest first, interleaved by time."""
    loaded = loaded or load_ticket_conversations(ticket)
    items: list[ThreadMessage | ThreadEvent] = [
        display_message(m, _attachments_of(m)) for m in loaded.messages
    ]
    items.extend(ThreadEvent(e) for e in timeline)
    items.sort(key=lambda item: item.at)
    return items


def conversation_context(
    ticket: Ticket, *, actor: User, timeline: list[TicketEvent]
) -> dict[str, Any]:
    """What the ticket page needs for its conversation column and reply editor. The caller
    has checked that `actor` may see the ticket."""
    loaded = load_ticket_conversations(ticket)
    spam_sender = spam_sender_of(ticket, loaded=loaded)
    thread = build_thread(ticket, timeline, loaded=loaded)
    has_inbound = any(m.direction == MessageDirection.INBOUND for m in loaded.messages)
    sending = any(
        m.delivery_status == DeliveryStatus.QUEUED and m.direction == MessageDirection.OUTBOUND
        for m in loaded.messages
    )
    return {
        "thread": thread,
        # The worker may run in another process than the web server; while a reply is on its
        # way the thread asks for its status itself instead of waiting for the socket.
        "thread_is_sending": sending,
        # An email ticket's description is its first message: show it once, in the thread.
        "show_description": bool(ticket.description) and not has_inbound,
        "reply_defaults": reply_defaults(ticket, actor=actor, loaded=loaded),
        "max_attachment_bytes": helpdesk_settings().max_attachment_bytes,
        "reply_tab_label": pgettext("composer tab", "Reply"),
        "spam_sender": spam_sender.address,
        "spam_sender_blocked": (
            spam_sender.adapter.is_blocked(spam_sender.address)
            if ticket.is_spam and spam_sender.adapter is not None
            else False
        ),
        "may_block_senders": may_block_senders(actor),
    }


# --- Single messages and attachments behind the ticket's permission check ---------------------


def _pk(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise NotFoundError(f"No such {what}") from exc


def _check_conversation_access(conversation: Conversation, *, actor: User) -> None:
    """A help desk conversation follows its ticket's scope; a thread of a conversations inbox
    (never a ticket's, or moved out of the help desk) is open to every workspace user, as the
    inbox's pages are. NotFoundError otherwise."""
    if not is_in_help_desk(conversation):
        if not actor.can_use_workspace:
            raise NotFoundError("No such conversation")
        return
    if conversation.ticket_id is None:
        raise NotFoundError("No such conversation")
    access_ticket(conversation.ticket_id, actor=actor)


def access_message(message_id: Any, *, actor: User) -> Message:
    """A message of a conversation the actor may see; NotFoundError otherwise."""
    message = (
        Message.objects.select_related("conversation", "channel", "author")
        .filter(pk=_pk(message_id, "message"))
        .first()
    )
    if message is None:
        raise NotFoundError("No such message")
    _check_conversation_access(message.conversation, actor=actor)
    return message


def access_attachment(attachment_id: Any, *, actor: User) -> Attachment:
    """An attachment of a message the actor may see (`access_message`'s rule);
    NotFoundError otherwise."""
    attachment = (
        Attachment.objects.select_related("message__conversation")
        .filter(pk=_pk(attachment_id, "attachment"))
        .first()
    )
    if attachment is None:
        raise NotFoundError("No such attachment")
    _check_conversation_access(attachment.message.conversation, actor=actor)
    return attachment


# --- Mentions and notifications --------------------------------------------------------------


def mentionable_users() -> QuerySet[User]:
    """Everyone who works in the help desk: super admins and users with a seat."""
    return User.objects.filter(Q(has_seat=True) | Q(is_superuser=True), is_active=True)


def search_mentionable_users(query: str, *, limit: int = MENTION_RESULTS) -> list[User]:
    """Up to `limit` workspace users whose name or email matches every word of `query`."""
    users = mentionable_users()
    for word in query.split()[:4]:
        users = users.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return list(users.order_by("first_name", "last_name", "email")[:limit])


def visible_notifications(user: User) -> QuerySet[Notification]:
    """The user's notifications about tickets they may see now. A notification names its
    ticket and quotes the comment, so access is checked when it is read, not when it was
    made: a user moved off a team stops seeing that team's notifications (and gets them
    back with the access)."""
    return _visible_notifications(ticket_scope(user))


def _visible_notifications(scope: TicketScope) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user_id=scope.user_id)
    if scope.sees_all:
        return notifications
    return notifications.filter(
        Q(ticket__isnull=True) | Q(ticket__in=Ticket.objects.filter(scope.as_q()).values("pk"))
    )


def is_notification_visible(notification: Notification) -> bool:
    """Whether its user may still read it: in the workspace (active, with a seat or super
    admin) and allowed to see its ticket now. Checked again when a queued email is sent."""
    user = notification.user
    if not mentionable_users().filter(pk=user.pk).exists():
        return False
    return visible_notifications(user).filter(pk=notification.pk).exists()


def list_notifications(user: User, *, limit: int = NOTIFICATIONS_SHOWN) -> list[Notification]:
    return list(
        visible_notifications(user)
        .select_related("actor", "ticket", "message")
        .order_by("-created_at", "-id")[:limit]
    )


def count_unread_notifications(user: User) -> int:
    """The bell's number on every workspace page: the statement is compiled once per process
    and kind of scope (core.precompiled; ~1 ms of Python per page otherwise)."""
    scope = ticket_scope(user)
    rows = precompiled_rows(
        Notification,
        f"conversations:unread:{scope.sees_all}",
        functools.partial(_count_unread, sees_all=scope.sees_all),
        scope.user_id,
        *scope.team_ids,
    )
    return int(rows[0][0]) if rows else 0


def _count_unread(user_id: int, *team_ids: int, sees_all: bool) -> QuerySet[Any, Any]:
    scope = TicketScope(user_id=user_id, sees_all=sees_all, team_ids=team_ids)
    unread = _visible_notifications(scope).filter(read_at__isnull=True)
    # One row with the count (none when the user has no notification at all).
    return unread.order_by().values("user_id").annotate(n=Count("id")).values_list("n")


def get_notification(notification_id: Any, *, user: User) -> Notification:
    """One of the user's own notifications about a ticket they may see; NotFoundError for
    anyone else's."""
    notification = (
        visible_notifications(user)
        .select_related("ticket")
        .filter(pk=_pk(notification_id, "notification"))
        .first()
    )
    if notification is None:
        raise NotFoundError("No such notification")
    return notification


def list_channels() -> list[Channel]:
    """Every connected channel, active ones first, for Settings → Channels."""
    return list(Channel.objects.order_by("-is_active", "kind", "name", "pk"))


def get_channel(channel_id: int) -> Channel | None:
    return Channel.objects.filter(pk=channel_id).first()


def list_messages_of_tickets(
    tickets: QuerySet[Ticket],
    *,
    before: tuple[dt.datetime, int] | None = None,
    limit: int,
) -> list[Message]:
    """The latest messages (replies, customer messages, comments) of a set of tickets, newest
    first, with their ticket and author: a record page's timeline. `tickets` is a queryset the
    caller already scoped to what the reader may see; `before` = (created_at, id) of the last
    message shown, for the next page."""
    messages = Message.objects.filter(conversation__ticket__in=tickets.values("pk"))
    if before is not None:
        at, message_id = before
        messages = messages.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=message_id))
    return list(
        messages.select_related("author", "conversation__ticket")
        .only(
            "id",
            "direction",
            "sender_name",
            "sender_address",
            "subject",
            "body_text",
            "created_at",
            "author__id",
            "author__first_name",
            "author__last_name",
            "author__email",
            "conversation__id",
            "conversation__ticket__id",
            "conversation__ticket__name",
        )
        .order_by("-created_at", "-id")[:limit]
    )


# --- Conversations by id (the API's threads) ----------------------------------------------------


def visible_conversations(user: User) -> QuerySet[Conversation]:
    """The conversations `user` may read: those of tickets they may see. A conversation
    without a ticket has no team or owner to scope it by, so only users who see every ticket
    see it."""
    scope = ticket_scope(user)
    if scope.sees_all:
        return Conversation.objects.all()
    return Conversation.objects.filter(ticket__in=Ticket.objects.filter(scope.as_q()).values("pk"))


def access_conversation(
    conversation_id: Any, *, actor: User, archived: bool | None = False
) -> Conversation:
    """A conversation the actor may read (`visible_conversations`), with its channel and
    ticket; NotFoundError otherwise. `archived`: False finds only conversations not in the
    trash, True only those in it, None either."""
    conversations = visible_conversations(actor).select_related("channel", "ticket")
    if archived is not None:
        conversations = conversations.filter(archived_at__isnull=not archived)
    conversation = conversations.filter(pk=_pk(conversation_id, "conversation")).first()
    if conversation is None:
        raise NotFoundError("No such conversation")
    return conversation


def list_conversations(
    user: User,
    *,
    archived: bool = False,
    inbox_id: int | None = None,
    is_open: bool | None = None,
    contact_id: int | None = None,
    ticket_id: int | None = None,
    last_message_after: dt.datetime | None = None,
) -> QuerySet[Conversation]:
    """The conversations `user` may read, narrowed by the given conditions, with channel and
    ticket. `is_open` follows the ticket (a conversation without one counts as open);
    ordering is the caller's."""
    conversations = visible_conversations(user).filter(archived_at__isnull=not archived)
    if inbox_id is not None:
        conversations = conversations.filter(inbox_id=inbox_id)
    if is_open is True:
        conversations = conversations.filter(Q(ticket__isnull=True) | Q(ticket__is_open=True))
    elif is_open is False:
        conversations = conversations.filter(ticket__is_open=False)
    if contact_id is not None:
        conversations = conversations.filter(contact_id=contact_id)
    if ticket_id is not None:
        conversations = conversations.filter(ticket_id=ticket_id)
    if last_message_after is not None:
        conversations = conversations.filter(last_message_at__gt=last_message_after)
    return conversations.select_related("channel", "ticket")


def with_latest_message_times(conversations: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Adds `latest_sent_at` (the newest message to the customer) and `latest_received_at`
    (the newest from them), each read from the message timeline index."""

    def newest(direction: str) -> Subquery:
        rows = Message.objects.filter(conversation_id=OuterRef("pk"), direction=direction)
        return Subquery(rows.order_by("-created_at", "-id").values("created_at")[:1])

    return conversations.annotate(
        latest_sent_at=newest(MessageDirection.OUTBOUND),
        latest_received_at=newest(MessageDirection.INBOUND),
    )


def list_conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    """Every message of the conversation (comments included), with author, contact,
    channel and attachments; ordering is the caller's."""
    return (
        Message.objects.filter(conversation=conversation)
        .select_related("author", "contact", "channel")
        .prefetch_related("attachments")
    )


def message_ids_by_rfc_id(conversation: Conversation, rfc_ids: Iterable[str]) -> dict[str, int]:
    """The conversation's messages with these Message-IDs, as {Message-ID: id} (what a
    reply answers)."""
    wanted = {i for i in rfc_ids if i}
    if not wanted:
        return {}
    rows = Message.objects.filter(conversation=conversation, message_id__in=wanted)
    return dict(rows.order_by("id").values_list("message_id", "pk"))


def list_inboxes() -> QuerySet[Inbox]:
    return Inbox.objects.order_by("pk")


def users_by_ids(user_ids: Iterable[int]) -> dict[int, User]:
    """Users by id, inactive ones included (a message keeps its author): who an actor id
    names."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    return {user.pk: user for user in User.objects.filter(pk__in=ids)}


def access_conversation_message(message_id: Any, *, actor: User) -> Message:
    """A message of a conversation the actor may read (`visible_conversations`, in the trash
    or not); NotFoundError otherwise."""
    message = (
        Message.objects.filter(
            pk=_pk(message_id, "message"),
            conversation__in=visible_conversations(actor).values("pk"),
        )
        .select_related("author", "contact", "channel")
        .first()
    )
    if message is None:
        raise NotFoundError("No such message")
    return message
