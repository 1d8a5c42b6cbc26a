"""Live updates across processes on the embedded default (no Redis).

The in-memory channel layer lives inside one process, but `svardesk serve` runs two: the web
server, where the browsers' sockets are, and the worker, where inbound and outgoing email is
handled. So the web process listens on a Unix datagram socket in the data folder
(`live.sock`, mode 0600) and passes what arrives on to its own channel layer; other processes
send small JSON datagrams `{"group": ..., "message": {...}}` to it. Only two are passed on,
rebuilt from checked fields: "ticket N changed" (with its team and owner ids, and its
version, stage, actor and origin when they are well formed) for the
workspace group, and "access changed" for one user's group (`user.<id>`: their sockets
close). Anything else is dropped. A datagram nobody receives is dropped too: a live update is
a courtesy, the change itself is committed.
"""

import asyncio
import json
import logging
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.conf import settings

from svardesk.workspace.consumers import ORIGIN, WORKSPACE_GROUP

logger = logging.getLogger(__name__)

SOCKET_NAME = "live.sock"
USER_GROUP = re.compile(r"user\.[1-9][0-9]{0,18}", re.ASCII)


def socket_path() -> Path:
    return Path(settings.DATA_DIR) / SOCKET_NAME


def in_memory_layer() -> InMemoryChannelLayer | None:
    """The channel layer if it is the per-process in-memory one (the relay's case), else None."""
    layer = get_channel_layer()
    return layer if isinstance(layer, InMemoryChannelLayer) else None


def send(group: str, message: dict[str, Any], path: Path | None = None) -> bool:
    """Hand a message to the web process's relay. Never blocks and never raises: False when
    no relay listens (no socket file, a stale one, a full buffer)."""
    try:
        data = json.dumps({"group": group, "message": message}).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(data, str(path or socket_path()))
    except (OSError, TypeError, ValueError):
        return False
    return True


def parse(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """The group and message a datagram asks for, rebuilt from checked fields; None if it is
    malformed or not something the relay passes on."""
    try:
        payload = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("message"), dict):
        return None
    group, message = payload.get("group"), payload["message"]
    if group == WORKSPACE_GROUP and message.get("type") == "ticket.changed":
        ticket_id = message.get("ticket_id")
        team_id, owner_id = message.get("team_id"), message.get("owner_id")
        if not _is_id(ticket_id) or not all(v is None or _is_id(v) for v in (team_id, owner_id)):
            return None
        # Optional (an older process sends none): dropped when malformed, the change is not.
        extra: dict[str, Any] = {
            name: message[name]
            for name in ("version", "stage_id", "actor_id")
            if _is_id(message.get(name))
        }
        origin = message.get("origin")
        if isinstance(origin, str) and ORIGIN.fullmatch(origin):
            extra["origin"] = origin
        # Without a team and owner (from an older process) only all-ticket users hear of it.
        return WORKSPACE_GROUP, {
            "type": "ticket.changed",
            "ticket_id": ticket_id,
            "team_id": team_id,
            "owner_id": owner_id,
            **extra,
        }
    if not isinstance(group, str) or not USER_GROUP.fullmatch(group):
        return None
    if message.get("type") == "access.changed":
        return group, {"type": "access.changed"}
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _RelayProtocol(asyncio.DatagramProtocol):
    def __init__(self, layer: InMemoryChannelLayer) -> None:
        self.layer = layer
        self.pending: set[asyncio.Task[None]] = set()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        parsed = parse(data)
        if parsed is None:
            logger.debug("Ignored a live-update datagram of %d bytes", len(data))
            return
        task = asyncio.get_running_loop().create_task(self.layer.group_send(*parsed))
        self.pending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.debug("Could not pass on a live update", exc_info=task.exception())

    def error_received(self, exc: Exception) -> None:
        logger.debug("Live-update socket error: %s", exc)


class RelayListener:
    """The web process's end of the relay; `close()` stops it and removes the socket file."""

    def __init__(self, transport: asyncio.DatagramTransport, path: Path) -> None:
        self.transport = transport
        self.path = path
        stat = path.stat()
        self._identity = (stat.st_dev, stat.st_ino)

    def close(self) -> None:
        self.transport.close()
        try:
            stat = self.path.stat()
            if (stat.st_dev, stat.st_ino) == self._identity:  # not a newer server's socket
                self.path.unlink()
        except OSError:
            pass


def _bind(path: Path) -> socket.socket:
    """Bind a datagram socket at `path`, mode 0600 from the start: it is bound in a private
    folder, narrowed there and then moved into place, replacing a stale socket file."""
    staging = Path(tempfile.mkdtemp(prefix=".live-", dir=path.parent))  # mode 0700
    temporary = staging / "s"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(str(temporary))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    finally:
        temporary.unlink(missing_ok=True)
        staging.rmdir()
    return sock


async def start_listener(
    path: Path | None = None, layer: InMemoryChannelLayer | None = None
) -> RelayListener:
    """Listen on the relay socket from the running event loop (the web server's), passing
    what arrives to `layer` (the default in-memory channel layer). Raises OSError when the
    socket cannot be bound."""
    path = path or socket_path()
    layer = layer or in_memory_layer()
    if layer is None:
        raise ValueError("The live-update relay needs the in-memory channel layer.")
    sock = _bind(path)
    try:
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _RelayProtocol(layer), sock=sock
        )
    except BaseException:
        sock.close()
        path.unlink(missing_ok=True)
        raise
    return RelayListener(transport, path)
