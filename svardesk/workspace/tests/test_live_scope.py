"""The workspace socket follows its user's permissions: each socket hears only of tickets in
its user's scope, every presence join is checked against the database as it is now, and a
permission change closes the user's open sockets (the browser reconnects with its new scope).

The sockets here go through the served ASGI application (origin check, session cookie, auth)
with a real signed-in session, as a browser's would."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from svardesk.accounts import services as account_services
from svardesk.accounts.models import User
from svardesk.config.asgi import application
from svardesk.teams import services as team_services
from svardesk.teams.models import Membership, Team
from svardesk.workspace import relay
from svardesk.workspace.consumers import ACCESS_CHANGED_CLOSE_CODE, NOT_ALLOWED_CLOSE_CODE
from svardesk.workspace.live import broadcast_ticket_changed
from svardesk.workspace.settings import users as users_settings
from tests.factories import TicketFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class LiveSocket:
    """A signed-in browser's workspace socket, through the whole ASGI stack."""

    def __init__(self, user: User) -> None:
        client = Client()
        client.force_login(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
        scope = {
            "type": "websocket",
            "path": "/ws/workspace/",
            "raw_path": b"/ws/workspace/",
            "root_path": "",
            "headers": [
                (b"host", b"localhost"),
                (b"origin", b"http://localhost"),
                (b"cookie", cookie),
            ],
            "query_string": b"",
            "subprotocols": [],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        self.communicator = ApplicationCommunicator(application, scope)

    async def connect(self) -> None:
        await self.communicator.send_input({"type": "websocket.connect"})
        assert (await self.communicator.receive_output(3))["type"] == "websocket.accept"

    async def send(self, data: dict[str, object]) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "text": json.dumps(data)})

    async def receive(self, timeout: float = 3) -> dict[str, object]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            return {"closed": output.get("code")}
        return json.loads(output["text"])  # type: ignore[no-any-return]

    async def receive_nothing(self, timeout: float = 0.4) -> bool:
        return await self.communicator.receive_nothing(timeout)

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(3)


async def _connected(user: User) -> LiveSocket:
    socket = await sync_to_async(LiveSocket)(user)  # signs in: the database, off the loop
    await socket.connect()
    return socket


def _which(message: dict[str, object]) -> dict[str, object]:
    """What a "ticket changed" says about which ticket (not its version, stage or origin)."""
    return {key: message[key] for key in ("type", "ticket_id", "closed") if key in message}


def _changed(ticket_id: int) -> dict[str, object]:
    return {"type": "ticket.changed", "ticket_id": ticket_id}


announce = sync_to_async(broadcast_ticket_changed)


def test_each_socket_hears_only_of_tickets_in_its_users_scope(
    agent, team_agent, own_agent, support_team, billing_team
):
    support_ticket = TicketFactory(team=support_team)
    billing_ticket = TicketFactory(team=billing_team)
    bos_support_ticket = TicketFactory(team=support_team, owner=team_agent)
    ollies_ticket = TicketFactory(team=support_team, owner=own_agent)
    no_team_ticket = TicketFactory()
    # A change every socket hears of, sent last: once it arrived, nothing else is on its way.
    last = TicketFactory(team=billing_team, owner=own_agent)
    changes = [support_ticket, billing_ticket, bos_support_ticket, ollies_ticket, no_team_ticket]

    async def scenario():  # type: ignore[no-untyped-def]
        sockets = {
            "all": await _connected(agent),
            "team": await _connected(team_agent),
            "own": await _connected(own_agent),
        }
        for ticket in [*changes, last]:
            await announce(sender=None, ticket_id=ticket.pk)
        heard: dict[str, list[object]] = {}
        for name, socket in sockets.items():
            heard[name] = [_which(await socket.receive())]
            while heard[name][-1] != _changed(last.pk):
                heard[name].append(_which(await socket.receive()))
            await socket.disconnect()
        return heard

    heard = asyncio.run(scenario())
    assert heard == {
        "all": [_changed(t.pk) for t in [*changes, last]],
        "team": [_changed(t.pk) for t in [billing_ticket, bos_support_ticket, last]],
        "own": [_changed(t.pk) for t in [ollies_ticket, last]],
    }


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"team": None}, id="removed-from-the-team"),
        pytest.param({"ticket_access": "own"}, id="moved-to-own-tickets"),
    ],
)
def test_a_presence_join_is_checked_against_access_as_it_is_now(
    change, agent, team_agent, billing_team
):
    """Even when no announcement reached the socket (a lost datagram, a change made outside
    the services), a join for a ticket the user may no longer see is refused."""
    ticket = TicketFactory(team=billing_team)

    def take_access_away() -> None:
        if "team" in change:
            Membership.objects.filter(user=team_agent).delete()
            User.objects.filter(pk=team_agent.pk).update(primary_team=None)
        else:
            User.objects.filter(pk=team_agent.pk).update(**change)

    async def scenario():  # type: ignore[no-untyped-def]
        anna = await _connected(agent)
        bo = await _connected(team_agent)
        await anna.send({"type": "presence.join", "ticket_id": ticket.pk})
        await asyncio.sleep(0.2)  # Anna's join is in before Bo's
        await bo.send({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        before = await anna.receive()  # allowed while Bo is on the Billing team
        await bo.send({"type": "presence.leave", "ticket_id": ticket.pk})
        await anna.receive()  # Bo left
        await sync_to_async(take_access_away)()
        await bo.send({"type": "presence.join", "ticket_id": ticket.pk, "ask": True})
        anna_heard_nothing = await anna.receive_nothing()
        await anna.send({"type": "presence.typing", "ticket_id": ticket.pk})
        bo_heard_nothing = await bo.receive_nothing()
        await anna.disconnect()
        await bo.disconnect()
        return before, anna_heard_nothing, bo_heard_nothing

    before, anna_heard_nothing, bo_heard_nothing = asyncio.run(scenario())
    assert (before["type"], before["user_id"], before["state"]) == (
        "presence",
        team_agent.pk,
        "viewing",
    )
    assert anna_heard_nothing
    assert bo_heard_nothing


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"is_active": False}, id="deactivated"),
        pytest.param({"has_seat": False}, id="seat-removed"),
    ],
)
def test_a_join_from_a_user_who_may_no_longer_use_the_workspace_closes_the_socket(
    change, team_agent, billing_team
):
    ticket = TicketFactory(team=billing_team)

    async def scenario():  # type: ignore[no-untyped-def]
        bo = await _connected(team_agent)
        await sync_to_async(User.objects.filter(pk=team_agent.pk).update)(**change)
        await bo.send({"type": "presence.join", "ticket_id": ticket.pk})
        closed = await bo.receive()
        await bo.disconnect()  # what the server reports once the socket closed
        return closed

    assert asyncio.run(scenario()) == {"closed": NOT_ALLOWED_CLOSE_CODE}


def test_a_join_after_the_password_changed_elsewhere_closes_the_socket(team_agent, billing_team):
    """The socket was signed in with the old password's session, as Django's pages would
    sign it out."""
    ticket = TicketFactory(team=billing_team)

    def change_password() -> None:
        user = User.objects.get(pk=team_agent.pk)
        user.set_password("a brand new secret 42")
        User.objects.filter(pk=user.pk).update(password=user.password)  # no announcement

    async def scenario():  # type: ignore[no-untyped-def]
        bo = await _connected(team_agent)
        await sync_to_async(change_password)()
        await bo.send({"type": "presence.join", "ticket_id": ticket.pk})
        closed = await bo.receive()
        await bo.disconnect()  # what the server reports once the socket closed
        return closed

    assert asyncio.run(scenario()) == {"closed": NOT_ALLOWED_CLOSE_CODE}


def _update(user: User, **fields: object) -> None:
    fresh = User.objects.get(pk=user.pk)
    teams = [m.team for m in Membership.objects.filter(user=fresh).select_related("team")]
    primary = fresh.primary_team
    if "teams" in fields:
        teams = fields.pop("teams")  # type: ignore[assignment]
        primary = teams[0] if teams else None
    account_services.update_user(fresh, actor=None, primary_team=primary, teams=teams, **fields)


def _reset_password(user: User) -> None:
    """Through the "Forgot password" link's page, as the user would."""
    client = Client()
    token = default_token_generator.make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page = client.get(reverse("accounts:password_reset_confirm", args=[uid, token]), follow=True)
    response = client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("given", "change"),
    [
        pytest.param({}, lambda u, billing, support: _update(u, teams=[]), id="removed-from-team"),
        pytest.param(
            {}, lambda u, billing, support: _update(u, teams=[billing, support]), id="team-added"
        ),
        pytest.param(
            {}, lambda u, billing, support: _update(u, ticket_access="own"), id="ticket-access"
        ),
        pytest.param({}, lambda u, billing, support: _update(u, has_seat=False), id="seat-removed"),
        pytest.param({}, lambda u, billing, support: _update(u, is_active=False), id="deactivated"),
        pytest.param(
            {"is_superuser": True},
            lambda u, billing, support: _update(u, is_superuser=False),
            id="super-admin-revoked",
        ),
        pytest.param(
            {},
            lambda u, billing, support: team_services.delete_team(billing, actor=None),
            id="team-deleted",
        ),
        pytest.param({}, lambda u, billing, support: _reset_password(u), id="password-reset"),
    ],
)
def test_a_permission_change_closes_the_users_open_sockets(
    given, change, team_agent, billing_team, support_team, agent, super_admin
):
    User.objects.filter(pk=team_agent.pk).update(**given)

    async def scenario():  # type: ignore[no-untyped-def]
        first_tab = await _connected(team_agent)
        second_tab = await _connected(team_agent)
        colleague = await _connected(agent)
        await sync_to_async(change)(team_agent, billing_team, support_team)
        closed = [await first_tab.receive(), await second_tab.receive()]
        await first_tab.disconnect()
        await second_tab.disconnect()
        colleague_still_open = await colleague.receive_nothing()
        await colleague.disconnect()
        return closed, colleague_still_open

    closed, colleague_still_open = asyncio.run(scenario())
    assert closed == [{"closed": ACCESS_CHANGED_CLOSE_CODE}] * 2
    assert colleague_still_open


def _save_in_settings(admin: User, user: User, **changes: object) -> None:
    """The user's settings form as the super admin sees it, with `changes`, saved."""
    client = Client()
    client.force_login(admin)
    form = {**users_settings._initial_for(User.objects.get(pk=user.pk)), **changes}
    data = {name: value for name, value in form.items() if value not in (False, None)}
    response = client.post(reverse("settings:user_edit", args=[user.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def _delete_in_settings(admin: User, team: Team) -> None:
    client = Client()
    client.force_login(admin)
    response = client.post(reverse("settings:team_delete", args=[team.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("change", "ticket_access", "keeps_billing"),
    [
        pytest.param(
            lambda admin, bo, billing: _save_in_settings(admin, bo, primary_team=""),
            "team",
            False,
            id="team-removed-in-settings",
        ),
        pytest.param(
            lambda admin, bo, billing: _save_in_settings(admin, bo, ticket_access="own"),
            "own",
            True,
            id="ticket-access-in-settings",
        ),
        pytest.param(
            lambda admin, bo, billing: _delete_in_settings(admin, billing),
            "team",
            False,
            id="team-deleted-in-settings",
        ),
    ],
)
def test_a_permission_change_in_the_settings_screens_closes_the_users_sockets(
    change, ticket_access, keeps_billing, super_admin, team_agent, billing_team
):
    async def scenario():  # type: ignore[no-untyped-def]
        bo = await _connected(team_agent)
        await sync_to_async(change)(super_admin, team_agent, billing_team)
        closed = await bo.receive()
        await bo.disconnect()
        return closed

    assert asyncio.run(scenario()) == {"closed": ACCESS_CHANGED_CLOSE_CODE}
    bo = User.objects.get(pk=team_agent.pk)
    assert bo.ticket_access == ticket_access
    assert list(bo.teams.values_list("name", flat=True)) == (["Billing"] if keeps_billing else [])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda u: _update(u, first_name="Bosse"), id="name"),
        pytest.param(
            lambda u: account_services.update_preferences(u, language="sv", time_zone="UTC"),
            id="preferences",
        ),
        pytest.param(lambda u: _update(u, has_account_access=True), id="account-access"),
    ],
)
def test_other_changes_to_the_user_leave_the_socket_open(change, team_agent, billing_team):
    async def scenario():  # type: ignore[no-untyped-def]
        bo = await _connected(team_agent)
        await sync_to_async(change)(team_agent)
        quiet = await bo.receive_nothing()
        await bo.disconnect()
        return quiet

    assert asyncio.run(scenario()) is True


def test_the_relay_passes_on_scope_and_permission_changes_and_nothing_else():
    """The datagram format between processes on the embedded default."""
    ticket = {"type": "ticket.changed", "ticket_id": 5, "team_id": 2, "owner_id": None}
    assert relay.parse(json.dumps({"group": "workspace", "message": ticket}).encode()) == (
        "workspace",
        ticket,
    )
    # From a process of an older version: no scope, so only all-ticket users hear of it.
    assert relay.parse(json.dumps({"group": "workspace", "message": _changed(5)}).encode()) == (
        "workspace",
        {"type": "ticket.changed", "ticket_id": 5, "team_id": None, "owner_id": None},
    )
    access = {"type": "access.changed"}
    assert relay.parse(json.dumps({"group": "user.7", "message": access}).encode()) == (
        "user.7",
        access,
    )
    for group, message in [
        ("workspace", ticket | {"team_id": "2"}),
        ("workspace", ticket | {"owner_id": True}),
        ("workspace", access),
        ("user.7", ticket),
        ("user.x", access),
        ("user.7.8", access),
        ("user.", access),
        ("ticket.5", access),
    ]:
        datagram = json.dumps({"group": group, "message": message}).encode()
        assert relay.parse(datagram) is None, (group, message)


def test_a_permission_change_in_another_process_reaches_the_socket_through_the_relay(
    settings, tmp_path, team_agent
):
    """A management command or the worker has no browsers of its own: its announcement goes
    through the web process's relay."""
    if relay.in_memory_layer() is None:
        pytest.skip("the relay serves the in-memory channel layer (no REDIS_URL)")
    settings.DATA_DIR = tmp_path

    async def scenario():  # type: ignore[no-untyped-def]
        listener = await relay.start_listener()
        bo = await _connected(team_agent)
        sent = relay.send("user." + str(team_agent.pk), {"type": "access.changed"})
        closed = await bo.receive()
        await bo.disconnect()
        listener.close()
        return sent, closed

    assert asyncio.run(scenario()) == (True, {"closed": ACCESS_CHANGED_CLOSE_CODE})


def test_a_user_created_later_gets_no_one_elses_announcements(team_agent):
    newcomer = UserFactory()

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await _connected(newcomer)
        await sync_to_async(_update)(team_agent, ticket_access="own")
        quiet = await socket.receive_nothing()
        await socket.disconnect()
        return quiet

    assert asyncio.run(scenario()) is True
