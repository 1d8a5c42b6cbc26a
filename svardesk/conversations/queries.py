"""Reads for the agent's side of conversations: the thread shown in a ticket, where a reply
goes, attachments and messages behind a ticket permission check, mentionable users and
notifications. Everything that names a ticket goes through `tickets.queries.access_ticket`.
(Inbound threading reads live in `conversations/inbound.py` and `channels/email/threads.py`.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Q, QuerySet
from django.urls import reverse
from django.utils.html import escape, linebreaks
from django.utils.safestring import SafeString, mark_safe

from svardesk.accounts.models import User
from svardesk.channels.email.models import BlockedSender, EmailChannel
from svardesk.channels.email.parsing import format_address
from svardesk.conversations import content, mail
from svardesk.conversations.models import (
    Attachment,
    ChannelKind,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Message,
    MessageDirection,
    Notification,
)
from svardesk.core.exceptions import NotFoundError
from svardesk.tickets.models import Ticket, TicketEvent
from svardesk.tickets.queries import access_ticket, ticket_scope

MENTION_RESULTS = 10
NOTIFICATIONS_SHOWN = 100


# --- Where a reply goes ------------------------------------------------------------------------


def first_email_channel() -> EmailChannel | None:
    """The oldest connected email address: new conversations start there."""
    return (
        EmailChannel.objects.select_related("channel")
        .filter(channel__is_active=True)
        .order_by("pk")
        .first()
    )


def email_conversation_of(ticket: Ticket) -> Conversation | None:
    """The ticket's most recent conversation on a connected email channel."""
    return (
        Conversation.objects.select_related("channel", "channel__email", "contact")
        .filter(
            ticket=ticket,
            channel__kind=ChannelKind.EMAIL,
            channel__email__isnull=False,
            channel__is_active=True,
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
        .first()
    )


def reply_target(conversation: Conversation) -> Message | None:
    """The message a reply answers: the latest customer message or reply with a Message-ID.
    An auto-reply or bounce is never answered while a message from a person exists."""
    candidates = conversation.messages.filter(
        direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND]
    ).exclude(message_id="")
    human = candidates.filter(is_auto_generated=False).order_by("-created_at", "-id").first()
    return human or candidates.order_by("-created_at", "-id").first()


def team_addresses() -> set[str]:
    """Every address we receive mail on (never a recipient of our own replies)."""
    return {a.lower() for a in EmailChannel.objects.values_list("address", flat=True)}


def contact_address(ticket: Ticket) -> str:
    contact = ticket.contact
    if contact is None or not contact.email:
        return ""
    name = f"{contact.first_name} {contact.last_name}".strip()
    return format_address(name, contact.email)


@dataclass(frozen=True)
class ReplyDefaults:
    """What the reply tab starts with. `problem` says why no email can be sent yet:
    "no_channel" (no email address connected) or "no_address" (no one to write to)."""

    to: list[str]
    cc: list[str]
    from_address: str
    problem: str = ""


def reply_defaults(ticket: Ticket) -> ReplyDefaults:
    """To = the customer who wrote last (or the ticket's contact); Cc = everyone else that
    message went to, except our own addresses. Auto-replies and bounces are never answered."""
    conversation = email_conversation_of(ticket)
    if conversation is None:
        channel = first_email_channel()
        if channel is None:
            return ReplyDefaults([], [], "", problem="no_channel")
        address = contact_address(ticket)
        if not address:
            return ReplyDefaults([], [], channel.address, problem="no_address")
        return ReplyDefaults([address], [], channel.address)
    ours = team_addresses()
    latest = (
        conversation.messages.filter(direction=MessageDirection.INBOUND, is_auto_generated=False)
        .exclude(sender_address="")
        .order_by("-created_at", "-id")
        .first()
    )
    to: list[str] = []
    cc: list[str] = []
    if latest is not None:
        to = [format_address(latest.sender_name, latest.sender_address)]
        seen = {latest.sender_address.lower(), *ours}
        for entry in [*latest.to, *latest.cc]:
            address = mail.address_of(str(entry))
            if address and address not in seen:
                seen.add(address)
                cc.append(str(entry))
    elif contact_address(ticket):
        to = [contact_address(ticket)]
    else:
        last_out = (
            conversation.messages.filter(direction=MessageDirection.OUTBOUND)
            .order_by("-created_at", "-id")
            .first()
        )
        if last_out is not None:
            to, cc = list(last_out.to), list(last_out.cc)
    address = conversation.channel.email.address
    if not to:
        return ReplyDefaults([], [], address, problem="no_address")
    return ReplyDefaults(to, cc, address)


def sender_address_of(ticket: Ticket) -> str:
    """Who blocking would stop: the latest customer message's sender, else the contact."""
    latest = (
        Message.objects.filter(conversation__ticket=ticket, direction=MessageDirection.INBOUND)
        .exclude(sender_address="")
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is not None:
        return latest.sender_address.lower()
    if ticket.contact is not None and ticket.contact.email:
        return ticket.contact.email.lower()
    return ""


def is_blocked(address: str) -> bool:
    return bool(address) and BlockedSender.objects.filter(address__iexact=address).exists()


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

    kind = "message"

    @property
    def at(self) -> dt.datetime:
        return self.message.created_at


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


def display_message(message: Message) -> ThreadMessage:
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
    return ThreadMessage(
        message=message,
        body=body,
        quoted=quoted,
        attachments=[a for a in attachments if a.pk not in inline],
        blocked_images=blocked_images,
    )


def list_ticket_messages(ticket: Ticket) -> QuerySet[Message]:
    """Every message of every conversation of the ticket, oldest first, with attachments."""
    return (
        Message.objects.filter(conversation__ticket=ticket)
        .select_related("author", "contact", "channel")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def build_thread(ticket: Ticket, timeline: list[TicketEvent]) -> list[ThreadMessage | ThreadEvent]:
    """Messages and timeline events of the ticket, oldest first, interleaved by time."""
    items: list[ThreadMessage | ThreadEvent] = [
        display_message(m) for m in list_ticket_messages(ticket)
    ]
    items.extend(ThreadEvent(e) for e in timeline)
    items.sort(key=lambda item: item.at)
    return items


def conversation_context(
    ticket: Ticket, *, actor: User, timeline: list[TicketEvent]
) -> dict[str, Any]:
    """What the ticket page needs for its conversation column and reply editor. The caller
    has checked that `actor` may see the ticket."""
    sender = sender_address_of(ticket)
    thread = build_thread(ticket, timeline)
    has_inbound = any(
        isinstance(item, ThreadMessage) and item.message.direction == MessageDirection.INBOUND
        for item in thread
    )
    sending = any(
        isinstance(item, ThreadMessage)
        and item.message.delivery_status == DeliveryStatus.QUEUED
        and item.message.direction == MessageDirection.OUTBOUND
        for item in thread
    )
    return {
        "thread": thread,
        # The worker may run in another process than the web server; while a reply is on its
        # way the thread asks for its status itself instead of waiting for the socket.
        "thread_is_sending": sending,
        # An email ticket's description is its first message: show it once, in the thread.
        "show_description": bool(ticket.description) and not has_inbound,
        "reply_defaults": reply_defaults(ticket),
        "max_attachment_bytes": HelpDeskSettings.load().max_attachment_bytes,
        "spam_sender": sender,
        "spam_sender_blocked": is_blocked(sender) if ticket.is_spam else False,
        "may_block_senders": may_block_senders(actor),
    }


# --- Single messages and attachments behind the ticket's permission check ---------------------


def _pk(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise NotFoundError(f"No such {what}") from exc


def access_message(message_id: Any, *, actor: User) -> Message:
    """A message of a ticket the actor may see; NotFoundError otherwise."""
    message = (
        Message.objects.select_related("conversation", "channel", "author")
        .filter(pk=_pk(message_id, "message"))
        .first()
    )
    if message is None or message.conversation.ticket_id is None:
        raise NotFoundError("No such message")
    access_ticket(message.conversation.ticket_id, actor=actor)
    return message


def access_attachment(attachment_id: Any, *, actor: User) -> Attachment:
    """An attachment of a message on a ticket the actor may see; NotFoundError otherwise."""
    attachment = (
        Attachment.objects.select_related("message__conversation")
        .filter(pk=_pk(attachment_id, "attachment"))
        .first()
    )
    if attachment is None or attachment.message.conversation.ticket_id is None:
        raise NotFoundError("No such attachment")
    access_ticket(attachment.message.conversation.ticket_id, actor=actor)
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
    notifications = Notification.objects.filter(user=user)
    scope = ticket_scope(user)
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
    return visible_notifications(user).filter(read_at__isnull=True).count()


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
