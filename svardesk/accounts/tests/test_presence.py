"""Presence for chat: a user "has the workspace open" while at least one of their workspace
sockets is open; a socket that stops without closing lapses after the TTL; availability is
present and Available and allowed to use the workspace.

The sockets here are real workspace sockets through the served ASGI application (origin check,
session cookie, auth), as a browser's are. Across processes (Redis, a killed server):
tests/test_chat_processes.py."""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import cache

from svardesk.accounts import presence
from svardesk.accounts import services as account_services
from svardesk.accounts.models import ChatStatus, User
from svardesk.accounts.queries import chat_agents_available
from svardesk.core.local_cache import clear_local_cache
from svardesk.workspace.consumers import ACCESS_CHANGED_CLOSE_CODE
from svardesk.workspace.tests.test_live_scope import LiveSocket
from tests.factories import UserFactory


async def _connected(user: User) -> LiveSocket:
    socket = await sync_to_async(LiveSocket)(user)
    await socket.connect()
    return socket


present = sync_to_async(presence.present_user_ids)
available = sync_to_async(presence.available_user_ids)


# --- The record itself -------------------------------------------------------------------------


def test_a_user_is_present_while_any_of_their_sockets_is():
    presence.mark_present(7, "a", available=True)
    presence.mark_present(7, "b", available=True)
    presence.mark_present(8, "c", available=False)

    presence.mark_absent(7, "a")
    assert presence.present_user_ids() == {7, 8}
    assert presence.available_user_ids() == {7}

    presence.mark_absent(7, "b")
    assert presence.present_user_ids() == {8}
    assert presence.available_user_ids() == set()


def test_marking_an_unknown_socket_absent_changes_nothing():
    presence.mark_present(7, "a", available=True)

    presence.mark_absent(7, "never-opened")
    presence.mark_absent(99, "a")

    assert presence.present_user_ids() == {7}


def test_a_socket_that_stops_refreshing_lapses_after_the_ttl(settings):
    settings.CHAT_PRESENCE_TTL_SECONDS = 0.5
    presence.mark_present(7, "dies", available=True)
    presence.mark_present(8, "lives", available=True)
    time.sleep(0.3)
    presence.refresh(8, "lives", available=True)
    time.sleep(0.35)

    # 0.65 s after opening: the silent socket lapsed, the refreshed one did not.
    assert presence.present_user_ids() == {8}
    time.sleep(0.6)
    assert presence.present_user_ids() == set()


def test_set_available_applies_only_to_a_present_user():
    presence.mark_present(7, "a", available=True)

    presence.set_available(7, False)
    presence.set_available(8, True)  # no socket open: stays absent

    assert presence.present_user_ids() == {7}
    assert presence.available_user_ids() == set()


def test_the_answer_is_kept_a_moment_per_process_and_a_local_change_applies_at_once():
    assert presence.any_agent_available() is False
    # Another process marks someone present (it writes the shared record, not our memo).
    cache.set(presence.PRESENCE_KEY, {7: {"available": True, "sockets": {"x": time.time() + 30}}})
    assert presence.any_agent_available() is False  # still the kept answer
    time.sleep(presence.AVAILABLE_MEMO_SECONDS + 0.1)
    assert presence.any_agent_available() is True

    presence.mark_absent(7, "x")  # in this process: at once
    assert presence.any_agent_available() is False


def test_a_lock_left_by_a_dead_writer_delays_a_write_at_most_a_second():
    presence.mark_present(7, "a", available=True)
    cache.set("svardesk:chat-presence:lock", "someone who died", timeout=30)
    started = time.monotonic()

    presence.mark_absent(7, "a")

    assert 0.9 < time.monotonic() - started < 1.5
    assert presence.present_user_ids() == set()


# --- Through the workspace socket ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_presence_follows_two_sockets_of_one_user(agent):
    async def scenario():  # type: ignore[no-untyped-def]
        first = await _connected(agent)
        second = await _connected(agent)
        after_opening = await present()
        await first.disconnect()
        after_one_closed = await present()
        await second.disconnect()
        return after_opening, after_one_closed, await present()

    after_opening, after_one_closed, after_both_closed = asyncio.run(scenario())

    assert after_opening == {agent.pk}
    assert after_one_closed == {agent.pk}
    assert after_both_closed == set()


@pytest.mark.django_db(transaction=True)
def test_chat_agents_available_needs_presence_and_the_available_status(agent, super_admin):
    away = UserFactory(chat_status=ChatStatus.AWAY)

    async def scenario():  # type: ignore[no-untyped-def]
        answers = {}
        clear_local_cache()
        answers["nobody"] = await sync_to_async(chat_agents_available)()
        away_socket = await _connected(away)
        clear_local_cache()
        answers["only an away agent"] = await sync_to_async(chat_agents_available)()
        admin_socket = await _connected(super_admin)  # a super admin needs no seat
        clear_local_cache()
        answers["a super admin"] = await sync_to_async(chat_agents_available)()
        await admin_socket.disconnect()
        answers["after they left"] = await sync_to_async(chat_agents_available)()
        await away_socket.disconnect()
        return answers

    answers = asyncio.run(scenario())

    assert answers == {
        "nobody": False,
        "only an away agent": False,
        "a super admin": True,
        "after they left": False,
    }


@pytest.mark.django_db(transaction=True)
def test_going_away_and_back_with_the_workspace_open(agent):
    set_status = sync_to_async(account_services.set_chat_status)

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await _connected(agent)
        seen = [await available()]
        await set_status(agent, status=ChatStatus.AWAY, actor=agent)
        seen.append(await available())
        await set_status(agent, status=ChatStatus.AVAILABLE, actor=agent)
        seen.append(await available())
        await socket.disconnect()
        return seen

    assert asyncio.run(scenario()) == [{agent.pk}, set(), {agent.pk}]


@pytest.mark.django_db(transaction=True)
def test_losing_the_seat_closes_the_socket_and_ends_availability(agent, super_admin):
    update_user = sync_to_async(account_services.update_user)

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await _connected(agent)
        before = await available()
        await update_user(agent, actor=super_admin, primary_team=None, teams=[], has_seat=False)
        closed = await socket.receive()
        return before, closed, await available()

    before, closed, after = asyncio.run(scenario())

    assert before == {agent.pk}
    assert closed == {"closed": ACCESS_CHANGED_CLOSE_CODE}
    assert after == set()


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_keeps_a_socket_present_and_rereads_the_status(agent, settings):
    settings.CHAT_PRESENCE_TTL_SECONDS = 0.6  # a heartbeat every 0.2 s

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await _connected(agent)
        await asyncio.sleep(1.0)  # past the TTL: only the heartbeat keeps it
        still_there = await available()
        # Changed behind the service's back (another process, a lost notice): the next
        # heartbeat reads it from the database.
        await sync_to_async(User.objects.filter(pk=agent.pk).update)(chat_status="away")
        await asyncio.sleep(0.5)
        after = (await present(), await available())
        await socket.disconnect()
        return still_there, after

    still_there, after = asyncio.run(scenario())

    assert still_there == {agent.pk}
    assert after == ({agent.pk}, set())


@pytest.mark.django_db(transaction=True)
def test_a_socket_that_dies_without_a_disconnect_lapses_after_the_ttl(agent, settings):
    settings.CHAT_PRESENCE_TTL_SECONDS = 0.6

    async def scenario():  # type: ignore[no-untyped-def]
        socket = await _connected(agent)
        seen = [await present()]
        # The consumer stops without a websocket.disconnect (its server went away).
        socket.communicator.future.cancel()
        await asyncio.sleep(0.3)
        seen.append(await present())  # not yet lapsed
        await asyncio.sleep(0.6)
        seen.append(await present())
        return seen

    assert asyncio.run(scenario()) == [{agent.pk}, {agent.pk}, set()]
