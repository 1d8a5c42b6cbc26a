"""HubSpot's conversation shapes (PublicInbox, PublicChannelAccount, PublicThread, the
message union, actors) from Svardesk's rows. Pure functions: the views read the rows."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any

from svardesk.accounts.models import User
from svardesk.api.http import iso
from svardesk.conversations import content
from svardesk.conversations.editor import text_as_html
from svardesk.conversations.models import (
    Attachment,
    Channel,
    ChannelKind,
    Conversation,
    DeliveryStatus,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.crm.models import Contact

# HubSpot's generic channel ids (1000 to 1002 are HubSpot's own; 1003 and 1004 Svardesk's choice),
# and the names the channels list shows.
CHANNEL_IDS: dict[str, str] = {
    ChannelKind.CHAT: "1000",
    ChannelKind.MESSENGER: "1001",
    ChannelKind.EMAIL: "1002",
    ChannelKind.FORM: "1003",
    ChannelKind.CALL: "1004",
}
CHANNEL_KINDS: dict[str, str] = {generic: kind for kind, generic in CHANNEL_IDS.items()}
CHANNEL_NAMES: dict[str, str] = {
    "1000": "Live chat",
    "1001": "Facebook Messenger",
    "1002": "Email",
    "1003": "Forms",
    "1004": "Calls",
}
EMAIL_ADDRESS = "HS_EMAIL_ADDRESS"
OPAQUE_ID = "CHANNEL_SPECIFIC_OPAQUE_ID"
SYSTEM_ACTOR = "S-hubspot"


def channel_id_of(kind: str) -> str:
    return CHANNEL_IDS.get(kind, "0")


def agent_actor(user_id: int) -> str:
    return f"A-{user_id}"


def visitor_actor(contact_id: int) -> str:
    return f"V-{contact_id}"


def email_actor(address: str) -> str:
    return f"E-{address}"


def _without_none(data: dict[str, Any], *, keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None or k in keep}


# --- Inboxes and channels ----------------------------------------------------------------------


def inbox_shape(inbox: Inbox) -> dict[str, Any]:
    return {
        "id": str(inbox.pk),
        "name": inbox.name,
        "type": "HELP_DESK" if inbox.kind == InboxKind.HELP_DESK else "INBOX",
        "createdAt": iso(inbox.created_at),
        "updatedAt": iso(inbox.updated_at),
        "archived": False,
    }


def channel_shape(channel_id: str) -> dict[str, Any]:
    return {"id": channel_id, "name": CHANNEL_NAMES[channel_id]}


def channel_account_shape(channel: Channel) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(channel.pk),
        "channelId": channel_id_of(channel.kind),
        "inboxId": str(channel.inbox_id),
        "name": channel.name,
        "active": channel.is_active,
        "authorized": channel.is_active,
        "archived": False,
        "createdAt": iso(channel.created_at),
    }
    if channel.kind == ChannelKind.EMAIL:
        # An email channel's name is its address.
        data["deliveryIdentifier"] = {"type": EMAIL_ADDRESS, "value": channel.name}
    return data


# --- Threads -----------------------------------------------------------------------------------


def thread_status(conversation: Conversation) -> str:
    ticket = conversation.ticket
    return "OPEN" if ticket is None or ticket.is_open else "CLOSED"


def thread_shape(conversation: Conversation, *, with_ticket: bool = False) -> dict[str, Any]:
    """PublicThread. `latest_sent_at` / `latest_received_at` come from
    `conversations.queries.with_latest_message_times` when the caller annotated them."""
    ticket = conversation.ticket
    status = thread_status(conversation)
    data = _without_none(
        {
            "id": str(conversation.pk),
            "createdAt": iso(conversation.created_at),
            "status": status,
            "closedAt": iso(ticket.closed_at)
            if ticket is not None and status == "CLOSED"
            else None,
            "originalChannelId": channel_id_of(conversation.channel.kind),
            "originalChannelAccountId": str(conversation.channel_id),
            "latestMessageTimestamp": iso(conversation.last_message_at),
            "latestMessageSentTimestamp": iso(getattr(conversation, "latest_sent_at", None)),
            "latestMessageReceivedTimestamp": iso(
                getattr(conversation, "latest_received_at", None)
            ),
            "assignedTo": (
                agent_actor(ticket.owner_id)
                if ticket is not None and ticket.owner_id is not None
                else None
            ),
            "spam": conversation.is_spam,
            "inboxId": str(conversation.inbox_id),
            "associatedContactId": (
                str(conversation.contact_id) if conversation.contact_id is not None else None
            ),
            "archived": conversation.archived_at is not None,
            "archivedAt": iso(conversation.archived_at),
        },
        keep=("associatedContactId",),
    )
    if with_ticket:
        data["threadAssociations"] = (
            {"associatedTicketId": str(conversation.ticket_id)}
            if conversation.ticket_id is not None
            else {}
        )
    return data


# --- Messages ----------------------------------------------------------------------------------


def _identifier(channel_kind: str, address: str) -> dict[str, str] | None:
    if not address:
        return None
    kind = EMAIL_ADDRESS if channel_kind == ChannelKind.EMAIL else OPAQUE_ID
    return {"type": kind, "value": address}


def _created_by(message: Message) -> str:
    if message.direction == MessageDirection.INBOUND:
        if message.contact_id is not None:
            return visitor_actor(message.contact_id)
        if message.sender_address:
            return email_actor(message.sender_address)
        return SYSTEM_ACTOR
    return agent_actor(message.author_id) if message.author_id is not None else SYSTEM_ACTOR


def _senders(message: Message, created_by: str) -> list[dict[str, Any]]:
    sender = _without_none(
        {
            "actorId": created_by,
            "name": message.sender_name or None,
            "senderField": "FROM" if message.direction != MessageDirection.COMMENT else None,
            "deliveryIdentifier": (
                _identifier(message.channel.kind, message.sender_address)
                if message.direction != MessageDirection.COMMENT
                else None
            ),
        }
    )
    return [sender]


def _recipients(message: Message) -> list[dict[str, Any]]:
    if message.direction == MessageDirection.COMMENT:
        return []
    recipients = []
    for field, entries in (("TO", message.to), ("CC", message.cc), ("BCC", message.bcc)):
        for entry in entries or []:
            name, address = parseaddr(str(entry))
            address = address or str(entry)
            recipients.append(
                _without_none(
                    {
                        "actorId": email_actor(address)
                        if message.channel.kind == ChannelKind.EMAIL
                        else None,
                        "name": name or None,
                        "recipientField": field,
                        "deliveryIdentifier": _identifier(message.channel.kind, address),
                    }
                )
            )
    return recipients


def _attachments(message: Message) -> list[dict[str, Any]]:
    attachments: list[Attachment] = list(message.attachments.all())
    return [
        {
            "type": "FILE",
            "fileId": str(a.pk),
            "name": a.filename,
            "contentType": a.content_type,
            "size": a.size,
        }
        for a in sorted(attachments, key=lambda a: a.pk)
    ]


def _bodies(message: Message) -> tuple[str, str, str]:
    """(text, richText, truncationStatus): a customer's message without the quoted
    earlier mail it carries (`original-content` has all of it)."""
    text = message.body_text
    rich = message.body_html or (text_as_html(text) if text else "")
    if message.direction != MessageDirection.INBOUND:
        return text, rich, "NOT_TRUNCATED"
    visible_text, quoted_text = content.split_quoted_text(text)
    visible_html, quoted_html = (
        content.split_quoted_html(message.body_html) if message.body_html else (rich, "")
    )
    if not quoted_text.strip() and not quoted_html.strip():
        return text, rich, "NOT_TRUNCATED"
    return visible_text, visible_html, "TRUNCATED_TO_MOST_RECENT_REPLY"


def _status(message: Message) -> dict[str, Any] | None:
    status = message.delivery_status
    if message.direction == MessageDirection.INBOUND:
        return {"statusType": "RECEIVED"}
    if status == DeliveryStatus.SENT:
        return {"statusType": "SENT"}
    if status in (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED):
        return {
            "statusType": "FAILED",
            "failureDetails": {"errorMessage": message.delivery_error or status},
        }
    return None  # still being sent: HubSpot has no status for it


def message_shape(
    message: Message, *, replied_ids: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """A message of the union: COMMENT for an internal comment, MESSAGE for a customer's
    message or a reply. `replied_ids` maps Message-IDs of the conversation to message ids
    (`conversations.queries.message_ids_by_rfc_id`) for `inReplyToId`."""
    created_by = _created_by(message)
    is_comment = message.direction == MessageDirection.COMMENT
    text, rich, truncation = _bodies(message)
    data: dict[str, Any] = {
        "id": str(message.pk),
        "type": "COMMENT" if is_comment else "MESSAGE",
        "conversationsThreadId": str(message.conversation_id),
        "createdAt": iso(message.created_at),
        "updatedAt": iso(message.created_at),
        "createdBy": created_by,
        "client": {"clientType": "HUBSPOT" if message.author_id is not None else "SYSTEM"},
        "senders": _senders(message, created_by),
        "recipients": _recipients(message),
        "archived": False,
        "text": text,
        "richText": rich,
        "attachments": _attachments(message),
    }
    if is_comment:
        return data
    data.update(
        {
            "subject": message.subject or None,
            "channelId": channel_id_of(message.channel.kind),
            "channelAccountId": str(message.channel_id),
            "direction": (
                "INCOMING" if message.direction == MessageDirection.INBOUND else "OUTGOING"
            ),
            "truncationStatus": truncation,
        }
    )
    status = _status(message)
    if status is not None:
        data["status"] = status
    parent = (replied_ids or {}).get(message.in_reply_to) if message.in_reply_to else None
    if parent is not None:
        data["inReplyToId"] = str(parent)
    return _without_none(data)


def original_content_shape(message: Message) -> dict[str, Any]:
    text = message.body_text
    return {"text": text, "richText": message.body_html or (text_as_html(text) if text else "")}


# --- Actors ------------------------------------------------------------------------------------


def agent_shape(user: User) -> dict[str, Any]:
    return {
        "type": "AGENT",
        "id": agent_actor(user.pk),
        "name": user.display_name,
        "email": user.email,
    }


def visitor_shape(contact: Contact) -> dict[str, Any]:
    name = f"{contact.first_name} {contact.last_name}".strip()
    return _without_none(
        {
            "type": "VISITOR",
            "id": visitor_actor(contact.pk),
            "name": name or None,
            "email": contact.email or None,
        }
    )


def email_shape(address: str) -> dict[str, Any]:
    return {"type": "EMAIL", "id": email_actor(address), "email": address}


def system_shape() -> dict[str, Any]:
    return {"type": "SYSTEM", "id": SYSTEM_ACTOR, "name": "Svardesk"}
