"""Live updates for the workspace over WebSocket.

The socket carries only "ticket N changed"; browsers then fetch what they show through the
ordinary permission-checked HTTP views, so nothing a user may not see travels on it.

Presence ("who else is viewing or replying to this ticket") rides the same socket: a browser
joins a ticket's group only after `access_ticket` allowed it, and only names of agents on
that ticket reach the group's members.
"""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

WORKSPACE_GROUP = "workspace"
MAX_PRESENCE_TICKETS = 20


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


@database_sync_to_async
def _may_access(user: Any, ticket_id: int) -> bool:
    from svardesk.core.exceptions import NotFoundError
    from svardesk.tickets.queries import access_ticket

    try:
        access_ticket(ticket_id, actor=user)
    except NotFoundError:
        return False
    return True


class WorkspaceConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.can_use_workspace:
            await self.close(code=4403)
            return
        self.presence_tickets: set[int] = set()
        await self.channel_layer.group_add(WORKSPACE_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(WORKSPACE_GROUP, self.channel_name)
        for ticket_id in list(getattr(self, "presence_tickets", ())):
            await self._leave(ticket_id)

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "ticket.changed", "ticket_id": event["ticket_id"]})

    # --- Presence --------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        raw_id = content.get("ticket_id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str):
            return
        try:
            ticket_id = int(raw_id)
        except ValueError:
            return
        if kind == "presence.join":
            if await self._join(ticket_id):
                await self._announce(ticket_id, "viewing", ask=bool(content.get("ask")))
        elif kind == "presence.typing" and ticket_id in self.presence_tickets:
            state = "replying" if content.get("tab", "reply") == "reply" else "commenting"
            await self._announce(ticket_id, state)
        elif kind == "presence.leave" and ticket_id in self.presence_tickets:
            await self._leave(ticket_id)

    async def _join(self, ticket_id: int) -> bool:
        if ticket_id in self.presence_tickets:
            return True
        if len(self.presence_tickets) >= MAX_PRESENCE_TICKETS:
            return False
        if not await _may_access(self.scope["user"], ticket_id):
            return False
        self.presence_tickets.add(ticket_id)
        await self.channel_layer.group_add(ticket_group(ticket_id), self.channel_name)
        return True

    async def _leave(self, ticket_id: int) -> None:
        self.presence_tickets.discard(ticket_id)
        await self._announce(ticket_id, "left")
        await self.channel_layer.group_discard(ticket_group(ticket_id), self.channel_name)

    async def _announce(self, ticket_id: int, state: str, *, ask: bool = False) -> None:
        user = self.scope["user"]
        await self.channel_layer.group_send(
            ticket_group(ticket_id),
            {
                "type": "presence.event",
                "ticket_id": ticket_id,
                "user_id": user.pk,
                "name": user.display_name,
                "state": state,
                "ask": ask,
                "sender": self.channel_name,
            },
        )

    async def presence_event(self, event: dict[str, Any]) -> None:
        if event.get("sender") == self.channel_name:
            return
        await self.send_json(
            {
                "type": "presence",
                "ticket_id": event["ticket_id"],
                "user_id": event["user_id"],
                "name": event["name"],
                "state": event["state"],
                "ask": event.get("ask", False),
            }
        )
