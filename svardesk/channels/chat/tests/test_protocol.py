"""The widget's WebSocket protocol (docs/chat.md) through the served ASGI application: hello
and welcome, messages stored (a ticket, source Chat) before the ack, a reload resuming with
the token, forged tokens, Origin checks, limits and malformed frames."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from svardesk.channels.chat.models import ChatSession, Visitor
from svardesk.channels.chat.tests.helpers import SITE, Widget, chat_channel
from svardesk.channels.chat.texts import error_message, widget_strings
from svardesk.channels.chat.tokens import SALT, VisitorToken, sign_visitor
from svardesk.conversations.models import Message, MessageDirection
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


def test_hello_without_a_token_is_welcomed_with_a_new_signed_token():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        welcome = await widget.start()
        await widget.disconnect()
        return welcome

    welcome = run(scenario())
    assert welcome["type"] == "welcome"
    assert welcome["history"] == []
    assert welcome["chat"] is None
    assert welcome["ask_details"] == "during"
    assert welcome["max_message_chars"] == 4000
    assert isinstance(welcome["available"], bool)
    data = signing.loads(welcome["token"], salt=SALT)
    assert data["c"] == chat.pk
    assert not Visitor.objects.exists()  # nothing is stored for a visitor who never wrote


def test_a_message_is_stored_as_a_chat_ticket_before_it_is_acknowledged():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say(
            "Hej! Var är mitt paket?", "c-1", name="Åsa Lind", email="asa@kund.example"
        )
        # The ack came: the message must be committed and visible to another connection now.
        stored = await sync_to_async(
            lambda: Message.objects.select_related("conversation__ticket").get(pk=ack["id"])
        )()
        await widget.disconnect()
        return ack, stored

    ack, message = run(scenario())
    assert ack["type"] == "ack"
    assert ack["client_id"] == "c-1"
    assert message.direction == MessageDirection.INBOUND
    assert message.body_text == "Hej! Var är mitt paket?"
    assert message.sender_address == "asa@kund.example"
    ticket = message.conversation.ticket
    assert ticket is not None
    assert ticket.source == Source.CHAT
    assert ticket.contact is not None
    assert ticket.contact.email == "asa@kund.example"
    assert ticket.contact.first_name == "Åsa"
    session = ChatSession.objects.get()
    assert session.conversation_id == message.conversation_id
    assert session.is_open
    assert ack["chat_id"] == session.pk


def test_a_visitor_without_email_still_becomes_the_tickets_contact():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        ack = await widget.say("Hello?", "c-1", name="Nils")
        await widget.disconnect()
        return ack

    ack = run(scenario())
    message = Message.objects.select_related("conversation__ticket__contact").get(pk=ack["id"])
    contact = message.conversation.ticket.contact
    assert contact is not None
    assert contact.first_name == "Nils"
    assert contact.email == ""
    assert Visitor.objects.get().contact == contact


def test_a_reload_resumes_the_chat_with_its_history():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        first = Widget(chat.public_key)
        welcome = await first.start()
        await first.say("First question", "c-1", name="Åsa", email="asa@kund.example")
        await first.say("Second <b>question</b>", "c-2")
        await first.disconnect()
        again = Widget(chat.public_key)  # the page was reloaded: the token from localStorage
        resumed = await again.start(token=welcome["token"])
        second = await again.say("Third", "c-3")
        await again.disconnect()
        return welcome, resumed, second

    _welcome, resumed, second = run(scenario())
    assert [m["text"] for m in resumed["history"]] == ["First question", "Second <b>question</b>"]
    assert [m["client_id"] for m in resumed["history"]] == ["c-1", "c-2"]
    assert {m["from"] for m in resumed["history"]} == {"visitor"}
    assert resumed["visitor"] == {"name": "Åsa", "email": "asa@kund.example"}
    assert resumed["chat"]["open"] is True
    assert second["type"] == "ack"
    assert Ticket.objects.count() == 1  # one chat, one ticket
    assert Message.objects.count() == 3


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda chat, pid: "not-a-token", id="garbage"),
        pytest.param(
            lambda chat, pid: sign_visitor(VisitorToken(chat.pk, pid))[:-2] + "xx",
            id="bad-signature",
        ),
        pytest.param(
            lambda chat, pid: signing.dumps({"c": chat.pk, "v": pid}, salt="another-salt"),
            id="other-salt",
        ),
        pytest.param(
            lambda chat, pid: sign_visitor(VisitorToken(chat.pk + 1000, pid)),
            id="other-channel",
        ),
    ],
)
def test_a_forged_token_is_refused_and_reveals_no_history(forge):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        owner = Widget(chat.public_key)
        welcome = await owner.start()
        await owner.say("My secret order 1234", "c-1", name="Åsa", email="asa@kund.example")
        await owner.disconnect()
        public_id = signing.loads(welcome["token"], salt=SALT)["v"]
        thief = Widget(chat.public_key)
        stolen = await thief.start(token=forge(chat, public_id))
        errors = thief.errors
        await thief.disconnect()
        return welcome, stolen, errors

    welcome, stolen, errors = run(scenario())
    assert [e["code"] for e in errors] == ["invalid_token"]
    assert stolen["history"] == []
    assert stolen["visitor"] == {"name": "", "email": ""}
    assert (
        signing.loads(stolen["token"], salt=SALT)["v"]
        != (signing.loads(welcome["token"], salt=SALT)["v"])
    )


@pytest.mark.parametrize(
    "origin",
    [
        pytest.param("https://evil.example", id="other-site"),
        pytest.param("http://shop.example", id="other-scheme"),
        pytest.param("https://shop.example:8443", id="other-port"),
        pytest.param("null", id="null"),
    ],
)
def test_a_handshake_from_another_origin_is_refused(origin):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key, origin=origin)
        return await widget.connect()

    assert run(scenario())["type"] == "websocket.close"


def test_a_handshake_for_an_unknown_or_disconnected_key_is_refused():
    chat = chat_channel()
    chat.channel.is_active = False
    chat.channel.save()

    async def scenario():  # type: ignore[no-untyped-def]
        return [
            (await Widget("no-such-key").connect())["type"],
            (await Widget(chat.public_key).connect())["type"],
        ]

    assert run(scenario()) == ["websocket.close", "websocket.close"]


def test_the_rate_limit_refuses_with_retry_after_and_nothing_is_lost_or_stored_twice(settings):
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 2
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        first = await widget.say("one", "c-1", name="Åsa")
        second = await widget.say("two", "c-2")
        refused = await widget.say("three", "c-3")
        resent = await widget.say("one", "c-1")  # the widget resends an unacknowledged id
        alive = await widget.say("three", "c-3")
        await widget.disconnect()
        return first, second, refused, resent, alive

    first, _second, refused, resent, alive = run(scenario())
    assert refused["type"] == "error"
    assert refused["code"] == "rate_limited"
    assert refused["client_id"] == "c-3"
    assert 1 <= refused["retry_after"] <= 60
    assert f"{refused['retry_after']} seconds" in refused["message"]
    assert resent == {**first, "by_email": resent["by_email"]}  # the same stored id
    assert alive["type"] == "error"  # still limited: the text stays in the widget's box
    assert list(Message.objects.values_list("body_text", flat=True)) == ["one", "two"]


def test_the_ip_limit_covers_every_visitor_from_one_address(settings):
    settings.CHAT_MESSAGES_PER_IP_PER_MINUTE = 3
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        results = []
        for n in range(5):
            widget = Widget(chat.public_key, client_ip="198.51.100.9")
            await widget.start()
            results.append(await widget.say(f"hello {n}", f"c-{n}", name=f"V{n}"))
            await widget.disconnect()
        return results

    results = run(scenario())
    assert [r["type"] for r in results] == ["ack", "ack", "ack", "error", "error"]
    assert results[-1]["code"] == "rate_limited"
    assert Message.objects.count() == 3


def test_an_oversized_message_or_frame_is_refused_and_the_socket_stays_usable(settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    settings.CHAT_MAX_FRAME_BYTES = 1000
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        too_long = await widget.say("x" * 51, "c-1", name="Åsa")
        await widget.send({"type": "message", "client_id": "c-2", "text": "y" * 2000})
        too_big = await widget.receive()
        fine = await widget.say("x" * 50, "c-3")
        await widget.disconnect()
        return too_long, too_big, fine

    too_long, too_big, fine = run(scenario())
    assert (too_long["code"], too_long["client_id"]) == ("too_long", "c-1")
    assert "50 characters" in too_long["message"]
    assert too_big["code"] == "bad_frame"
    assert fine["type"] == "ack"
    assert list(Message.objects.values_list("body_text", flat=True)) == ["x" * 50]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        pytest.param("not json", "bad_frame", id="not-json"),
        pytest.param("[1, 2]", "bad_frame", id="a-list"),
        pytest.param('{"type": 5}', "bad_frame", id="type-not-a-string"),
        pytest.param('{"type": "launch"}', "bad_frame", id="unknown-type"),
        pytest.param(
            '{"type": "message", "client_id": "a b", "text": "x"}', "bad_frame", id="bad-client-id"
        ),
        pytest.param(
            '{"type": "message", "client_id": "c", "text": 5}', "bad_frame", id="text-not-a-string"
        ),
        pytest.param(
            '{"type": "message", "client_id": "c", "text": "  "}', "empty", id="blank-text"
        ),
        pytest.param(
            '{"type": "message", "client_id": "c", "text": "x", "email": "nope"}',
            "invalid_email",
            id="bad-email",
        ),
        pytest.param(
            '{"type": "message", "client_id": "c", "text": "x", "name": ["a"]}',
            "bad_frame",
            id="name-not-a-string",
        ),
        pytest.param('{"type": "typing", "active": "yes"}', "bad_frame", id="typing-not-bool"),
        pytest.param('{"type": "hello"}', "bad_frame", id="second-hello"),
    ],
)
def test_a_malformed_frame_gets_an_error_frame_and_the_socket_lives_on(frame, code):
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start()
        await widget.send(frame)
        error = await widget.receive()
        ok = await widget.say("still here", "c-ok", name="Åsa")
        await widget.disconnect()
        return error, ok

    error, ok = run(scenario())
    assert error["type"] == "error"
    assert error["code"] == code
    assert error["message"]
    assert ok["type"] == "ack"


def test_frames_before_hello_and_binary_frames_are_refused():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.connect()
        await widget.send({"type": "message", "client_id": "c-1", "text": "hi"})
        early = await widget.receive()
        await widget.send_bytes(b"\x00\x01")
        binary = await widget.receive()
        await widget.disconnect()
        return early, binary

    early, binary = run(scenario())
    assert early["code"] == "hello_required"
    assert binary["code"] == "bad_frame"
    assert not Message.objects.exists()


def test_asking_before_the_chat_needs_name_and_email_first():
    chat = chat_channel(ask_details="before")

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key)
        await widget.start(lang="sv")
        refused = await widget.say("Hej", "c-1", name="Åsa")
        accepted = await widget.say("Hej", "c-1", name="Åsa", email="asa@kund.example")
        await widget.disconnect()
        return refused, accepted

    refused, accepted = run(scenario())
    assert refused["code"] == "details_required"
    assert refused["message"] == error_message("details_required", "sv")  # the hello's language
    assert accepted["type"] == "ack"
    assert not Contact.objects.filter(first_name="Chat visitor").exists()


def test_two_tabs_of_one_visitor_both_see_a_message():
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        one = Widget(chat.public_key)
        welcome = await one.start()
        two = Widget(chat.public_key)
        await two.start(token=welcome["token"])
        ack = await one.say("from tab one", "c-1", name="Åsa")
        echoed = await two.receive_type("message")
        quiet = await one.receive_nothing()
        await one.disconnect()
        await two.disconnect()
        return ack, echoed, quiet

    ack, echoed, quiet = run(scenario())
    assert echoed["id"] == ack["id"]
    assert echoed["text"] == "from tab one"
    assert echoed["from"] == "visitor"
    assert quiet  # the sending tab gets its ack, not an echo


def test_the_config_endpoint_answers_only_the_channels_websites(client):
    chat = chat_channel(websites=[SITE, "http://localhost:3000"])
    url = f"/chat/{chat.public_key}/config"

    allowed = client.get(url, {"lang": "sv-SE"}, HTTP_ORIGIN="https://SHOP.example:443")
    refused = client.get(url, HTTP_ORIGIN="https://evil.example")
    no_origin = client.get(url)
    unknown = client.get("/chat/nope/config", HTTP_ORIGIN=SITE)

    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == SITE
    body = json.loads(allowed.content)
    assert body["lang"] == "sv"
    assert body["strings"] == widget_strings("sv")
    assert body["ws_url"] == f"ws://testserver/ws/chat/{chat.public_key}/"
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    assert no_origin.status_code == 403
    assert unknown.status_code == 404
    sighting = chat.sightings.get()
    assert sighting.origin == SITE
    with CaptureQueriesContext(connection) as queries:  # the next page view writes nothing
        assert client.get(url, HTTP_ORIGIN=SITE).status_code == 200
    assert not [q for q in queries.captured_queries if not q["sql"].startswith("SELECT")]


def test_the_widget_script_is_public_and_cached(client):
    response = client.get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age=86400" in response["Cache-Control"]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"data-svardesk-chat" in body
    assert b"innerHTML" not in body  # visitor and agent text only ever as textContent
    again = client.get("/chat/widget.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_a_peer_that_is_no_ip_address_chats_and_no_address_is_stored():
    """Behind a Unix socket the server reports a path, not an address."""
    chat = chat_channel()

    async def scenario():  # type: ignore[no-untyped-def]
        widget = Widget(chat.public_key, client_ip="/run/svardesk.sock")
        await widget.start()
        ack = await widget.say("Hello", "c-1", name="Åsa")
        await widget.disconnect()
        return ack

    assert run(scenario())["type"] == "ack"
    assert Visitor.objects.get().ip_address is None
