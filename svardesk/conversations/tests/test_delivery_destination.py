"""A delivered reply says where it went: to a mail server, or only to the server's console
when no mail server is configured (the embedded default), so nobody believes a customer got
mail that was only printed."""

import pytest
from django.urls import reverse

from svardesk.conversations import services
from svardesk.conversations.models import Message

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ticket(email_channel, support_team):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel, team=support_team)
    return ticket


def _thread(client, agent, ticket) -> str:
    client.force_login(agent)
    return client.get(reverse("conversations:thread", args=[ticket.pk]), **HTMX).content.decode()


def test_a_reply_written_to_the_console_says_so(client, settings, agent, ticket):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    reply = services.send_reply(ticket, actor=agent, html="<p>Hello</p>", to="asa@kund.example")

    assert services.deliver_email_message(reply.pk, is_final_attempt=True) == "sent"

    reply.refresh_from_db()
    assert reply.delivered_via == "console"
    thread = _thread(client, agent, ticket)
    assert "Written to the server console" in thread
    assert "✓ Sent" not in thread


def test_a_reply_handed_to_a_mail_server_names_it(client, smtp_server, agent, ticket):
    reply = services.send_reply(ticket, actor=agent, html="<p>Hello</p>", to="asa@kund.example")

    assert services.deliver_email_message(reply.pk, is_final_attempt=True) == "sent"

    reply.refresh_from_db()
    assert reply.delivered_via == f"smtp://127.0.0.1:{smtp_server.port}"
    assert len(smtp_server.messages) == 1
    thread = _thread(client, agent, ticket)
    assert "✓ Sent" in thread
    assert f"127.0.0.1:{smtp_server.port}" in thread
    assert "console" not in thread


def test_a_queued_reply_records_no_destination(agent, ticket):
    reply = services.send_reply(ticket, actor=agent, html="<p>Hello</p>", to="asa@kund.example")

    assert Message.objects.get(pk=reply.pk).delivered_via is None
