"""Agents' replies on Messenger conversations go out through the Graph Send API (the fake
server checks the wire format), fail visibly with Retry, and respect the 24-hour window."""

import datetime as dt
import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from svardesk.channels.messenger import services
from svardesk.conversations import services as conversation_services
from svardesk.conversations.models import Channel, DeliveryStatus, Message, MessageDirection
from svardesk.conversations.registry import get_adapter
from svardesk.tickets.models import Ticket

from .fake_graph import TOKEN
from .helpers import PSID, text_event

pytestmark = pytest.mark.django_db


def run_scheduled(huey, *, limit: int = 20) -> None:  # type: ignore[no-untyped-def]
    """Run every scheduled (retrying) task now, as the consumer would when each falls due."""
    for _ in range(limit):
        far_future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=365)
        due = huey.read_schedule(far_future)
        if not due:
            break
        for task in due:
            task.eta = None
            huey.execute(task)


@pytest.fixture
def ticket(page, graph) -> Ticket:  # type: ignore[no-untyped-def]
    graph.profiles[PSID] = {"first_name": "Maja", "last_name": "Berg"}
    event = services.store_event(page, text_event("m_first", "Where is my parcel?"))
    outcome = services.process_event(event.pk)
    assert outcome.recorded == 1
    return Message.objects.get(pk=outcome.message_ids[0]).conversation.ticket


def _reply(ticket, agent, capture, **arguments):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        message = conversation_services.send_reply(ticket, actor=agent, **arguments)
    message.refresh_from_db()
    return message


def test_a_reply_goes_out_through_the_send_api(
    ticket, agent, graph, tasks_now, django_capture_on_commit_callbacks
):
    message = _reply(
        ticket, agent, django_capture_on_commit_callbacks, text="It left us today.\nTrack it."
    )

    assert message.delivery_status == DeliveryStatus.SENT
    assert message.delivered_via == "messenger"
    [send] = graph.sends()
    assert send.path == "/v21.0/me/messages"
    assert send.query["access_token"] == [TOKEN]
    assert send.json == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "It left us today.\nTrack it."},
    }


def test_a_reply_with_a_file_uploads_it_in_a_second_call(
    ticket, agent, graph, tasks_now, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("label.pdf", b"%PDF-1.4 label", "application/pdf")
    message = _reply(
        ticket, agent, django_capture_on_commit_callbacks, text="Your label", attachments=[upload]
    )

    assert message.delivery_status == DeliveryStatus.SENT
    text, file = graph.sends()
    assert text.json["message"] == {"text": "Your label"}
    assert file.json is None
    assert file.form["recipient"] == '{"id": "' + PSID + '"}'
    assert '"is_reusable": false' in file.form["message"]
    assert file.files["filedata"] == ("label.pdf", "application/pdf", b"%PDF-1.4 label")


def test_a_long_reply_goes_in_parts_messenger_takes(
    ticket, agent, graph, tasks_now, django_capture_on_commit_callbacks
):
    message = _reply(ticket, agent, django_capture_on_commit_callbacks, text="a" * 4500)
    assert message.delivery_status == DeliveryStatus.SENT
    assert [len(s.json["message"]["text"]) for s in graph.sends()] == [2000, 2000, 500]


def test_a_graph_failure_is_retried_then_not_delivered_and_retry_sends_it(
    ticket, page, agent, graph, tasks_now, django_capture_on_commit_callbacks
):
    graph.fail_sends = 100
    message = _reply(ticket, agent, django_capture_on_commit_callbacks, text="Hello?")
    run_scheduled(tasks_now)

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "Service temporarily unavailable" in message.delivery_error
    assert TOKEN not in message.delivery_error
    assert message.send_attempts == 5
    page.refresh_from_db()
    assert "Service temporarily unavailable" in page.last_graph_error
    state = get_adapter("messenger").state(page.channel)
    assert any("Service temporarily unavailable" in p for p in state.problems)

    graph.fail_sends = 0
    with django_capture_on_commit_callbacks(execute=True):
        conversation_services.retry_delivery(message, actor=agent)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert len(graph.sends()) == 6
    page.refresh_from_db()
    assert page.last_graph_error == ""


def test_an_unreachable_graph_never_puts_the_token_in_the_error(
    ticket, agent, settings, tasks_now, django_capture_on_commit_callbacks
):
    settings.GRAPH_API_URL = "http://127.0.0.1:9"  # nothing listens (discard port)
    message = _reply(ticket, agent, django_capture_on_commit_callbacks, text="Hi")
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert "Graph API unreachable" in message.delivery_error
    assert TOKEN not in message.delivery_error


def test_outside_the_24_hour_window_the_reply_is_refused_with_the_reason(
    ticket, agent, graph, django_capture_on_commit_callbacks
):
    Message.objects.filter(direction=MessageDirection.INBOUND).update(
        created_at=timezone.now() - dt.timedelta(days=3)
    )
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(conversation_services.ReplyValidationError) as refused,
    ):
        conversation_services.send_reply(ticket, actor=agent, text="Sorry for the wait")

    assert refused.value.errors["channel"] == (
        "Messenger lets a Page reply only within 24 hours of the person's last message "
        "(last: 3\xa0days ago). Reply on another channel, or add a comment."
    )
    assert callbacks == []
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 0
    assert graph.sends() == []


def test_inside_the_window_the_editor_shows_no_reason(ticket):
    conversation = ticket.conversations.get()
    adapter = get_adapter("messenger")
    assert adapter.reply_blocked_reason(conversation, now=timezone.now()) == ""
    later = timezone.now() + dt.timedelta(hours=23)
    assert adapter.reply_blocked_reason(conversation, now=later) == ""


def test_the_channel_state_names_the_last_message(ticket, page):
    state = get_adapter("messenger").state(Channel.objects.get(pk=page.channel_id))
    assert state.last_received_at is not None
    assert state.problems == []
    assert state.settings_url == f"/settings/channels/messenger/{page.channel_id}/"


def test_the_ticket_page_says_why_no_reply_can_be_sent(ticket, agent, client):
    Message.objects.filter(direction=MessageDirection.INBOUND).update(
        created_at=timezone.now() - dt.timedelta(days=2)
    )
    client.force_login(agent)
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 200
    assert (
        "Messenger lets a Page reply only within 24 hours of the person's last message "
        "(last: 2\xa0days ago)."
    ) in html.unescape(response.content.decode())


def test_graph_is_reached_through_the_proxy_the_environment_names(monkeypatch):
    """As requests chose: HTTPS_PROXY for an https host, unless NO_PROXY names it."""
    import urllib3

    from svardesk.channels.messenger import graph as graph_api

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    graph_api._pool.cache_clear()
    try:
        through = graph_api._pool("https", "graph.facebook.com")
        assert isinstance(through, urllib3.ProxyManager)
        assert through.proxy is not None
        assert through.proxy.host == "proxy.example"
        direct = graph_api._pool("https", "internal.example")
        assert not isinstance(direct, urllib3.ProxyManager)
    finally:
        graph_api._pool.cache_clear()
