"""An agent's chat reply on its way to the visitor: pushed to the widget right after the
reply's own commit, the "sent" bookkeeping after (one UPDATE, no claim before it), and Send
answered with the new message alone rather than the whole ticket."""

import asyncio
import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from svardesk.channels.chat.tests.helpers import Widget, chat_channel
from svardesk.conversations import delivery
from svardesk.conversations import services as conversation_services
from svardesk.conversations.models import DeliveryStatus, Message, MessageDirection
from svardesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


def _ticket_of(message_id: int) -> int:
    return int(
        Message.objects.select_related("conversation").get(pk=message_id).conversation.ticket_id
    )


def _reply_counting_writes(ticket_id: int, agent) -> tuple[Message, list[str]]:  # type: ignore[no-untyped-def]
    """Send a reply (committed, so its after-commit delivery runs) and return the UPDATEs of
    messages that ran after the reply's INSERT."""
    ticket = Ticket.objects.get(pk=ticket_id)
    with CaptureQueriesContext(connection) as run:
        sent = conversation_services.send_reply(ticket, actor=agent, text="Here I am")
    statements = [q["sql"] for q in run.captured_queries]
    inserted = next(i for i, sql in enumerate(statements) if sql.startswith("INSERT INTO"))
    updates = [
        sql for sql in statements[inserted:] if sql.startswith('UPDATE "conversations_message"')
    ]
    return sent, updates


def test_a_chat_reply_is_pushed_first_and_recorded_sent_in_one_write(agent):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello?", "c-1", name="Åsa", email="asa@kund.example")
        ticket_id = await sync_to_async(_ticket_of)(ack["id"])
        sent, updates = await sync_to_async(_reply_counting_writes)(ticket_id, agent)
        live = await widget.receive_type("message")
        await widget.disconnect()
        return sent, updates, live

    sent, updates, live = asyncio.run(scenario())
    assert (live["id"], live["from"], live["text"]) == (sent.pk, "agent", "Here I am")
    # No claim (an UPDATE setting sending_since, and its commit) before the push: the one
    # UPDATE after the reply's transaction records it as sent.
    assert len(updates) == 1, updates
    assert "'sent'" in updates[0]
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
    assert (sent.send_attempts, sent.sending_since, sent.delivered_via) == (1, None, "chat")
    assert sent.last_send_attempt_at is not None


def test_an_immediate_delivery_leaves_a_reply_a_worker_is_sending_alone(agent):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello?", "c-1", name="Åsa", email="asa@kund.example")
        await widget.disconnect()
        return ack

    ack = asyncio.run(scenario())
    inbound = Message.objects.get(pk=ack["id"])
    held = Message.objects.create(
        conversation=inbound.conversation,
        channel=inbound.channel,
        direction=MessageDirection.OUTBOUND,
        author=agent,
        body_text="Held by a worker",
        delivery_status=DeliveryStatus.QUEUED,
        sending_since=timezone.now() - dt.timedelta(seconds=5),
        created_at=timezone.now(),
    )
    assert delivery.deliver_immediately(held.pk) == "skipped"
    held.refresh_from_db()
    assert (held.delivery_status, held.send_attempts) == (DeliveryStatus.QUEUED, 0)
    # What is no longer queued is skipped too.
    Message.objects.filter(pk=held.pk).update(
        delivery_status=DeliveryStatus.SENT, sending_since=None
    )
    assert delivery.deliver_immediately(held.pk) == "skipped"


def test_send_in_a_chat_is_answered_with_the_new_message_alone(agent):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello?", "c-1", name="Åsa", email="asa@kund.example")
        await widget.disconnect()
        return ack

    ticket_id = _ticket_of(asyncio.run(scenario())["id"])
    client = Client()
    client.force_login(agent)
    url = f"/tickets/{ticket_id}/reply/"

    # The first reply moves the new ticket to "Waiting on contact" (the header follows with
    # the page's live update); Send is still answered with the message alone.
    first = client.post(url, {"text": "First", "client_token": "draft-token-0001"}, **HTMX)
    assert first.status_code == 200
    assert first.headers["HX-Retarget"] == f"#thread-{ticket_id} .thread-items"
    assert 'id="ticket-detail"' not in first.content.decode()
    assert Ticket.objects.get(pk=ticket_id).stage.name == "Waiting on contact"

    second = client.post(
        url, {"text": "Second <b>answer</b>", "client_token": "draft-token-0002"}, **HTMX
    )
    assert second.status_code == 200
    reply = Message.objects.get(client_token="draft-token-0002")
    body = second.content.decode()
    assert second.headers["HX-Retarget"] == f"#thread-{ticket_id} .thread-items"
    assert second.headers["HX-Reswap"].startswith("beforeend")
    assert body.startswith(f'<li id="message-{reply.pk}"')
    assert 'data-delivery="sent"' in body
    assert "Second &lt;b&gt;answer&lt;/b&gt;" in body
    assert "Reply sent to the outbox." in body  # the toast
    assert 'id="ticket-detail"' not in body
    assert "composer" not in body

    # A plain form post (no htmx) is redirected to the ticket as before.
    third = client.post(url, {"text": "Third", "client_token": "draft-token-0003"})
    assert third.status_code == 302
    assert third.headers["Location"] == f"/tickets/{ticket_id}/"
