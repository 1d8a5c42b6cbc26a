"""The agents' side of a chat: a reply through the core's send_reply reaches the visitor's
widget (in-memory and Redis layers), typing both ways, nobody available (the ticket goes on
by email), closing the chat and its transcript — exactly once at a real SMTP server."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from huey.contrib.djhuey import HUEY

from svardesk.channels.chat import services as chat_services
from svardesk.channels.chat.models import ChatSession, TranscriptStatus
from svardesk.channels.chat.tasks import send_chat_transcript
from svardesk.channels.chat.tests.helpers import AgentSocket, Widget, chat_channel
from svardesk.channels.email.services import connect_email_channel
from svardesk.conversations import queries as conversation_queries
from svardesk.conversations import services as conversation_services
from svardesk.conversations.models import Conversation, DeliveryStatus, Message
from svardesk.tickets.models import Ticket
from svardesk.tickets.signals import ticket_changed

pytestmark = pytest.mark.django_db(transaction=True)

TEAM_ADDRESS = "support@acme.test"


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


def _reply(ticket_id: int, agent, text: str) -> Message:  # type: ignore[no-untyped-def]
    ticket = Ticket.objects.get(pk=ticket_id)
    return conversation_services.send_reply(ticket, actor=agent, text=text)


reply = sync_to_async(_reply)


def _ticket_of(message_id: int) -> int:
    return int(
        Message.objects.select_related("conversation").get(pk=message_id).conversation.ticket_id
    )


ticket_of = sync_to_async(_ticket_of)


def _agent_reply_reaches_the_widget(agent):  # type: ignore[no-untyped-def]
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        welcome = await widget.start()
        ack = await widget.say("Is anyone there?", "c-1", name="Åsa", email="asa@kund.example")
        ticket_id = await ticket_of(ack["id"])
        sent = await reply(ticket_id, agent, "Yes! <b>Anna</b> here.")
        live = await widget.receive_type("message")
        await widget.disconnect()
        # The visitor comes back later: the reply is in the history.
        again = Widget(chat.public_key)
        resumed = await again.start(token=welcome["token"])
        await again.disconnect()
        return sent, live, resumed

    sent, live, resumed = run(scenario())
    assert live == {
        "type": "message",
        "id": sent.pk,
        "from": "agent",
        "name": "Anna",
        "text": "Yes! <b>Anna</b> here.",
        "at": live["at"],
    }
    assert [(m["from"], m["text"]) for m in resumed["history"]] == [
        ("visitor", "Is anyone there?"),
        ("agent", "Yes! <b>Anna</b> here."),
    ]
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT
    assert sent.delivered_via == "chat"


def test_an_agents_reply_reaches_the_visitor_through_the_in_memory_layer(agent):
    _agent_reply_reaches_the_widget(agent)


def test_an_agents_reply_reaches_the_visitor_through_the_redis_layer(agent, redis_layer):
    _agent_reply_reaches_the_widget(agent)


def test_the_reply_is_delivered_before_the_tickets_changes_are_announced(agent):
    """After the reply's commit the visitor comes first: its stage move ("Waiting on
    contact") and the reply itself are announced to the workspace only once it was sent."""
    chat = chat_channel()
    statuses_when_announced: list[str] = []

    def on_changed(sender, ticket_id, **kwargs):  # type: ignore[no-untyped-def]
        reply_row = Message.objects.filter(
            conversation__ticket_id=ticket_id, direction="outbound"
        ).first()
        if reply_row is not None:
            statuses_when_announced.append(reply_row.delivery_status)

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello?", "c-1", name="Åsa", email="asa@kund.example")
        ticket_id = await ticket_of(ack["id"])
        ticket_changed.connect(on_changed, weak=False, dispatch_uid="test-delivered-first")
        try:
            await reply(ticket_id, agent, "Hi Åsa!")
        finally:
            ticket_changed.disconnect(dispatch_uid="test-delivered-first")
        await widget.receive_type("message")
        await widget.disconnect()
        return ticket_id

    ticket_id = run(scenario())
    assert Ticket.objects.get(pk=ticket_id).stage.name == "Waiting on contact"
    # Two announcements (the stage move, the reply), both after the delivery.
    assert statuses_when_announced == [DeliveryStatus.SENT, DeliveryStatus.SENT]


def test_a_reply_to_an_offline_visitor_is_kept_for_their_return(agent):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        welcome = await widget.start()
        ack = await widget.say("Call me back", "c-1", name="Åsa")
        await widget.disconnect()
        sent = await reply(await ticket_of(ack["id"]), agent, "We will!")
        again = Widget(chat.public_key)
        resumed = await again.start(token=welcome["token"])
        await again.disconnect()
        return sent, resumed

    sent, resumed = run(scenario())
    assert resumed["history"][-1]["id"] == sent.pk
    sent.refresh_from_db()
    assert sent.delivery_status == DeliveryStatus.SENT


def test_typing_reaches_the_agent_and_the_visitor(agent, redis_layer):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello", "c-1", name="Åsa")
        conversation_id = await sync_to_async(
            lambda: Message.objects.get(pk=ack["id"]).conversation_id
        )()
        agent_socket = await sync_to_async(AgentSocket)(agent, conversation_id)
        assert (await agent_socket.connect())["type"] == "websocket.accept"
        await widget.send({"type": "typing", "active": True})
        visitor_typing = await agent_socket.receive()
        await agent_socket.send({"type": "typing", "active": True})
        agent_typing = await widget.receive_type("typing")
        await agent_socket.disconnect()  # a closing page stops its typing indicator
        stopped = await widget.receive_type("typing")
        await widget.disconnect()
        return visitor_typing, agent_typing, stopped

    visitor_typing, agent_typing, stopped = run(scenario())
    assert visitor_typing == {
        "type": "typing",
        "from": "visitor",
        "active": True,
        "label": "Åsa is typing…",
    }
    assert agent_typing == {"type": "typing", "from": "agent", "name": "Anna", "active": True}
    assert stopped["active"] is False


def test_the_agent_socket_needs_access_to_the_chats_ticket(team_agent, no_seat_user):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello", "c-1", name="Åsa")
        await widget.disconnect()
        conversation_id = await sync_to_async(
            lambda: Message.objects.get(pk=ack["id"]).conversation_id
        )()
        answers = []
        for user in (team_agent, no_seat_user):  # the ticket has no team: not team_agent's
            socket = await sync_to_async(AgentSocket)(user, conversation_id)
            answers.append((await socket.connect())["type"])
        return answers

    assert run(scenario()) == ["websocket.close", "websocket.close"]


def test_with_nobody_available_the_ticket_continues_by_email(monkeypatch, agent):
    connect_email_channel(actor=None, address=TEAM_ADDRESS, display_name="Acme Support")
    monkeypatch.setattr("svardesk.channels.chat.consumers.agents_available", lambda: False)
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        welcome = await widget.start()
        first = await widget.say("Anyone?", "c-1", name="Åsa")
        await widget.send({"type": "details", "name": "Åsa", "email": "asa@kund.example"})
        saved = await widget.receive_type("details_saved")
        await widget.disconnect()
        return welcome, first, saved

    welcome, first, saved = run(scenario())
    assert welcome["available"] is False
    assert first["by_email"] is False  # no email yet: the widget asks for it
    assert first["available"] is False
    assert saved == {"type": "details_saved", "name": "Åsa", "email": "asa@kund.example"}
    session = ChatSession.objects.get()
    assert session.follows_up_by_email
    ticket = Ticket.objects.get()
    latest = Conversation.objects.filter(ticket=ticket).order_by("-id").first()
    assert latest is not None
    assert latest.channel.kind == "email"
    defaults = conversation_queries.reply_defaults(ticket, actor=agent)
    assert defaults.channel_kind == "email"  # the editor offers an email to the visitor
    assert defaults.to == ["Åsa <asa@kund.example>"]
    sent = conversation_services.send_reply(
        ticket, actor=agent, html="<p>By email</p>", to=defaults.to
    )
    assert sent.channel.kind == "email"


def test_closing_the_chat_tells_the_widget_and_sends_the_transcript_exactly_once(
    agent, smtp_server, tasks_now
):
    connect_email_channel(actor=None, address=TEAM_ADDRESS, display_name="Acme Support")
    chat = chat_channel(
        transcripts=chat_services.TranscriptSettings(enabled=True, send_from=TEAM_ADDRESS)
    )
    browser = Client()
    browser.force_login(agent)

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say(
            "My parcel is late", "c-1", name="Åsa Lind", email="asa@kund.example"
        )
        ticket_id = await ticket_of(ack["id"])
        await reply(ticket_id, agent, "It leaves today.")
        await widget.receive_type("message")
        conversation_id = await sync_to_async(
            lambda: Message.objects.get(pk=ack["id"]).conversation_id
        )()
        response = await sync_to_async(browser.post)(
            f"/chat/conversations/{conversation_id}/close/"
        )
        closed = await widget.receive_type("closed")
        again = await sync_to_async(browser.post)(f"/chat/conversations/{conversation_id}/close/")
        await widget.disconnect()
        return ticket_id, response, closed, again

    ticket_id, response, closed, again = run(scenario())
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/{ticket_id}/"
    assert again.status_code == 302  # closed already: nothing happens twice
    session = ChatSession.objects.get()
    assert closed["chat_id"] == session.pk
    assert not session.is_open
    assert session.transcript_status == TranscriptStatus.SENT

    # The task again (a retry, a second worker, a restart that lost the status): still one.
    send_chat_transcript.call_local(session.pk)
    ChatSession.objects.filter(pk=session.pk).update(transcript_status=TranscriptStatus.PENDING)
    send_chat_transcript.call_local(session.pk)

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == "asa@kund.example"
    assert TEAM_ADDRESS in mail["From"]
    assert mail["Subject"].startswith("Transcript of your chat with Shop chat")
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Åsa Lind:" in body
    assert "  My parcel is late" in body
    assert "Anna:" in body
    assert "  It leaves today." in body
    assert body.index("My parcel is late") < body.index("It leaves today.")
    automatic = Message.objects.filter(is_auto_generated=True)
    assert automatic.count() == 1
    # The transcript is no chat message: the visitor's history does not show it.
    assert all(m["text"] != automatic.get().body_text for m in _history(session))


def _history(session):  # type: ignore[no-untyped-def]
    from svardesk.channels.chat.queries import history

    return history(ChatSession.objects.select_related("visitor").get(pk=session.pk))


def test_closing_needs_access_to_the_ticket(team_agent):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello", "c-1", name="Åsa")
        await widget.disconnect()
        return ack

    ack = run(scenario())
    conversation_id = Message.objects.get(pk=ack["id"]).conversation_id
    browser = Client()
    browser.force_login(team_agent)
    assert browser.post(f"/chat/conversations/{conversation_id}/close/").status_code == 404
    assert browser.get(f"/chat/conversations/{conversation_id}/close/").status_code == 405
    assert ChatSession.objects.get().is_open


def test_the_close_button_is_offered_while_the_chat_is_open(agent):
    from svardesk.conversations.registry import get_adapter

    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello", "c-1", name="Åsa")
        await widget.disconnect()
        return ack

    ack = run(scenario())
    conversation = Message.objects.get(pk=ack["id"]).conversation
    adapter = get_adapter("chat")
    actions = adapter.conversation_actions(conversation, actor=agent)
    assert [str(a.label) for a in actions] == ["Close chat"]
    assert actions[0].url == f"/chat/conversations/{conversation.pk}/close/"
    chat_services.close_chat(ChatSession.objects.get(), actor=agent)
    assert adapter.conversation_actions(conversation, actor=agent) == []
