"""Live updates for the workspace over WebSocket.

The socket carries only "ticket N changed"; browsers then fetch what they show through the
ordinary permission-checked HTTP views, so nothing a user may not see travels on it.
"""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

WORKSPACE_GROUP = "workspace"


class WorkspaceConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.can_use_workspace:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(WORKSPACE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(WORKSPACE_GROUP, self.channel_name)

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "ticket.changed", "ticket_id": event["ticket_id"]})
