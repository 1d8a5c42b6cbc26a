"""Broadcast committed ticket changes to connected workspaces."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from svardesk.workspace import relay
from svardesk.workspace.consumers import WORKSPACE_GROUP

logger = logging.getLogger(__name__)


def broadcast_ticket_changed(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": "ticket.changed", "ticket_id": ticket_id}
    if isinstance(layer, InMemoryChannelLayer) and not layer.groups.get(WORKSPACE_GROUP):
        # No browser is connected to this process (the worker, say): the in-memory layer
        # cannot reach the web process's browsers, its relay can.
        relay.send(WORKSPACE_GROUP, message)
        return
    try:
        async_to_sync(layer.group_send)(WORKSPACE_GROUP, message)
    except Exception:  # A live update is a courtesy; the change itself is committed.
        logger.warning("Could not broadcast change of ticket %s", ticket_id, exc_info=True)
