"""Reads of the chat channel: the widget's channel by key, a visitor's chat and its history,
and the channel's state for the settings list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from svardesk.channels.chat.models import ChatChannel, ChatSession, Visitor, WidgetSighting
from svardesk.conversations.models import Channel, ChannelKind, Message, MessageDirection
from svardesk.core.local_cache import cached
from svardesk.core.precompiled import precompiled_objects

HISTORY_LIMIT = 200
SIGHTINGS_SHOWN = 5


def chat_channel_for_key(key: str) -> ChatChannel | None:
    """The connected (active) chat channel with this public key, kept a few seconds per
    process (the config endpoint and every handshake read it)."""
    if not key or len(key) > 32:
        return None

    def load() -> ChatChannel | None:
        return (
            ChatChannel.objects.select_related("channel")
            .filter(public_key=key, channel__is_active=True)
            .first()
        )

    return cached(f"chat:channel:{key}", load)


def get_chat_channel(channel_id: int) -> ChatChannel | None:
    """A chat channel by its `conversations.Channel` id, connected or not."""
    return ChatChannel.objects.select_related("channel").filter(channel_id=channel_id).first()


def list_chat_channels() -> list[ChatChannel]:
    return list(ChatChannel.objects.select_related("channel").order_by("channel_id"))


def get_visitor(chat_channel: ChatChannel, public_id: str) -> Visitor | None:
    return Visitor.objects.filter(chat_channel=chat_channel, public_id=public_id).first()


def latest_session(visitor: Visitor) -> ChatSession | None:
    return (
        ChatSession.objects.select_related("conversation")
        .filter(visitor=visitor)
        .order_by("-created_at", "-id")
        .first()
    )


def open_session(visitor: Visitor) -> ChatSession | None:
    """The visitor's open chat, with its conversation and ticket (a message continues them)."""
    return (
        ChatSession.objects.select_related("conversation__ticket")
        .filter(visitor=visitor, is_open=True)
        .order_by("-created_at", "-id")
        .first()
    )


def _session_of(conversation_id: int) -> QuerySet[ChatSession]:
    return (
        ChatSession.objects.select_related("visitor", "conversation", "visitor__chat_channel")
        .filter(conversation_id=conversation_id)
        .order_by()
    )


def session_of_conversation(conversation_id: int) -> ChatSession | None:
    # Read for every reply delivered (one session per conversation): compiled once.
    found = precompiled_objects(ChatSession, "chat.session_of", _session_of, conversation_id)
    return found[0] if found else None


def iso(moment: dt.datetime) -> str:
    """UTC, milliseconds, "Z": what the widget parses."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def client_id_of(message: Message, visitor: Visitor) -> str:
    prefix = f"chat-{visitor.public_id}-"
    return message.message_id[len(prefix) :] if message.message_id.startswith(prefix) else ""


def agent_display_name(message: Message) -> str:
    """An agent's first name (what the widget shows), or the sender name stored."""
    author = message.author
    if author is not None:
        return author.first_name or author.display_name or message.sender_name
    return message.sender_name


def message_frame(message: Message, visitor: Visitor) -> dict[str, Any]:
    """A message as the widget protocol carries it (docs/chat.md, MSG)."""
    if message.direction == MessageDirection.INBOUND:
        return {
            "id": message.pk,
            "from": "visitor",
            "name": message.sender_name or visitor.name,
            "text": message.body_text,
            "at": iso(message.created_at),
            "client_id": client_id_of(message, visitor),
        }
    return {
        "id": message.pk,
        "from": "agent",
        "name": agent_display_name(message),
        "text": message.body_text,
        "at": iso(message.created_at),
    }


def history(session: ChatSession) -> list[dict[str, Any]]:
    """The chat's visitor messages and agents' replies (never internal comments, never
    automatic messages such as the transcript), oldest first, the latest HISTORY_LIMIT."""
    rows = list(
        Message.objects.select_related("author")
        .filter(
            conversation_id=session.conversation_id,
            direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND],
            is_auto_generated=False,
        )
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    rows.reverse()
    return [message_frame(m, session.visitor) for m in rows]


def transcript_messages(session: ChatSession) -> list[Message]:
    return list(
        Message.objects.select_related("author")
        .filter(
            conversation_id=session.conversation_id,
            direction__in=[MessageDirection.INBOUND, MessageDirection.OUTBOUND],
            is_auto_generated=False,
        )
        .order_by("created_at", "id")
    )


def stored_message(channel: Channel, message_id: str) -> Message | None:
    """A visitor message already stored under its (channel, message_id), e.g. a resend."""
    return Message.objects.filter(channel=channel, message_id=message_id).first()


def list_sightings(chat_channel: ChatChannel, *, limit: int = SIGHTINGS_SHOWN) -> list[Any]:
    return list(WidgetSighting.objects.filter(chat_channel=chat_channel)[:limit])


def last_visitor_message_at(channel: Channel) -> dt.datetime | None:
    return (
        Message.objects.filter(channel=channel, direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)
        .first()
    )


def transcript_failures(chat_channel: ChatChannel, *, since: dt.datetime) -> int:
    return ChatSession.objects.filter(
        Q(transcript_status="failed"),
        visitor__chat_channel=chat_channel,
        closed_at__gte=since,
    ).count()


def is_chat_channel(channel: Channel) -> bool:
    return bool(channel.kind == ChannelKind.CHAT)


def recent(moment: dt.datetime, *, days: int = 7) -> bool:
    return timezone.now() - moment <= dt.timedelta(days=days)
