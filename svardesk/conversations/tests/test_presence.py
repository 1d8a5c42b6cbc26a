"""Who else is on a ticket: presence over the workspace WebSocket, scoped by ticket access."""

import asyncio
import json

import pytest
from asgiref.testing import ApplicationCommunicator

from svardesk.workspace.consumers import WorkspaceConsumer
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Socket:
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

    async def send_json_to(self, data) -> None:  # type: ignore[no-untyped-def]
        await self.communicator.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive_json_from(self, timeout: float = 3):  # type: ignore[no-untyped-def]
        return json.loads((await self.communicator.receive_output(timeout))["text"])

    async def receive_nothing(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(3)


async def _connect(user):  # type: ignore[no-untyped-def]
    socket = Socket(user)
    await socket.connect()
    return socket


def test_viewing_and_replying_reach_other_agents_on_the_ticket(agent, super_admin, support_team):
    ticket = TicketFactory(team=support_team)

    async def scenario():  # type: ignore[no-untyped-def]
        anna = await _connect(agent)
        ada = await _connect(super_admin)
        await anna.send_json_to({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        await asyncio.sleep(0.2)  # Anna's join is in before Ada's
        await ada.send_json_to({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        seen_by_anna = await anna.receive_json_from(timeout=3)
        await ada.send_json_to({"type": "presence.typing", "ticket_id": ticket.pk, "tab": "reply"})
        typing = await anna.receive_json_from(timeout=3)
        await ada.send_json_to({"type": "presence.leave", "ticket_id": ticket.pk})
        left = await anna.receive_json_from(timeout=3)
        assert await ada.receive_nothing(timeout=0.3)  # nobody echoes to the sender
        await anna.disconnect()
        await ada.disconnect()
        return seen_by_anna, typing, left

    seen, typing, left = asyncio.run(scenario())
    assert seen == {
        "type": "presence",
        "ticket_id": ticket.pk,
        "user_id": super_admin.pk,
        "name": "Ada Admin",
        "state": "viewing",
        "ask": True,
    }
    assert (typing["state"], typing["user_id"]) == ("replying", super_admin.pk)
    assert (left["state"], left["user_id"]) == ("left", super_admin.pk)


def test_presence_never_reaches_or_comes_from_agents_without_access(
    agent, team_agent, support_team
):
    ticket = TicketFactory(team=support_team)  # Bo (Billing team only) may not see it

    async def scenario():  # type: ignore[no-untyped-def]
        anna = await _connect(agent)
        bo = await _connect(team_agent)
        await anna.send_json_to({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        await asyncio.sleep(0.2)
        # Bo tries to join and to type on a ticket he cannot see.
        await bo.send_json_to({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        await bo.send_json_to({"type": "presence.typing", "ticket_id": ticket.pk})
        anna_quiet = await anna.receive_nothing(timeout=0.5)
        # Anna types: Bo hears nothing about it.
        await anna.send_json_to({"type": "presence.typing", "ticket_id": ticket.pk})
        bo_quiet = await bo.receive_nothing(timeout=0.5)
        # Garbage is ignored, the socket stays up.
        await bo.send_json_to({"type": "presence.join", "ticket_id": "x"})
        await bo.send_json_to(["not", "an", "object"])
        still_up = await bo.receive_nothing(timeout=0.2)
        await anna.disconnect()
        await bo.disconnect()
        return anna_quiet, bo_quiet, still_up

    assert asyncio.run(scenario()) == (True, True, True)


def test_closing_the_socket_tells_the_others(agent, super_admin):
    ticket = TicketFactory()

    async def scenario():  # type: ignore[no-untyped-def]
        anna = await _connect(agent)
        ada = await _connect(super_admin)
        await anna.send_json_to({"type": "presence.join", "ticket_id": ticket.pk})
        await asyncio.sleep(0.2)
        await ada.send_json_to({"type": "presence.join", "ticket_id": ticket.pk})
        await anna.receive_json_from(timeout=3)  # Ada is viewing
        await ada.disconnect()
        left = await anna.receive_json_from(timeout=3)
        await anna.disconnect()
        return left

    left = asyncio.run(scenario())
    assert (left["state"], left["user_id"]) == ("left", super_admin.pk)


def test_a_ticket_id_in_other_digits_joins_nothing(agent, super_admin, support_team):
    """int() reads "٣" as 3: the socket takes ASCII digits (or a JSON number) only."""
    ticket = TicketFactory(team=support_team)
    other_digits = str(ticket.pk).translate(
        str.maketrans("0123456789", "".join(chr(0x0660 + i) for i in range(10)))
    )

    async def scenario():  # type: ignore[no-untyped-def]
        anna = await _connect(agent)
        ada = await _connect(super_admin)
        await anna.send_json_to({"type": "presence.join", "ticket_id": ticket.pk})
        await asyncio.sleep(0.2)
        await ada.send_json_to({"type": "presence.join", "ticket_id": other_digits})
        heard = await anna.receive_nothing(timeout=0.5)
        await anna.disconnect()
        await ada.disconnect()
        return heard

    assert asyncio.run(scenario()) is True
