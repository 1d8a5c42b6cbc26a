"""A "ticket changed" says who made the change: the ticket's new version and stage go to every
socket in scope, and the page and request that made it (`X-Svardesk-Origin`) only to the
sockets of the user who made it — that page skips re-fetching what its own response showed,
every other page (another user's, another tab's) refreshes.

Real sockets through the served ASGI application (asgiref's ApplicationCommunicator, as in
test_live_scope: channels.testing needs daphne), a signed-in session, and a real request
through the middleware stack."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse

from svardesk.accounts.models import User
from svardesk.tickets.models import Ticket
from svardesk.workspace import relay
from svardesk.workspace.tests.test_live_scope import LiveSocket
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = "0f3a9c2e5b7d1a4c:7"


async def _connected(user: User) -> LiveSocket:
    socket = await sync_to_async(LiveSocket)(user)
    await socket.connect()
    return socket


def _change_priority(user: User, ticket_id: int, **headers: str) -> int:
    """What the ticket page's header does: an in-place edit, through every middleware."""
    client = Client()
    client.force_login(user)
    version = Ticket.objects.get(pk=ticket_id).version
    response = client.post(
        reverse("tickets:update_properties", args=[ticket_id]),
        {"priority": "HIGH", "version": str(version)},
        headers={"HX-Request": "true", **headers},
    )
    assert response.status_code == 200, response.content[:500]
    return Ticket.objects.get(pk=ticket_id).version


def _run(agent: User, other: User, ticket_id: int, **headers: str) -> tuple[dict, dict, dict, int]:
    async def scenario():  # type: ignore[no-untyped-def]
        own_tab = await _connected(agent)
        own_other_tab = await _connected(agent)
        someone_else = await _connected(other)
        version = await sync_to_async(_change_priority)(agent, ticket_id, **headers)
        heard = [
            await socket.receive(timeout=5) for socket in (own_tab, own_other_tab, someone_else)
        ]
        for socket in (own_tab, own_other_tab, someone_else):
            await socket.disconnect()
        return (*heard, version)

    return asyncio.run(scenario())  # type: ignore[no-any-return]


@pytest.fixture
def colleague(db) -> User:  # type: ignore[no-untyped-def]
    return UserFactory(email="colleague@svardesk.test", first_name="Cai")


def test_the_change_carries_its_origin_to_the_users_own_sockets_only(agent, colleague):
    ticket = TicketFactory()
    mine, my_other_tab, theirs, version = _run(
        agent, colleague, ticket.pk, **{"X-Svardesk-Origin": ORIGIN}
    )
    ticket.refresh_from_db()
    assert version > 1
    expected = {
        "type": "ticket.changed",
        "ticket_id": ticket.pk,
        "version": version,
        "stage_id": ticket.stage_id,
    }
    # Every socket of the user who made it: the page tells by the tab id whether it is its own.
    assert mine == expected | {"origin": ORIGIN}
    assert my_other_tab == expected | {"origin": ORIGIN}
    # Nobody else learns the page's id (and so cannot pose as that page).
    assert theirs == expected


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="none"),
        pytest.param({"X-Svardesk-Origin": "short:1"}, id="too-short"),
        pytest.param({"X-Svardesk-Origin": "0f3a9c2e5b7d1a4c:0"}, id="zero"),
        pytest.param({"X-Svardesk-Origin": "0f3a9c2e5b7d1a4c:7<x>"}, id="markup"),
        pytest.param({"X-Svardesk-Origin": "0f3a9c2e5b7d1a4c"}, id="no-number"),
    ],
)
def test_without_a_well_formed_origin_every_page_refreshes(agent, colleague, headers):
    ticket = TicketFactory()
    mine, _, theirs, version = _run(agent, colleague, ticket.pk, **headers)
    assert "origin" not in mine
    assert mine == theirs
    assert mine["version"] == version


def test_a_change_not_made_by_a_request_carries_no_origin(agent):
    """The origin is the request's: once it is answered, a change (a worker's, say) has none."""
    from svardesk.workspace.live import current_origin

    Client().get("/", headers={"X-Svardesk-Origin": ORIGIN})
    assert current_origin() is None


def test_the_relay_passes_the_origin_on_checked():
    message = {
        "type": "ticket.changed",
        "ticket_id": 5,
        "team_id": None,
        "owner_id": 3,
        "version": 12,
        "stage_id": 2,
        "actor_id": 3,
        "origin": ORIGIN,
    }
    assert relay.parse(json.dumps({"group": "workspace", "message": message}).encode()) == (
        "workspace",
        message,
    )
    # A malformed optional field is dropped; the change itself still goes out.
    bad = message | {"origin": "x" * 500, "version": "12", "actor_id": True}
    assert relay.parse(json.dumps({"group": "workspace", "message": bad}).encode()) == (
        "workspace",
        {k: v for k, v in message.items() if k not in ("origin", "version", "actor_id")},
    )
