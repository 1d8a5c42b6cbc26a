"""Broadcast committed ticket changes to connected workspaces."""

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from svardesk.workspace.consumers import WORKSPACE_GROUP

logger = logging.getLogger(__name__)


def broadcast_ticket_changed(sender: Any, ticket_id: int, **kwargs: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            WORKSPACE_GROUP, {"type": "ticket.changed", "ticket_id": ticket_id}
        )
    except Exception:  # A live update is a courtesy; the change itself is committed.
        logger.warning("Could not broadcast change of ticket %s", ticket_id, exc_info=True)
