"""Broadcast committed ticket and permission changes to connected workspaces."""

import asyncio
import atexit
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from asgiref.sync import async_to_sync, iscoroutinefunction
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.http import HttpRequest, HttpResponse
from django.utils.decorators import sync_and_async_middleware

from svardesk.workspace import relay
from svardesk.workspace.consumers import ORIGIN, WORKSPACE_GROUP, user_group

logger = logging.getLogger(__name__)

# How long one send to the channel layer may take before it is given up.
SEND_TIMEOUT_SECONDS = 5.0


# --- Where a change came from -------------------------------------------------------------
#
# The workspace page sends every request with `X-Svardesk-Origin: <tab id>:<request number>`
# (app.js). A change made while serving it is announced with that origin, and the consumer
# passes the origin on only to the sockets of the user who made the change: the page that
# sent the request then knows its own response already shows the change and skips the
# re-fetch; every other page (another user's, or another tab of the same user) refreshes.
ORIGIN_HEADER = "X-Svardesk-Origin"
_origin: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "svardesk_live_origin", default=None
)


def request_origin(request: HttpRequest) -> str | None:
    value = request.headers.get(ORIGIN_HEADER, "")
    return value if ORIGIN.fullmatch(value) else None


@sync_and_async_middleware
def live_origin_middleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    """Remember the request's origin (see above) while it is served, for the broadcasts its
    changes make after commit."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            token = _origin.set(request_origin(request))
            try:
                return await get_response(request)
            finally:
                _origin.reset(token)

    else:

        def middleware(request: HttpRequest) -> HttpResponse:  # type: ignore[misc]
            token = _origin.set(request_origin(request))
            try:
                return get_response(request)
            finally:
                _origin.reset(token)

    return middleware


def current_origin() -> str | None:
    return _origin.get()


def broadcast_ticket_changed(
    sender: Any,
    ticket_id: int,
    actor_id: int | None = None,
    scope: Sequence[Any] | None = None,
    **kwargs: Any,
) -> None:
    """Tell the workspaces that a ticket changed, with its team and owner ids, so that each
    socket passes the id on only if the ticket is in its user's scope; with the ticket's
    version and stage (a page that made the change itself updates its header from them),
    and who made it: the user and, when a workspace page's request made it, that request.
    `scope`: those four when the sender read them after commit (`announce_changed`)."""
    from svardesk.tickets.queries import live_scopes

    try:
        row = tuple(scope) if scope is not None else live_scopes([ticket_id]).get(ticket_id)
    except Exception:
        # Unknown scope: only users who see every ticket hear of it.
        logger.warning("Could not read the team and owner of ticket %s", ticket_id, exc_info=True)
        row = None
    team_id, owner_id, version, stage_id = row if row is not None else (None, None, None, None)
    message = {
        "type": "ticket.changed",
        "ticket_id": ticket_id,
        "team_id": team_id,
        "owner_id": owner_id,
        "version": version,
        "stage_id": stage_id,
        "actor_id": actor_id if isinstance(actor_id, int) else None,
        "origin": current_origin() if isinstance(actor_id, int) else None,
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
        try:
            # Its queues live on this process's loop.
            async_to_sync(layer.group_send)(group, message)
        except Exception:  # A live update is a courtesy; the change itself is committed.
            logger.warning("Could not broadcast %s to %s", message["type"], group, exc_info=True)
        return
    _outbox.post(layer, group, message)


# --- Sending to a network layer (Redis) ------------------------------------------------------
#
# A broadcast leaves through a per-process outbox drained by one task on a background loop,
# so the code that announced a change does not wait for Redis: a batch of 200 inbound
# messages announced its tickets one group send (three Redis round trips, each a hand-over
# of the GIL between threads) after another and spent ~45 % of its time waiting on them.
# The outbox sends in order; ticket changes queued together for the workspace group leave
# as one `tickets.changed` message (the consumer passes each on as before).
CHANGES_PER_MESSAGE = 100
# Broadcasts waiting beyond this (Redis unreachable for long): the oldest are dropped.
OUTBOX_LIMIT = 10_000
# How long an exiting process waits for the outbox to empty.
EXIT_FLUSH_SECONDS = 2.0


class _Outbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[tuple[Any, str, dict[str, Any]]] = []
        self._draining = False
        self._empty = threading.Event()
        self._empty.set()
        self._pid = os.getpid()

    def post(self, layer: Any, group: str, message: dict[str, Any]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: its parent's drain is not its own
                self._pid, self._items, self._draining = os.getpid(), [], False
            if len(self._items) >= OUTBOX_LIMIT:
                dropped = self._items.pop(0)
                logger.warning("Live update outbox full: dropped a %s", dropped[2]["type"])
            self._items.append((layer, group, message))
            self._empty.clear()
            if self._draining:
                return
            self._draining = True
        loop = _background_loop()
        loop.call_soon_threadsafe(loop.create_task, self._drain())

    def flush(self, timeout: float) -> bool:
        """Wait until everything posted so far has been sent (or dropped); False on timeout."""
        return self._empty.wait(timeout)

    async def _drain(self) -> None:
        try:
            while True:
                with self._lock:
                    items, self._items = self._items, []
                    if not items:
                        self._draining = False
                        self._empty.set()
                        return
                for layer, group, message in _packed(items):
                    try:
                        await asyncio.wait_for(
                            layer.group_send(group, message), SEND_TIMEOUT_SECONDS
                        )
                    except Exception:  # A live update is a courtesy; the change is committed.
                        logger.warning(
                            "Could not broadcast %s to %s", message["type"], group, exc_info=True
                        )
        except Exception:
            # What was taken is lost; the next post starts another drain.
            logger.warning("The live update outbox stopped draining", exc_info=True)
            self._stopped()
        except BaseException:  # cancelled (the loop is closing)
            self._stopped()
            raise

    def _stopped(self) -> None:
        with self._lock:
            self._draining = False
            if not self._items:
                self._empty.set()


def _packed(
    items: list[tuple[Any, str, dict[str, Any]]],
) -> list[tuple[Any, str, dict[str, Any]]]:
    """The items in order, consecutive ticket changes to the workspace group packed into
    `tickets.changed` messages (a single one stays `ticket.changed`)."""
    packed: list[tuple[Any, str, dict[str, Any]]] = []
    run: list[dict[str, Any]] = []

    def close_run() -> None:
        for start in range(0, len(run), CHANGES_PER_MESSAGE):
            chunk = run[start : start + CHANGES_PER_MESSAGE]
            if len(chunk) == 1:
                packed.append((layer_of_run, WORKSPACE_GROUP, chunk[0]))
            else:
                changes = [{k: v for k, v in c.items() if k != "type"} for c in chunk]
                packed.append(
                    (layer_of_run, WORKSPACE_GROUP, {"type": "tickets.changed", "changes": changes})
                )
        run.clear()

    layer_of_run: Any = None
    for layer, group, message in items:
        joins = group == WORKSPACE_GROUP and message["type"] == "ticket.changed"
        if run and (not joins or layer is not layer_of_run):
            close_run()
        if joins:
            layer_of_run = layer
            run.append(message)
        else:
            packed.append((layer, group, message))
    if run:
        close_run()
    return packed


_outbox = _Outbox()


def flush_broadcasts(timeout: float = EXIT_FLUSH_SECONDS) -> bool:
    """Wait until this process's broadcasts have left (a command or test that ends right
    after a change); True when they have."""
    return _outbox.flush(timeout)


atexit.register(flush_broadcasts)


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
