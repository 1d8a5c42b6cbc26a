"""Who has the workspace open, across processes: the half of chat availability that is not a
setting ("an agent is available for chat when they have the workspace open and their status
says so").

Every open workspace socket (workspace.consumers) marks its user present when it opens,
refreshes that every third of `CHAT_PRESENCE_TTL_SECONDS` while it lives, and marks them absent
when it closes. A socket that dies without closing (its process killed) stops refreshing, and
its entry lapses within the TTL; one whose peer vanished is closed by the server's WebSocket
pings (uvicorn: 20 s + 20 s) and so marked absent.

The record is one small entry in Django's cache (Redis with REDIS_URL, so every process shares
it; per process otherwise, as the in-memory channel layer is):
`{user_id: {"available": bool, "sockets": {socket_id: expires_at}}}`, `expires_at` in seconds
since the epoch. "available" is the user's chat status and their right to use the workspace as
the database had them at the socket's last refresh, or as `set_chat_status` just saved them, so
that `chat_agents_available()` answers from this one read. Writers take a short lock
(`cache.add`, atomic in Redis and in the local-memory cache) around their read-modify-write, so
two processes never lose each other's sockets.
"""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache

from svardesk.core import local_cache

PRESENCE_KEY = "svardesk:chat-presence"
_LOCK_KEY = "svardesk:chat-presence:lock"
_LOCK_SECONDS = 2
_LOCK_WAIT_SECONDS = 1.0
# chat_agents_available() is asked on every visitor message: its answer is kept this long in
# each process (a change made in the same process applies at once).
AVAILABLE_MEMO_SECONDS = 1.5
_AVAILABLE_MEMO_KEY = "accounts:chat-agents-available"

Record = dict[int, dict[str, Any]]


def ttl_seconds() -> float:
    return float(getattr(settings, "CHAT_PRESENCE_TTL_SECONDS", 30.0))


def heartbeat_seconds() -> float:
    """How often a live socket refreshes its presence: three chances before it lapses."""
    return ttl_seconds() / 3


def mark_present(user_id: int, socket_id: str, *, available: bool) -> None:
    """Socket `socket_id` of user `user_id` is open; `available`: the user takes chats (their
    status and their right to use the workspace, read from the database just now)."""
    expires_at = time.time() + ttl_seconds()
    with _updating() as record:
        entry = record.setdefault(user_id, {"available": available, "sockets": {}})
        entry["available"] = available
        entry["sockets"][socket_id] = expires_at


def refresh(user_id: int, socket_id: str, *, available: bool) -> None:
    """The heartbeat of an open socket: the same as opening it again."""
    mark_present(user_id, socket_id, available=available)


def mark_absent(user_id: int, socket_id: str) -> None:
    """Socket `socket_id` closed; the user stays present while another of theirs is open."""
    with _updating() as record:
        entry = record.get(user_id)
        if entry is not None:
            entry["sockets"].pop(socket_id, None)


def set_available(user_id: int, available: bool) -> None:
    """The user's chat status (or right to use the workspace) changed: applies to their open
    sockets at once, without waiting for the next heartbeat. Nothing to do if none is open."""
    with _updating() as record:
        entry = record.get(user_id)
        if entry is not None:
            entry["available"] = available


def present_user_ids() -> set[int]:
    """Users with at least one open workspace socket."""
    return set(_live(_read()))


def available_user_ids() -> set[int]:
    """Users present and taking chats."""
    return {user_id for user_id, entry in _live(_read()).items() if entry["available"]}


def any_agent_available() -> bool:
    """Whether anyone takes chats now: one cache read, kept AVAILABLE_MEMO_SECONDS."""
    return local_cache.cached(
        _AVAILABLE_MEMO_KEY, lambda: bool(available_user_ids()), ttl=AVAILABLE_MEMO_SECONDS
    )


def _read() -> Record:
    record = cache.get(PRESENCE_KEY)
    return record if isinstance(record, dict) else {}


def _live(record: Record) -> Record:
    """The record without lapsed sockets and without users left with none."""
    now = time.time()
    live: Record = {}
    for user_id, entry in record.items():
        sockets = {sid: at for sid, at in entry.get("sockets", {}).items() if at > now}
        if sockets:
            live[user_id] = {"available": bool(entry.get("available")), "sockets": sockets}
    return live


@contextmanager
def _updating() -> Iterator[Record]:
    """The record to change in place, written back (lapsed sockets dropped) under the lock."""
    with _lock():
        record = _live(_read())
        yield record
        record = _live(record)
        # The whole record lapses with its last socket, should every process stop at once.
        cache.set(PRESENCE_KEY, record, timeout=int(ttl_seconds()) + 1)
    local_cache.forget(_AVAILABLE_MEMO_KEY)


@contextmanager
def _lock() -> Iterator[None]:
    """A lock across processes, held for a few cache operations. After waiting a second for a
    holder that may have died, go ahead: a lost update is repaired by the next heartbeat."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + _LOCK_WAIT_SECONDS
    held = cache.add(_LOCK_KEY, token, timeout=_LOCK_SECONDS)
    while not held and time.monotonic() < deadline:
        time.sleep(0.002)
        held = cache.add(_LOCK_KEY, token, timeout=_LOCK_SECONDS)
    try:
        yield
    finally:
        if held and cache.get(_LOCK_KEY) == token:
            cache.delete(_LOCK_KEY)
