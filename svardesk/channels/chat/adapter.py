"""The chat channel as the conversation core sees it (conversations/registry.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import (
    Capabilities,
    ChannelAdapter,
    ChannelState,
    ConversationAction,
    OutboundFields,
)
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.accounts.models import User
    from svardesk.conversations.models import Channel, Conversation, Message


class ChatDeliveryError(RuntimeError):
    """A reply's conversation is no chat of ours (the core retries, then marks it failed)."""


class ChatAdapter(ChannelAdapter):
    kind = ChannelKind.CHAT
    label = gettext_lazy("Chat")
    description = gettext_lazy(
        "A chat box on your website: visitors write, and agents answer live from the ticket."
    )
    ticket_source = Source.CHAT
    capabilities = Capabilities(
        rich_text=False,
        attachments=False,
        cc_bcc=False,
        subject=False,
        typing_indicators=True,
        reply_window=None,
        starts_conversations=False,
    )
    agent_script = "chat/agent.js"
    delivers_immediately = True

    def compose_reply(
        self,
        conversation: Conversation,
        *,
        actor: User,
        body_text: str,
        parent: Message | None,
    ) -> OutboundFields:
        return OutboundFields(sender_address="", subject="")

    def deliver(self, message: Message) -> str:
        """Send the stored reply to the visitor's open widgets through the channel layer. A
        visitor who is offline finds it in the history when they return, so "chat" is where
        it went either way."""
        from svardesk.channels.chat.layer import send_to_group, visitor_group
        from svardesk.channels.chat.queries import message_frame, session_of_conversation

        session = session_of_conversation(message.conversation_id)
        if session is None:
            raise ChatDeliveryError(f"Conversation {message.conversation_id} is not a chat")
        frame = message_frame(message, session.visitor)
        send_to_group(
            visitor_group(session.visitor.public_id), {"type": "chat.message", "message": frame}
        )
        return "chat"

    def conversation_actions(
        self, conversation: Conversation, *, actor: User
    ) -> list[ConversationAction]:
        from svardesk.channels.chat.queries import session_of_conversation

        session = session_of_conversation(conversation.pk)
        if session is None or not session.is_open:
            return []
        return [
            ConversationAction(
                label=gettext_lazy("Close chat"),
                url=reverse("chat_channel:close", args=[conversation.pk]),
                confirm=gettext_lazy("Close this chat? The visitor is told it has ended."),
            )
        ]

    def state(self, channel: Channel) -> ChannelState:
        from svardesk.channels.chat import queries

        chat_channel = queries.get_chat_channel(channel.pk)
        if chat_channel is None:
            return ChannelState(problems=[_("The chat channel's settings are missing.")])
        now = timezone.now()
        details = [
            _("Widget seen on %(origin)s %(ago)s ago")
            % {"origin": sighting.origin, "ago": timesince(sighting.last_seen_at, now)}
            for sighting in queries.list_sightings(chat_channel)
        ]
        if not details:
            details.append(_("The widget has not been loaded on a website yet."))
        problems: list[str] = []
        failed = queries.transcript_failures(chat_channel, since=now - dt.timedelta(days=7))
        if failed:
            problems.append(
                ngettext(
                    "%(count)s transcript could not be sent in the last 7 days.",
                    "%(count)s transcripts could not be sent in the last 7 days.",
                    failed,
                )
                % {"count": failed}
            )
        if chat_channel.transcripts_enabled and not chat_channel.transcript_from:
            problems.append(_("Transcripts are on but no Send from address is chosen."))
        return ChannelState(
            last_received_at=queries.last_visitor_message_at(channel),
            problems=problems,
            details=details,
            settings_url=reverse("chat_settings:edit", args=[channel.pk]),
        )

    def connect_url(self) -> str:
        return reverse("chat_settings:connect")
