"""A name Graph refused at a person's first message is asked for again later (a token that
gets the permission afterwards, Meta's rate limit, an outage): the contact and the messages
recorded under "Messenger user …1234" get the person's name; an agent's own name for the
contact stays; after the last try it is given up."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from svardesk.channels.messenger import services
from svardesk.channels.messenger.models import MessengerUser
from svardesk.channels.messenger.views import webhook_path
from svardesk.conversations.models import Message, MessageDirection
from svardesk.crm import services as crm_services
from svardesk.crm.models import Contact

from .helpers import post, text_event

pytestmark = pytest.mark.django_db(transaction=True)

PSID = "1111222233334321"
STAND_IN = "Messenger user …4321"


@pytest.fixture
def url(live_server, page):  # type: ignore[no-untyped-def]
    return live_server.url + webhook_path(page)


def _first_message_without_a_name(url: str) -> MessengerUser:
    assert post(url, text_event("m_one", "Hello", psid=PSID)).status_code == 200
    return MessengerUser.objects.get()


def _inbound_names() -> list[str]:
    return list(
        Message.objects.filter(direction=MessageDirection.INBOUND).values_list(
            "sender_name", flat=True
        )
    )


def test_a_refused_name_is_asked_for_again_and_given_to_the_contact_and_messages(url, graph):
    user = _first_message_without_a_name(url)
    assert (user.name, user.profile_fetched, user.profile_attempts) == (STAND_IN, False, 1)
    assert user.profile_retry_at is not None
    first_try = user.profile_retry_at - user.created_at
    assert first_try == services.PROFILE_RETRY_DELAYS[0]
    assert _inbound_names() == [STAND_IN]

    # Not due yet: Graph is not asked.
    lookups = len(graph.profile_lookups())
    assert services.name_people_later(now=user.created_at + dt.timedelta(seconds=30)) == 0
    assert len(graph.profile_lookups()) == lookups

    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}
    assert services.name_people_later(now=user.profile_retry_at) == 1

    user.refresh_from_db()
    assert (user.name, user.profile_fetched, user.profile_retry_at) == ("Maja Berg", True, None)
    contact = Contact.objects.get()
    assert (contact.first_name, contact.last_name) == ("Maja", "Berg")
    assert _inbound_names() == ["Maja Berg"]
    # Named once: no further lookups.
    lookups = len(graph.profile_lookups())
    assert services.name_people_later(now=timezone.now() + dt.timedelta(days=30)) == 0
    assert len(graph.profile_lookups()) == lookups


def test_a_contact_an_agent_named_meanwhile_keeps_that_name(url, graph, super_admin):
    user = _first_message_without_a_name(url)
    contact = Contact.objects.get()
    crm_services.update_contact(contact, actor=super_admin, first_name="Maja (VIP)", last_name="")
    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}

    assert services.name_people_later(now=user.profile_retry_at) == 1

    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name) == ("Maja (VIP)", "")
    user.refresh_from_db()
    assert user.name == "Maja Berg"


def test_each_refusal_waits_longer_and_the_last_gives_up(url, graph):
    user = _first_message_without_a_name(url)
    waits = []
    now = user.created_at
    for _ in services.PROFILE_RETRY_DELAYS:
        user.refresh_from_db()
        assert user.profile_retry_at is not None
        waits.append(user.profile_retry_at - now)
        now = user.profile_retry_at
        assert services.name_people_later(now=now) == 0  # Graph refuses again
    user.refresh_from_db()

    assert waits == list(services.PROFILE_RETRY_DELAYS)
    assert user.profile_retry_at is None  # given up
    assert user.profile_attempts == len(services.PROFILE_RETRY_DELAYS) + 1
    assert Contact.objects.get().first_name == STAND_IN
    lookups = len(graph.profile_lookups())
    assert services.name_people_later(now=now + dt.timedelta(days=30)) == 0
    assert len(graph.profile_lookups()) == lookups


def test_a_disconnected_page_is_not_asked(url, graph, page):
    user = _first_message_without_a_name(url)
    services.disconnect_page(page, actor=None)
    lookups = len(graph.profile_lookups())

    assert services.name_people_later(now=user.profile_retry_at) == 0

    assert len(graph.profile_lookups()) == lookups
    user.refresh_from_db()
    assert user.profile_retry_at is None
