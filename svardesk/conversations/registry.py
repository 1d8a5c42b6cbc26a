"""The channel registry: how the conversation core reaches a channel without importing it.

Each channel app (`svardesk/channels/<kind>/`) registers one `ChannelAdapter` in its
`AppConfig.ready()`. The core (replies, delivery, the reply editor, the thread, the channel
settings list) asks the registry what a channel supports and how a reply leaves; it never
imports a channel package. Adding a channel is a new folder with an adapter: see
docs/channels.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argparse import ArgumentParser
    from collections.abc import Callable, Mapping
    from typing import Any

    from django.utils.functional import Promise

    from svardesk.accounts.models import User
    from svardesk.conversations.models import Channel, Conversation, Message


@dataclass(frozen=True)
class Capabilities:
    """What a channel's messages can carry; the reply editor and validation follow it."""

    rich_text: bool = False  # formatted HTML replies (else plain text, shown as text)
    attachments: bool = False
    cc_bcc: bool = False  # To/Cc/Bcc recipients chosen per reply
    subject: bool = False
    typing_indicators: bool = False
    # How long after the customer's last message a reply may still be sent (None: always).
    reply_window: dt.timedelta | None = None
    # Agents may start a conversation on this channel for a ticket that has none (email
    # can write to the contact's address; a chat or form cannot start one).
    starts_conversations: bool = False
    # Agents answer on this channel's conversations. False for a channel that only brings
    # messages in (a web form): a reply then goes to the ticket's conversation on another
    # channel, or one started on a channel that starts conversations.
    replies: bool = True


@dataclass(frozen=True)
class OutboundFields:
    """What a channel adds to an agent's reply before it is stored (Message fields)."""

    sender_address: str = ""
    subject: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    # The recipients stored on the message (Message.to) when the channel has no cc_bcc and
    # so the agent chose none: e.g. the visitor's name. Ignored when the agent chose them.
    to: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ChannelState:
    """One connected channel as Settings → Channels lists it."""

    last_received_at: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)  # e.g. an IMAP login that fails
    details: list[str] = field(default_factory=list)  # e.g. "Widget seen on https://…"
    settings_url: str = ""


@dataclass(frozen=True)
class ConversationAction:
    """A button the ticket page shows for a conversation of this channel (e.g. "Close chat"):
    a POST to `url` (CSRF-protected, permission-checked by the channel's view)."""

    label: str | Promise
    url: str
    confirm: str | Promise = ""  # a question asked before posting, "" for none


class ChannelAdapter:
    """One channel kind as the core sees it. Subclass it in the channel app and register an
    instance with `register`. Every method has a safe default except `deliver`."""

    kind: str = ""  # a conversations.models.ChannelKind value
    label: str | Promise = ""
    # One sentence for Settings → Connect a channel (what connecting it gives); "" for none.
    description: str | Promise = ""
    ticket_source: str = ""  # a tickets.models.Source value for tickets it creates
    capabilities: Capabilities = Capabilities()
    # Static path of a script the ticket page loads when a conversation of this kind is
    # shown (e.g. the chat's typing indicator); "" for none.
    agent_script: str = ""
    # Deliver in the replying process right after commit instead of from the task queue (a
    # chat reply must reach the visitor at once); a failure falls back to the queue's retries.
    delivers_immediately: bool = False
    # The channel can block a sender (`block_sender`): "Mark as spam" then offers it.
    can_block_senders: bool = False

    def compose_reply(
        self,
        conversation: Conversation,
        *,
        actor: User,
        body_text: str,
        parent: Message | None,
    ) -> OutboundFields:
        """Fields of an agent's reply on `conversation` (called inside the reply's
        transaction; no network I/O). `parent` is the message it answers, if any."""
        return OutboundFields()

    def compose_automatic(
        self, conversation: Conversation, *, subject: str, dedupe_key: str
    ) -> OutboundFields:
        """Fields of an automatic message (a transcript, a confirmation) on `conversation`
        (inside the transaction; no network I/O). `message_id` MUST be the same for the same
        `dedupe_key` on the same channel: the unique (channel, message_id) constraint is what
        stores and sends the message once."""
        return OutboundFields(
            subject=subject, message_id=automatic_message_id(self.kind, dedupe_key)
        )

    def deliver(self, message: Message) -> str:
        """Hand a stored, claimed reply to the channel (called from a background task, or
        right after commit for `delivers_immediately`; never inside a transaction). Returns where it went ("smtp://host:port", "chat"), shown
        beside Sent; raises on failure so the task retries."""
        raise NotImplementedError

    def reply_blocked_reason(self, conversation: Conversation, *, now: dt.datetime) -> str:
        """Why no reply can be sent on `conversation` now (e.g. the reply window closed),
        in the agent's language; "" when it can."""
        return ""

    def conversation_actions(
        self, conversation: Conversation, *, actor: User
    ) -> list[ConversationAction]:
        """Buttons the ticket page shows beside the reply editor for this conversation."""
        return []

    def block_sender(self, address: str, *, actor: User) -> bool:
        """Send further messages from `address` straight to Spam (inside the spam
        transaction; the core checked the actor's permission). True when it is blocked now;
        the default (the channel cannot block) does nothing and returns False."""
        return False

    def unblock_sender(self, address: str, *, actor: User) -> bool:
        """Undo `block_sender`. True when `address` was blocked and no longer is."""
        return False

    def is_blocked(self, address: str) -> bool:
        return False

    def own_addresses(self) -> set[str]:
        """Addresses that are ours on this channel (never a reply's recipient)."""
        return set()

    def state(self, channel: Channel) -> ChannelState:
        """The channel's state for the settings list."""
        return ChannelState()

    def connect_url(self) -> str:
        """Where Settings → Connect a channel sends a super admin for this kind; "" if it
        cannot be connected from the workspace."""
        return ""

    def disconnect_url(self, channel: Channel) -> str:
        """Where Settings → Channels sends a user to disconnect `channel` (a page of the
        channel's own, e.g. one that also erases stored credentials); "" for the generic one,
        which only marks the channel inactive (conversations.services.disconnect_channel)."""
        return ""

    def add_serve_arguments(self, parser: ArgumentParser) -> None:
        """Options `svardesk serve` takes for this channel's built-in server (none by default;
        email's --smtp-port, --smtp-host, --no-smtp)."""

    def start_embedded_server(
        self,
        options: Mapping[str, Any],
        *,
        host: str,
        say: Callable[[str], None],
        warn: Callable[[str], None],
    ) -> Callable[[], None] | None:
        """Start this channel's built-in server beside the web server (`svardesk serve`, the
        embedded default), in threads of its own, and return how to stop it; None when the
        channel has none or `options` turn it off. A failure to listen goes to `warn`, not
        raised: the workspace still starts. `host` is the web server's address."""
        return None


def automatic_message_id(kind: str, dedupe_key: str) -> str:
    """A Message-ID that is the same every time for the same channel kind and key."""
    digest = hashlib.sha256(f"{kind}\n{dedupe_key}".encode()).hexdigest()[:40]
    return f"<auto.{digest}@svardesk.invalid>"


_adapters: dict[str, ChannelAdapter] = {}


class UnknownChannelError(LookupError):
    """No adapter is registered for a channel kind (its app is not installed)."""


def register(adapter: ChannelAdapter) -> None:
    """Register a channel kind's adapter (from its app's `ready()`); the last one wins, so a
    test may replace an adapter and restore it."""
    if not adapter.kind:
        raise ValueError("A channel adapter needs a kind.")
    _adapters[adapter.kind] = adapter


def unregister(kind: str) -> None:
    _adapters.pop(kind, None)


def get_adapter(kind: str) -> ChannelAdapter:
    try:
        return _adapters[kind]
    except KeyError:
        raise UnknownChannelError(kind) from None


def adapter_for(channel: Channel) -> ChannelAdapter:
    return get_adapter(channel.kind)


def registered_adapters() -> list[ChannelAdapter]:
    """Every registered adapter, in registration order (settings lists, Connect a channel)."""
    return list(_adapters.values())
