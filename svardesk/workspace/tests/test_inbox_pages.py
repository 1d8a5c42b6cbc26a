"""Conversations inbox pages: the thread list, one thread, moving from there, the sidebar."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from svardesk.conversations.models import (
    Conversation,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.conversations.moving import move_conversation
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket
from svardesk.core.local_cache import clear_local_cache
from svardesk.tickets.models import Ticket
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sales(db):  # type: ignore[no-untyped-def]
    return Inbox.objects.create(name="Sales", kind=InboxKind.CONVERSATIONS)


@pytest.fixture
def channel(db):  # type: ignore[no-untyped-def]
    return connect_channel()


def _thread(channel, inbox, subject, *, minutes_ago, text="Hello there"):  # type: ignore[no-untyped-def]
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    conversation = Conversation.objects.create(
        channel=channel.channel, inbox=inbox, subject=subject, last_message_at=at
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel.channel,
        direction=MessageDirection.INBOUND,
        sender_name="Lena Lead",
        sender_address="lena@example.com",
        body_text=text,
        created_at=at,
    )
    return conversation


def test_the_list_shows_threads_newest_first(client, agent, channel, sales):
    old = _thread(channel, sales, "Old question", minutes_ago=90)
    new = _thread(channel, sales, "New question", minutes_ago=5, text="Do you ship to Oslo?")
    client.force_login(agent)

    response = client.get(reverse("inboxes:threads", args=[sales.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("New question") < html.index("Old question")
    assert "Do you ship to Oslo?" in html
    assert "Lena Lead" in html
    assert reverse("inboxes:conversation", args=[sales.pk, old.pk]) in html
    assert reverse("inboxes:conversation", args=[sales.pk, new.pk]) in html
    assert "5\xa0minutes ago" in html


def test_the_list_pages_by_keyset(client, agent, channel, sales, monkeypatch):
    from svardesk.workspace import inbox_pages

    monkeypatch.setattr(inbox_pages, "PAGE_SIZE", 2)
    for n in range(5):
        _thread(channel, sales, f"Thread {n}", minutes_ago=n + 1)
    client.force_login(agent)

    seen: list[str] = []
    url = reverse("inboxes:threads", args=[sales.pk])
    query: dict[str, str] = {}
    for _page in range(3):
        response = client.get(url, query)
        rows = response.context["threads"]
        seen += [row.subject for row in rows]
        query = {"after": response.context["next_cursor"]}
    assert seen == [f"Thread {n}" for n in range(5)]
    assert response.context["next_cursor"] == ""


def test_an_empty_inbox_says_what_comes_there(client, agent, sales):
    client.force_login(agent)

    html = client.get(reverse("inboxes:threads", args=[sales.pk])).content.decode()

    assert "No conversations in this inbox yet." in html


def test_the_help_desk_or_an_unknown_inbox_is_404(client, agent, channel):
    client.force_login(agent)
    help_desk = channel.channel.inbox_id

    assert client.get(reverse("inboxes:threads", args=[help_desk])).status_code == 404
    assert client.get(reverse("inboxes:threads", args=[98765])).status_code == 404


def test_a_user_without_a_seat_gets_403(client, sales):
    client.force_login(UserFactory(has_seat=False))

    assert client.get(reverse("inboxes:threads", args=[sales.pk])).status_code == 403


def test_the_thread_page_shows_its_messages_and_the_move_for_those_who_may(
    client, agent, super_admin, channel, sales
):
    conversation = _thread(channel, sales, "Pricing", minutes_ago=3, text="What does it cost?")
    url = reverse("inboxes:conversation", args=[sales.pk, conversation.pk])
    move_url = reverse("inboxes:move", args=[sales.pk, conversation.pk])

    client.force_login(agent)
    html = client.get(url).content.decode()
    assert "What does it cost?" in html
    assert move_url not in html
    assert client.get(move_url, headers=HTMX).status_code == 403

    client.force_login(super_admin)
    assert move_url in client.get(url).content.decode()


def test_a_thread_moved_away_is_followed(client, agent, super_admin, channel, sales):
    ticket, conversation, _inbound = email_ticket(channel=channel)
    move_conversation(conversation, to_inbox=sales, actor=super_admin)
    help_desk = Inbox.objects.get(pk=channel.channel.inbox_id)
    move_conversation(conversation, to_inbox=help_desk, actor=super_admin)
    client.force_login(agent)

    response = client.get(reverse("inboxes:conversation", args=[sales.pk, conversation.pk]))

    assert response.status_code == 302
    assert response.url == reverse("tickets:detail", args=[ticket.pk])


def test_moving_back_from_the_inbox_page_lands_on_the_ticket(client, super_admin, channel, sales):
    ticket, conversation, inbound = email_ticket(channel=channel)
    move_conversation(conversation, to_inbox=sales, actor=super_admin)
    client.force_login(super_admin)

    response = client.post(
        reverse("inboxes:move", args=[sales.pk, conversation.pk]),
        {"to_inbox": channel.channel.inbox_id},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == reverse("tickets:detail", args=[ticket.pk])
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == channel.channel.inbox_id
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert f'id="message-{inbound.pk}"' in page
    assert Ticket.objects.count() == 1


def test_moving_from_the_inbox_page_needs_the_csrf_token(super_admin, channel, sales):
    conversation = _thread(channel, sales, "Pricing", minutes_ago=3)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(super_admin)

    response = strict.post(
        reverse("inboxes:move", args=[sales.pk, conversation.pk]),
        {"to_inbox": channel.channel.inbox_id},
    )

    assert response.status_code == 403
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == sales.pk
    assert Ticket.objects.count() == 0


def test_the_sidebar_lists_conversations_inboxes_with_counts(client, agent, channel):
    client.force_login(agent)
    home = reverse("ticket_views:all")
    # No conversations inbox (the default one removed): no section
    Inbox.objects.filter(kind=InboxKind.CONVERSATIONS).delete()
    assert 'id="inboxes-heading"' not in client.get(home).content.decode()
    sales = Inbox.objects.create(name="Sales", kind=InboxKind.CONVERSATIONS)
    _thread(channel, sales, "One", minutes_ago=1)
    _thread(channel, sales, "Two", minutes_ago=2)
    clear_local_cache()  # the list is kept a few seconds per process

    html = client.get(home).content.decode()

    assert 'id="inboxes-heading"' in html
    link = reverse("inboxes:threads", args=[sales.pk])
    assert f'href="{link}"' in html
    assert 'data-count="2" title="2 conversations"' in html
    assert 'aria-current="page"' not in html.split('id="inboxes-heading"')[1]

    on_inbox = client.get(link).content.decode().split('id="inboxes-heading"')[1]
    assert 'class="view-link is-current" aria-current="page"' in on_inbox
    agent.language = "sv"
    agent.save(update_fields=["language"])
    assert 'title="2 konversationer"' in client.get(home).content.decode()
