"""Broadcasts to a network channel layer (Redis) leave through a per-process outbox: the code
that announced a change goes on at once, the changes arrive in order, and a burst of ticket
changes travels as few layer messages while every socket still hears of each ticket in its
user's scope, one frame per ticket, as before."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from svardesk.workspace import live
from svardesk.workspace.consumers import WORKSPACE_GROUP, user_group
from svardesk.workspace.tests.test_live_scope import LiveSocket
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _announce_all(ticket_ids: list[int]) -> bool:
    for ticket_id in ticket_ids:
        live.broadcast_ticket_changed(sender=None, ticket_id=ticket_id)
    return live.flush_broadcasts(10)


def test_a_burst_of_changes_reaches_each_socket_in_order_and_in_scope(
    redis_layer, agent, team_agent, support_team, billing_team
):
    # team_agent sees the billing team's tickets (and their own), not the support team's.
    tickets = [
        TicketFactory(team=billing_team if n % 3 else support_team) for n in range(3 * 50 + 1)
    ]
    everyone = [t.pk for t in tickets]
    billing = [t.pk for t in tickets if t.team_id == billing_team.pk]

    async def scenario():  # type: ignore[no-untyped-def]
        sockets = {
            "all": await sync_to_async(LiveSocket)(agent),  # signs in: the database, off the loop
            "team": await sync_to_async(LiveSocket)(team_agent),
        }
        for socket in sockets.values():
            await socket.connect()
        flushed = await sync_to_async(_announce_all, thread_sensitive=False)(everyone)
        heard: dict[str, list[object]] = {}
        for name, socket in sockets.items():
            expected = everyone if name == "all" else billing
            heard[name] = []
            while len(heard[name]) < len(expected):
                message = await socket.receive(5)
                assert message["type"] == "ticket.changed"
                heard[name].append(message["ticket_id"])
            assert await socket.receive_nothing()
            await socket.disconnect()
        return flushed, heard

    flushed, heard = asyncio.run(scenario())
    assert flushed
    assert heard == {"all": everyone, "team": billing}


def test_ticket_changes_are_packed_in_order_around_other_messages():
    layer, other_layer = object(), object()

    def changed(n: int) -> tuple[object, str, dict[str, object]]:
        return (layer, WORKSPACE_GROUP, {"type": "ticket.changed", "ticket_id": n, "team_id": 7})

    closed = (layer, user_group(5), {"type": "access.changed"})
    items = [
        *[changed(n) for n in range(1, live.CHANGES_PER_MESSAGE + 3)],
        closed,
        changed(500),
        (other_layer, WORKSPACE_GROUP, {"type": "ticket.changed", "ticket_id": 501}),
    ]
    packed = live._packed(items)

    assert [(lay, group, m["type"]) for lay, group, m in packed] == [
        (layer, WORKSPACE_GROUP, "tickets.changed"),
        (layer, WORKSPACE_GROUP, "tickets.changed"),
        (layer, user_group(5), "access.changed"),
        (layer, WORKSPACE_GROUP, "ticket.changed"),
        (other_layer, WORKSPACE_GROUP, "ticket.changed"),
    ]
    first, second = packed[0][2]["changes"], packed[1][2]["changes"]
    assert [c["ticket_id"] for c in first + second] == list(range(1, live.CHANGES_PER_MESSAGE + 3))
    assert len(first) == live.CHANGES_PER_MESSAGE
    assert first[0] == {"ticket_id": 1, "team_id": 7}
    assert packed[3][2] == {"type": "ticket.changed", "ticket_id": 500, "team_id": 7}


def test_a_drain_that_fails_does_not_stop_later_broadcasts(redis_layer, agent, monkeypatch):
    ticket = TicketFactory()
    packed = live._packed
    calls = {"n": 0}

    def failing_once(items):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a broken message")
        return packed(items)

    monkeypatch.setattr(live, "_packed", failing_once)

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await sync_to_async(LiveSocket)(agent)
        await socket.connect()
        lost = await sync_to_async(_announce_all, thread_sensitive=False)([ticket.pk])
        sent = await sync_to_async(_announce_all, thread_sensitive=False)([ticket.pk])
        message = await socket.receive(5)
        await socket.disconnect()
        return lost, sent, message

    lost, sent, message = asyncio.run(scenario())
    assert lost  # the failed drain's flush did not wait for ever
    assert sent
    assert message["ticket_id"] == ticket.pk
