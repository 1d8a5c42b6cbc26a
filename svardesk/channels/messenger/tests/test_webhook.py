"""The Messenger Platform's webhook over real HTTP (live_server): verification, signatures,
and what each kind of event becomes. Graph is the local fake server."""

import datetime as dt

import pytest
import requests
from django.core.files.storage import default_storage

from svardesk.channels.messenger.models import (
    MessengerConversation,
    MessengerEvent,
    MessengerUser,
)
from svardesk.channels.messenger.views import webhook_path
from svardesk.conversations.models import Attachment, Conversation, Message, MessageDirection
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Ticket

from .conftest import VERIFY_TOKEN, sign
from .helpers import PSID, payload, post, text_event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def url(live_server, page):  # type: ignore[no-untyped-def]
    return live_server.url + webhook_path(page)


def _inbound() -> list[Message]:
    return list(Message.objects.filter(direction=MessageDirection.INBOUND).order_by("id"))


# --- Verification -----------------------------------------------------------------------------


def test_the_subscription_check_echoes_the_challenge_as_plain_text(url):
    response = requests.get(
        url,
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
        timeout=10,
    )
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"hub.mode": "subscribe", "hub.verify_token": "guess"}, id="wrong-token"),
        pytest.param({"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN}, id="mode"),
        pytest.param({"hub.mode": "subscribe"}, id="no-token"),
    ],
)
def test_a_subscription_check_without_our_verify_token_is_refused(url, params):
    response = requests.get(url, params={**params, "hub.challenge": "42"}, timeout=10)
    assert response.status_code == 403
    assert "42" not in response.text


# --- Signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("sha256=" + "0" * 64, id="forged"),
        pytest.param("other", id="other-secret"),
        pytest.param("sha1=abc", id="sha1"),
    ],
)
def test_an_unsigned_or_forged_delivery_gets_403_and_nothing_is_stored(url, graph, signature):
    body = payload("text_message.json")
    if signature == "other":
        signature = sign(body, "someone-elses-secret")
    response = post(url, body, signature=signature)
    assert response.status_code == 403
    assert MessengerEvent.objects.count() == 0
    assert Message.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert Contact.objects.count() == 0
    assert MessengerUser.objects.count() == 0
    assert graph.requests == []


def test_a_body_changed_after_signing_is_refused(url, graph):
    body = payload("text_message.json")
    signature = sign(body)
    response = post(url, body.replace(b"never arrived", b"arrived fine"), signature=signature)
    assert response.status_code == 403
    assert (MessengerEvent.objects.count(), Message.objects.count()) == (0, 0)


def test_an_unknown_webhook_key_gets_403(live_server, page, graph):
    body = payload("text_message.json")
    response = post(f"{live_server.url}/channels/messenger/not-a-key/webhook", body)
    assert response.status_code == 403
    assert MessengerEvent.objects.count() == 0


def test_signed_bad_json_answers_400_and_keeps_the_raw_event(url, graph):
    response = post(url, b'{"object": "page", "entry": [')
    assert response.status_code == 400
    assert "not JSON" in response.text
    event = MessengerEvent.objects.get()
    assert bytes(event.body) == b'{"object": "page", "entry": ['
    assert event.error.startswith("The body is not JSON")
    assert Message.objects.count() == 0


# --- What becomes a ticket --------------------------------------------------------------------


def test_a_message_becomes_a_messenger_ticket_with_a_contact_named_from_the_profile(url, graph):
    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}
    body = payload("text_message.json")

    response = post(url, body)

    assert response.status_code == 200
    event = MessengerEvent.objects.get()
    assert bytes(event.body) == body  # exactly as received
    assert event.processed_at is not None
    assert event.error == ""
    [message] = _inbound()
    assert message.body_text == "Hi! My order 4711 never arrived."
    assert message.message_id.startswith("m_AG5Hz2Uq7tuwNEhX")
    assert message.sender_name == "Maja Berg"
    ticket = Ticket.objects.get()
    assert ticket.source == Source.MESSENGER
    assert ticket.contact is not None
    assert (ticket.contact.first_name, ticket.contact.last_name) == ("Maja", "Berg")
    assert message.contact == ticket.contact
    assert message.conversation.contact == ticket.contact
    user = MessengerUser.objects.get()
    assert (user.psid, user.profile_fetched, user.contact) == (PSID, True, ticket.contact)
    [lookup] = graph.profile_lookups()
    assert lookup.path == f"/v21.0/{PSID}"


def test_a_known_person_continues_their_conversation_without_a_graph_call(url, graph):
    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}
    assert post(url, text_event("m_one", "Hello")).status_code == 200
    assert post(url, text_event("m_two", "Anyone there?")).status_code == 200

    first, second = _inbound()
    assert first.conversation_id == second.conversation_id
    assert Ticket.objects.count() == 1
    assert Contact.objects.count() == 1
    assert MessengerConversation.objects.count() == 1
    assert len(graph.profile_lookups()) == 1


def test_without_profile_access_the_contact_is_named_by_the_psids_last_digits(url, graph):
    response = post(url, text_event("m_one", "Hello", psid="1111222233334321"))
    assert response.status_code == 200
    contact = Contact.objects.get()
    assert contact.first_name == "Messenger user …4321"
    user = MessengerUser.objects.get()
    assert user.profile_fetched is False
    assert "Requires pages_messaging permission" in user.page.last_graph_error
    assert "EAAG" not in user.page.last_graph_error


def test_a_delivery_sent_twice_stores_one_message(url, graph):
    body = payload("text_message.json")
    assert post(url, body).status_code == 200
    assert post(url, body).status_code == 200

    assert len(_inbound()) == 1
    assert Ticket.objects.count() == 1
    assert MessengerEvent.objects.filter(processed_at__isnull=False).count() == 2


def test_attachments_are_fetched_and_stored_and_what_cannot_be_stays_a_link(url, graph, settings):
    from svardesk.conversations.models import HelpDeskSettings

    HelpDeskSettings.objects.update_or_create(pk=1, defaults={"max_attachment_bytes": 10_000})
    graph.files["/files/parcel.jpg"] = ("image/jpeg", b"\xff\xd8\xff" + b"p" * 500)
    graph.files["/files/huge.pdf"] = ("application/pdf", b"%PDF" + b"x" * 20_000)

    response = post(url, payload("attachments.json", graph_url=graph.url))

    assert response.status_code == 200
    [message] = _inbound()
    [attachment] = Attachment.objects.filter(message=message)
    assert (attachment.filename, attachment.content_type) == ("parcel.jpg", "image/jpeg")
    with default_storage.open(attachment.file.name, "rb") as handle:
        assert handle.read() == b"\xff\xd8\xff" + b"p" * 500
    lines = message.body_text.splitlines()
    assert lines[0] == "Here is the photo"
    assert "Location: 59.3293, 18.0686" in lines
    assert "Our shop https://shop.example/item/9" in lines
    assert f"Attachment (file) not stored: {graph.url}/files/huge.pdf" in lines


def test_echoes_receipts_and_reactions_are_ignored(url, graph):
    response = post(url, payload("echo_and_receipts.json"))
    assert response.status_code == 200
    assert Message.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert MessengerEvent.objects.get().processed_at is not None
    assert graph.requests == []


def test_a_postback_is_recorded_with_its_title(url, graph):
    response = post(url, payload("postback.json"))
    assert response.status_code == 200
    [message] = _inbound()
    assert message.body_text == "Talk to support"
    assert message.message_id == "m_postback_0001"
    assert Conversation.objects.get().ticket.source == Source.MESSENGER


def test_a_disconnected_page_takes_nothing(url, page, graph):
    from svardesk.channels.messenger.services import disconnect_page

    disconnect_page(page, actor=None)
    response = post(url, payload("text_message.json"))
    assert response.status_code == 403
    assert MessengerEvent.objects.count() == 0


def test_a_failure_while_processing_keeps_the_event_with_its_error_for_a_retry(
    url, page, graph, monkeypatch
):
    from huey.contrib.djhuey import HUEY

    from svardesk.channels.messenger import services
    from svardesk.channels.messenger.tasks import retry_pending_messenger_events

    HUEY.storage.flush_all()
    real_record = services._record
    monkeypatch.setattr(
        services, "_record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db gone"))
    )

    response = post(url, payload("text_message.json"))

    assert response.status_code == 200  # the event is ours: Meta need not send it again
    event = MessengerEvent.objects.get()
    assert (event.processed_at, event.attempts) == (None, 1)
    assert event.error == "RuntimeError: db gone"
    assert Message.objects.count() == 0
    assert HUEY.pending_count() == 1  # the retry task

    monkeypatch.setattr(services, "_record", real_record)
    MessengerEvent.objects.update(received_at=event.received_at - dt.timedelta(minutes=5))
    retry_pending_messenger_events.call_local()
    event.refresh_from_db()
    assert event.processed_at is not None
    assert event.error == ""
    assert len(_inbound()) == 1
    retry_pending_messenger_events.call_local()  # again: nothing twice
    assert len(_inbound()) == 1
    HUEY.storage.flush_all()
