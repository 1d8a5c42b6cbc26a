"""Live updates for the workspace over WebSocket.

The socket carries only "ticket N changed" (with the ticket's version and stage), and only for
tickets in its user's scope; browsers then fetch what they show through the ordinary
permission-checked HTTP views. To the sockets of the user who made the change it also says
which of their pages and requests made it (`live.live_origin_middleware`): that page's own
response already shows the change, and it skips the re-fetch. A broadcast
carries the changed ticket's team and owner ids, so each socket decides in memory, with the
same rule as every ticket query (`tickets.queries.TicketScope`), whether to pass the id on.

Presence ("who else is viewing or replying to this ticket") rides the same socket: a browser
joins a ticket's group only after `access_ticket` allowed it for the user as the database has
them at that moment, and only names of agents on that ticket reach the group's members.

The scope is read when the socket opens. When the user's permissions change (teams, ticket
access, seat, super admin, deactivation, password), `accounts.signals.access_changed`
reaches the user's group and each of their sockets closes with ACCESS_CHANGED_CLOSE_CODE;
the browser reconnects and so picks up the new scope.
"""

import asyncio
import logging
import re
from typing import TYPE_CHECKING, Any

from asgiref.sync import sync_to_async
from channels.auth import get_user
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from svardesk.accounts import presence
from svardesk.core.parsing import parse_id

if TYPE_CHECKING:
    from svardesk.tickets.queries import TicketScope

logger = logging.getLogger(__name__)

WORKSPACE_GROUP = "workspace"
# Which page and request made a change (`live.live_origin_middleware`): "<tab id>:<number>".
ORIGIN = re.compile(r"[A-Za-z0-9]{8,32}:[1-9][0-9]{0,8}", re.ASCII)
MAX_PRESENCE_TICKETS = 20

# Close codes (4000-4999 are the application's). The browser stops on NOT_ALLOWED (the user
# may no longer use the workspace: signed out, deactivated, no seat) and reconnects soon on
# ACCESS_CHANGED.
NOT_ALLOWED_CLOSE_CODE = 4403
ACCESS_CHANGED_CLOSE_CODE = 4001


def ticket_group(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def user_group(user_id: int) -> str:
    """Every open socket of one user: where "your permissions changed" is sent."""
    return f"user.{user_id}"


@database_sync_to_async
def _scope_of(user: Any) -> "TicketScope":
    from svardesk.tickets.queries import ticket_scope

    return ticket_scope(user)


@database_sync_to_async
def _reloaded(user_id: int) -> Any:
    from svardesk.accounts.models import User

    return User.objects.filter(pk=user_id).first()


@database_sync_to_async
def _may_access(user: Any, ticket_id: int) -> bool:
    from svardesk.core.exceptions import NotFoundError
    from svardesk.tickets.queries import access_ticket

    try:
        access_ticket(ticket_id, actor=user)
    except NotFoundError:
        return False
    return True


@database_sync_to_async
def _takes_chats(user_id: int) -> bool:
    from svardesk.accounts.models import User

    user = User.objects.filter(pk=user_id).first()
    return bool(user is not None and user.takes_chats)


# The presence record is in the cache (Redis, with REDIS_URL): off the database's thread.
_mark_present = sync_to_async(presence.mark_present, thread_sensitive=False)
_refresh_presence = sync_to_async(presence.refresh, thread_sensitive=False)
_mark_absent = sync_to_async(presence.mark_absent, thread_sensitive=False)


class WorkspaceConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.closing = False
        self.presence_tickets: set[int] = set()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.can_use_workspace:
            await self.close(code=NOT_ALLOWED_CLOSE_CODE)
            return
        self.user_id: int = user.pk
        self.ticket_scope: TicketScope = await _scope_of(user)
        await self.channel_layer.group_add(WORKSPACE_GROUP, self.channel_name)
        await self.channel_layer.group_add(user_group(self.user_id), self.channel_name)
        # Present before the socket is accepted: once open, the agent counts for chat.
        await self._start_presence(available=user.takes_chats)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "user_id"):
            return  # refused at connect: it joined no group
        await self.channel_layer.group_discard(WORKSPACE_GROUP, self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user_id), self.channel_name)
        for ticket_id in list(self.presence_tickets):
            await self._leave(ticket_id)
        await self._stop_presence()

    # --- Chat presence: "has the workspace open" (accounts.presence) ------------------------

    async def _start_presence(self, *, available: bool) -> None:
        try:
            await _mark_present(self.user_id, self.channel_name, available=available)
        except Exception:  # the cache is down: the workspace works on, chat sees nobody
            logger.exception("Could not record the workspace socket's presence")
        self.heartbeat = asyncio.create_task(self._heartbeat(asyncio.current_task()))

    async def _heartbeat(self, consumer_task: "asyncio.Task[Any] | None") -> None:
        """Refresh the presence while this socket's consumer runs. If the consumer stops
        without a disconnect, so does this, and the presence lapses."""
        while True:
            await asyncio.sleep(presence.heartbeat_seconds())
            if consumer_task is not None and consumer_task.done():
                return
            try:
                available = await _takes_chats(self.user_id)
                await _refresh_presence(self.user_id, self.channel_name, available=available)
            except Exception:
                logger.exception("Could not refresh the workspace socket's presence")

    async def _stop_presence(self) -> None:
        heartbeat = getattr(self, "heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        try:
            await _mark_absent(self.user_id, self.channel_name)
        except Exception:
            logger.exception("Could not clear the workspace socket's presence")

    async def _close_once(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            await self.close(code=code)

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        if self.closing or not self.ticket_scope.includes(
            team_id=event.get("team_id"), owner_id=event.get("owner_id")
        ):
            return
        message: dict[str, Any] = {"type": "ticket.changed", "ticket_id": event["ticket_id"]}
        # The ticket's version and stage: the page that made the change updates its header
        # from them instead of fetching the whole ticket again.
        for name in ("version", "stage_id"):
            if event.get(name) is not None:
                message[name] = event[name]
        # Which request made it, only to the sockets of the user who made it: their page
        # that sent it skips the re-fetch; nobody else learns their pages' ids (and so cannot
        # send a request posing as one of them).
        if event.get("origin") and event.get("actor_id") == self.user_id:
            message["origin"] = event["origin"]
        await self.send_json(message)

    async def tickets_changed(self, event: dict[str, Any]) -> None:
        """Several `ticket.changed` sent as one (workspace.live packs a burst's)."""
        for change in event.get("changes", []):
            await self.ticket_changed(change)

    async def access_changed(self, event: dict[str, Any]) -> None:
        await self._close_once(ACCESS_CHANGED_CLOSE_CODE)

    async def _current_user(self) -> Any:
        """The socket's user as the database has them now, or None if they may no longer use
        the workspace. With a session (a browser), Django's own check: a changed password
        signs the session out."""
        if "session" in self.scope:
            user = await get_user(self.scope)
        else:
            user = await _reloaded(self.user_id)
        if user is None or not user.is_authenticated or user.pk != self.user_id:
            return None
        return user if user.can_use_workspace else None

    # --- Presence --------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.closing:
            return
        kind = content.get("type")
        raw_id = content.get("ticket_id")
        ticket_id = parse_id(raw_id)  # ASCII digits only: int() would take "٣" as 3
        if ticket_id is None:
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
        """Join (or re-join) a ticket's presence, checked against the user's access as it is
        now: an announcement of a permission change can be lost, this check cannot."""
        if ticket_id not in self.presence_tickets and (
            len(self.presence_tickets) >= MAX_PRESENCE_TICKETS
        ):
            return False
        user = await self._current_user()
        if user is None:
            await self._close_once(NOT_ALLOWED_CLOSE_CODE)
            return False
        self.ticket_scope = await _scope_of(user)
        if not await _may_access(user, ticket_id):
            if ticket_id in self.presence_tickets:
                await self._leave(ticket_id)
            return False
        if ticket_id not in self.presence_tickets:
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
        if event.get("sender") == self.channel_name or self.closing:
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
