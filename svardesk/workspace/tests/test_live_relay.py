"""Live updates across processes on the embedded default: the worker's ticket changes reach
the browsers connected to the web process through the relay socket in the data folder."""

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator

from svardesk.workspace import relay
from svardesk.workspace.consumers import WORKSPACE_GROUP, WorkspaceConsumer
from svardesk.workspace.live import broadcast_ticket_changed
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parents[3]

# What the worker does after an inbound email is committed, in a process of its own.
CHANGE_IN_ANOTHER_PROCESS = """
import sys

import django

django.setup()

from svardesk.tickets.models import Ticket
from svardesk.tickets.signals import ticket_changed

ticket_changed.send(sender=Ticket, ticket_id=int(sys.argv[1]), actor_id=None)
"""


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    if relay.in_memory_layer() is None:
        pytest.skip("the relay serves the in-memory channel layer (no REDIS_URL)")
    settings.DATA_DIR = tmp_path
    return tmp_path


class Browser:
    """A browser's end of the workspace socket (channels.testing needs daphne; this does not)."""

    def __init__(self, user):  # type: ignore[no-untyped-def]
        scope = {
            "type": "websocket",
            "path": "/ws/workspace/",
            "headers": [],
            "query_string": b"",
            "subprotocols": [],
            "user": user,
        }
        self.communicator = ApplicationCommunicator(WorkspaceConsumer.as_asgi(), scope)

    async def connect(self) -> None:
        await self.communicator.send_input({"type": "websocket.connect"})
        assert (await self.communicator.receive_output(3))["type"] == "websocket.accept"

    async def receive_json(self, timeout: float = 10):  # type: ignore[no-untyped-def]
        return json.loads((await self.communicator.receive_output(timeout))["text"])

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(3)


def changed(ticket_id: int) -> dict[str, object]:
    return {"type": "ticket.changed", "ticket_id": ticket_id}


def test_a_change_in_another_process_reaches_the_browser(agent, data_dir):
    ticket = TicketFactory()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(SVARDESK_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="svardesk.config.settings")

    async def scenario():  # type: ignore[no-untyped-def]
        listener = await relay.start_listener()
        mode = os.stat(data_dir / "live.sock").st_mode
        browser = Browser(agent)
        await browser.connect()
        worker = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", CHANGE_IN_ANOTHER_PROCESS, str(ticket.pk)],
            env=env,
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert worker.returncode == 0, worker.stderr
        received = await browser.receive_json()
        await browser.disconnect()
        listener.close()
        return mode, received

    mode, received = asyncio.run(scenario())
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o600
    assert received == changed(ticket.pk)
    assert not (data_dir / "live.sock").exists()  # removed when the server stops


def test_malformed_datagrams_are_ignored_and_the_relay_keeps_working(agent, data_dir):
    path = str(data_dir / "live.sock")
    junk = [
        b"\xff\xfe not json",
        b"[" * 5000,
        json.dumps(["workspace", changed(1)]).encode(),
        json.dumps({"group": "ticket.5", "message": changed(2)}).encode(),
        json.dumps({"group": WORKSPACE_GROUP, "message": {"type": "websocket.close"}}).encode(),
        json.dumps({"group": WORKSPACE_GROUP, "message": changed(3) | {"ticket_id": "3"}}).encode(),
        json.dumps(
            {"group": WORKSPACE_GROUP, "message": changed(4) | {"ticket_id": True}}
        ).encode(),
        json.dumps({"group": WORKSPACE_GROUP, "message": "ticket.changed"}).encode(),
    ]

    async def scenario():  # type: ignore[no-untyped-def]
        listener = await relay.start_listener()
        browser = Browser(agent)
        await browser.connect()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
            for datagram in junk:
                sender.sendto(datagram, path)
        # Datagrams on a Unix socket arrive in order: had any junk got through, it would
        # reach the browser before these.
        assert relay.send(WORKSPACE_GROUP, changed(41) | {"extra": "dropped"})
        first = await browser.receive_json()
        assert relay.send(WORKSPACE_GROUP, changed(42))
        second = await browser.receive_json()
        await browser.disconnect()
        listener.close()
        return first, second

    assert asyncio.run(scenario()) == (changed(41), changed(42))


def test_a_broadcast_without_a_relay_is_dropped_quietly(data_dir):
    path = data_dir / "live.sock"
    assert relay.send(WORKSPACE_GROUP, changed(7)) is False  # no socket file
    broadcast_ticket_changed(sender=None, ticket_id=7)

    # A socket file left by a server that was killed: nobody reads it.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(str(path))
    stale.close()
    assert relay.send(WORKSPACE_GROUP, changed(7)) is False
    broadcast_ticket_changed(sender=None, ticket_id=7)

    async def restart():  # type: ignore[no-untyped-def]
        listener = await relay.start_listener()  # replaces the stale file
        sent = relay.send(WORKSPACE_GROUP, changed(7))
        listener.close()
        return sent

    assert asyncio.run(restart()) is True


@pytest.mark.django_db(transaction=True)  # the broadcast reads the ticket on another thread
def test_with_a_browser_connected_here_the_change_goes_straight_to_it(agent, data_dir):
    ticket = TicketFactory()

    async def scenario():  # type: ignore[no-untyped-def]
        browser = Browser(agent)  # no relay listens: only the direct route can deliver
        await browser.connect()
        await sync_to_async(broadcast_ticket_changed)(sender=None, ticket_id=ticket.pk)
        received = await browser.receive_json()
        await browser.disconnect()
        return received

    assert asyncio.run(scenario()) == changed(ticket.pk) | {
        "version": ticket.version,
        "stage_id": ticket.stage_id,
    }
    assert not (data_dir / "live.sock").exists()
