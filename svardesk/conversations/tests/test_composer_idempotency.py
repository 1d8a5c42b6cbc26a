"""The composer is idempotent: each draft carries a token, and a reply or comment posted again
with the same token (a double click, a retried request) is stored and sent once."""

import json
import re
import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from svardesk.conversations import services
from svardesk.conversations.models import Message, MessageDirection, Notification

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
TOKEN = "draft-3f9c2a7e-0b1d-4c5e-9a8f"


@pytest.fixture
def support_email_ticket(email_channel, support_team):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel, team=support_team)
    return ticket


def _reply(client, ticket, token=TOKEN, **extra):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("conversations:reply", args=[ticket.pk]),
        {"html": "<p>Fixed now</p>", "to": "asa@kund.example", "client_token": token, **extra},
        **HTMX,
    )


def test_two_identical_reply_posts_store_and_send_one_email(
    client, agent, support_email_ticket, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        first = _reply(client, support_email_ticket)
    with django_capture_on_commit_callbacks(execute=True):
        second = _reply(client, support_email_ticket)

    assert (first.status_code, second.status_code) == (200, 200)
    assert "Reply sent to the outbox." in second.content.decode()
    replies = Message.objects.filter(direction=MessageDirection.OUTBOUND)
    assert replies.count() == 1
    assert replies.get().client_token == TOKEN
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0]["To"] == "asa@kund.example"


def test_a_new_draft_token_sends_again(
    client, agent, support_email_ticket, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        _reply(client, support_email_ticket, token="draft-one-aaaaaaaaaaaa")
        _reply(client, support_email_ticket, token="draft-two-bbbbbbbbbbbb")
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 2
    assert len(smtp_server.messages) == 2


def test_two_identical_comment_posts_store_one_comment_and_one_notification(
    client, agent, super_admin, support_email_ticket, smtp_server, tasks_now,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    client.force_login(agent)
    data = {
        "html": "<p>@Ada Admin please look</p>",
        "mentions": [str(super_admin.pk)],
        "client_token": TOKEN,
    }
    url = reverse("conversations:comment", args=[support_email_ticket.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data, **HTMX).status_code == 200
        assert client.post(url, data, **HTMX).status_code == 200
    assert Message.objects.filter(direction=MessageDirection.COMMENT).count() == 1
    assert Notification.objects.count() == 1
    assert [m["To"] for m in smtp_server.messages] == ["admin@svardesk.test"]


def test_a_token_used_on_another_ticket_is_refused(client, agent, email_channel, support_team):
    first, _c, _m = email_ticket(channel=email_channel, team=support_team)
    other, _c, _m = email_ticket(
        channel=email_channel, team=support_team, message_id="<cust-2@example.com>"
    )
    client.force_login(agent)
    assert _reply(client, first).status_code == 200
    response = _reply(client, other)
    assert response.status_code == 422
    assert "already sent" in response.content.decode()
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1


def test_another_agent_may_not_reuse_a_token(client, agent, support_email_ticket):
    """Tokens are per author: someone else's token neither finds nor blocks their reply."""
    from tests.factories import UserFactory

    client.force_login(agent)
    assert _reply(client, support_email_ticket).status_code == 200
    colleague = UserFactory(email="colleague@svardesk.test")
    client.force_login(colleague)
    assert _reply(client, support_email_ticket).status_code == 200
    authors = Message.objects.filter(direction=MessageDirection.OUTBOUND).values_list(
        "author__email", flat=True
    )
    assert sorted(authors) == ["agent@svardesk.test", "colleague@svardesk.test"]


@pytest.mark.parametrize(
    "token",
    [pytest.param("short", id="too-short"), pytest.param("x" * 65, id="too-long"),
     pytest.param("dråft-ööööööööööööö", id="not-ascii"), pytest.param("a b c d e f g h i", id="spaces")],
)  # fmt: skip
def test_a_malformed_token_is_a_field_error(client, agent, support_email_ticket, token):
    client.force_login(agent)
    response = _reply(client, support_email_ticket, token=token)
    assert response.status_code == 422
    assert "Reload the page" in response.content.decode()
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()


def test_the_composer_renders_a_token_per_draft(client, agent, support_email_ticket):
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[support_email_ticket.pk])).content.decode()
    tokens = re.findall(r'name="client_token" value="([A-Za-z0-9_-]+)" data-draft-token', page)
    assert len(tokens) == 2  # the reply and the comment form
    assert len(set(tokens)) == 2
    assert all(16 <= len(token) <= 64 for token in tokens)


@pytest.mark.django_db(transaction=True)
def test_simultaneous_identical_replies_store_one(email_channel, support_team, agent):
    """Two requests with the same token at the same moment: the database keeps one."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time")
    ticket, _c, _m = email_ticket(channel=email_channel, team=support_team)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def send() -> None:
        try:
            barrier.wait()
            reply = services.send_reply(
                ticket, actor=agent, html="<p>Once</p>", to="asa@kund.example", client_token=TOKEN
            )
            results.append(reply)
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, Message) for r in results), results
    assert {r.pk for r in results if isinstance(r, Message)} == set(
        Message.objects.filter(direction=MessageDirection.OUTBOUND).values_list("pk", flat=True)
    )
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1


def test_each_draft_of_a_page_has_its_own_token_and_the_composer_speaks_swedish(
    client, agent, support_email_ticket
):
    client.force_login(agent)
    url = reverse("tickets:detail", args=[support_email_ticket.pk])
    first = client.get(url).content.decode()
    tokens = re.findall(r'name="client_token" value="([^"]+)"', first)
    again = re.findall(r'name="client_token" value="([^"]+)"', client.get(url).content.decode())
    assert len(tokens) == 2  # the reply's and the comment's
    assert len(set(tokens + again)) == 4  # never the same twice

    agent.language = "sv"
    agent.save(update_fields=["language"])
    swedish = client.get(url).content.decode()
    assert 'data-tab="reply">Svara</button>' in swedish  # "Reply" in the composer tab's sense
    strings = re.search(
        r"<script type=\"application/json\" data-composer-i18n>(.*?)</script>", swedish
    )
    assert strings is not None
    assert json.loads(strings.group(1))["viewing"] == "%(names)s tittar på ärendet"
