"""Broadcast committed ticket and permission changes to connected workspaces."""

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from svardesk.workspace import relay
from svardesk.workspace.consumers import WORKSPACE_GROUP, user_group

logger = logging.getLogger(__name__)

# How long a broadcast may hold up the code that announced a change.
SEND_TIMEOUT_SECONDS = 5.0


def broadcast_ticket_changed(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    """Tell the workspaces that a ticket changed, with its team and owner ids, so that each
    socket passes the id on only if the ticket is in its user's scope."""
    from svardesk.tickets.queries import ticket_team_and_owner

    try:
        team_id, owner_id = ticket_team_and_owner(ticket_id)
    except Exception:
        # Unknown scope: only users who see every ticket hear of it.
        logger.warning("Could not read the team and owner of ticket %s", ticket_id, exc_info=True)
        team_id = owner_id = None
    message = {
        "type": "ticket.changed",
        "ticket_id": ticket_id,
        "team_id": team_id,
        "owner_id": owner_id,
    }
    _send(WORKSPACE_GROUP, message)


def broadcast_access_changed(sender: Any, user_ids: Iterable[int], **kwargs: Any) -> None:
    """Close the users' open sockets: they were opened with the old permissions."""
    for user_id in user_ids:
        _send(user_group(user_id), {"type": "access.changed"})


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if isinstance(layer, InMemoryChannelLayer):
        if not layer.groups.get(group):
            # No browser in this group is connected to this process (the worker, say): the
            # in-memory layer cannot reach the web process's browsers, its relay can.
            relay.send(group, message)
            return
        send = async_to_sync(layer.group_send)  # its queues live on this process's loop
    else:
        send = _on_background_loop(layer.group_send)
    try:
        send(group, message)
    except Exception:  # A live update is a courtesy; the change itself is committed.
        logger.warning("Could not broadcast %s to %s", message["type"], group, exc_info=True)


# A network channel layer (Redis) keeps its connections per event loop. `async_to_sync`
# from plain sync code (a task worker) runs each call on a new loop, so every broadcast
# paid for a new connection: ~2.5 ms, 250 ms for a batch of 100 inbound emails. One loop per
# process, on its own thread, keeps the connection: ~0.2 ms.
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid = 0
_loop_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _loop_lock:
        # A forked child inherits the variable but not the thread: it starts its own.
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="svardesk-live", daemon=True).start()
            _loop, _loop_pid = loop, os.getpid()
        return _loop


def _on_background_loop(coroutine_function: Any) -> Any:
    def call(*args: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine_function(*args), _background_loop())
        return future.result(timeout=SEND_TIMEOUT_SECONDS)

    return call
