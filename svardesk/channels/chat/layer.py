"""The chat's groups on the Channels layer, and sending to them from sync code (an agent's
reply, closing a chat). In-memory layer by default (one process), Redis with REDIS_URL (every
web process): docs/chat.md, "The channel layer"."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

SEND_TIMEOUT_SECONDS = 5.0


def visitor_group(public_id: str) -> str:
    """Every open widget socket of one visitor (several tabs), by the visitor's public id
    (URL-safe base64: valid in a group name), known before their first message is stored."""
    return f"chat-visitor-{public_id}"


def conversation_group(conversation_id: int) -> str:
    """The agents' sockets on one chat's ticket page (typing)."""
    return f"chat-conversation-{conversation_id}"


def channel_group(chat_channel_id: int) -> str:
    """Every widget socket of one chat channel (told when it is disconnected)."""
    return f"chat-channel-{chat_channel_id}"


class ChatLayerUnavailableError(RuntimeError):
    """No channel layer is configured."""


def send_to_group(group: str, message: dict[str, Any]) -> None:
    """group_send from sync code; raises when the layer fails (the caller decides whether
    that matters: a reply's delivery retries, a typing indicator does not)."""
    layer = get_channel_layer()
    if layer is None:
        raise ChatLayerUnavailableError("CHANNEL_LAYERS is not configured")
    if isinstance(layer, InMemoryChannelLayer):
        # Its queues belong to the web process's event loop; async_to_sync from a request's
        # thread runs the send there.
        async_to_sync(layer.group_send)(group, message)
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _background_loop())
    future.result(timeout=SEND_TIMEOUT_SECONDS)


# A network layer (Redis) keeps its connections per event loop: one loop per process on its
# own thread keeps the connection instead of opening one for every reply.
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="svardesk-chat", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop
