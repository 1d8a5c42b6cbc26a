"""The reply editor follows the conversation's channel, in a real browser: on a channel without
rich text, To/Cc/Bcc or attachments (a fake one registered in the test) the agent gets a
labelled plain textarea, sends with Ctrl+Enter, and the thread names each message's channel;
on an email conversation the rich editor and recipients stay. Send stays in view at 1280x720."""

import datetime as dt
import time
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from svardesk.conversations import registry
from svardesk.conversations.models import (
    Channel,
    Conversation,
    Message,
    MessageDirection,
)
from svardesk.conversations.registry import Capabilities, ChannelAdapter, OutboundFields
from svardesk.conversations.services import help_desk_inbox
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket
from tests.browser.conftest import log_in
from tests.factories import ContactFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KIND = "test_chat"


class PlainChannel(ChannelAdapter):
    kind = KIND
    label = "Test chat"
    capabilities = Capabilities()  # plain text, no recipients, no files
    delivers_immediately = True

    def __init__(self) -> None:
        self.delivered: list[str] = []
        self.compose_seconds = 0.0

    def compose_reply(self, conversation, *, actor, body_text, parent):  # type: ignore[no-untyped-def]
        time.sleep(self.compose_seconds)  # a slow server: the reply stays on its way
        return OutboundFields(to=["Visitor"], message_id=f"test-{uuid.uuid4().hex}")

    def deliver(self, message):  # type: ignore[no-untyped-def]
        self.delivered.append(message.body_text)
        return "test-chat"


@pytest.fixture
def plain_channel():  # type: ignore[no-untyped-def]
    adapter = PlainChannel()
    registry.register(adapter)
    yield adapter
    registry.unregister(KIND)


def _chat_ticket() -> Conversation:
    inbox = help_desk_inbox()  # made again after a transactional test's flush
    channel = Channel.objects.create(inbox=inbox, kind=KIND, name="Website chat")
    contact = ContactFactory(first_name="Vera", last_name="Visitor", email="vera@kund.example")
    ticket = TicketFactory(name="Do you ship to Lund?", contact=contact, source="CHAT")
    when = timezone.now() - dt.timedelta(minutes=3)
    conversation = Conversation.objects.create(
        channel=channel, inbox=inbox, ticket=ticket, contact=contact, last_message_at=when
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.INBOUND,
        contact=contact,
        sender_name="Vera Visitor",
        body_text="Do you ship to Lund?",
        message_id="visitor-1",
        created_at=when,
    )
    return conversation


def test_a_plain_text_channel_gets_a_textarea_and_ctrl_enter_sends(
    page, agent, plain_channel, screenshot
):
    conversation = _chat_ticket()
    ticket = conversation.ticket
    log_in(page, agent.email)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"/tickets/{ticket.pk}/")

    reply = page.locator("[data-pane=reply]")
    text = reply.get_by_label("Reply text")
    expect(text).to_be_visible()
    expect(reply.get_by_role("button", name="Cc/Bcc")).to_have_count(0)
    expect(reply.get_by_label("To", exact=True)).to_have_count(0)
    expect(reply.get_by_text("Attach files")).to_have_count(0)
    expect(reply.locator("[data-reply-channel]")).to_have_text("Test chat")
    send = reply.get_by_role("button", name="Send", exact=True)
    expect(send).to_be_in_viewport()
    thread = page.locator(f"#thread-{ticket.pk}")
    expect(thread.locator(f'[data-message-channel="{KIND}"]')).to_have_text("Test chat")
    expect(thread.locator(".msg-inbound .msg-address")).to_have_count(0)  # a chat has no address
    screenshot("reply-editor-plain-channel-1280")

    text.fill("Yes, we ship <b>everywhere</b> in Sweden.")
    text.press("Control+Enter")

    expect(thread.locator(".msg-outbound")).to_have_count(1)
    expect(thread.locator(".msg-outbound .msg-body")).to_have_text(
        "Yes, we ship <b>everywhere</b> in Sweden."
    )
    expect(page.locator("[data-pane=reply]").get_by_label("Reply text")).to_have_value("")
    assert plain_channel.delivered == ["Yes, we ship <b>everywhere</b> in Sweden."]


def test_an_email_conversation_keeps_the_rich_editor_and_recipients(page, agent, screenshot):
    ticket, _conversation, _inbound = email_ticket(channel=connect_channel())
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    reply = page.locator("[data-pane=reply]")
    expect(reply.locator(".ql-editor")).to_be_visible()
    expect(reply.get_by_label("To", exact=True)).to_have_value("Åsa Lindqvist <asa@kund.example>")
    expect(reply.get_by_text("Attach files")).to_be_visible()
    expect(reply.locator("[data-reply-channel]")).to_have_text("Email")
    expect(page.locator('[data-message-channel="email"]')).to_have_count(1)
    screenshot("reply-editor-email-1366")


def test_a_live_refresh_while_a_reply_is_on_its_way_keeps_the_editor(page, agent, plain_channel):
    """The ticket changes (a visitor writes) while the agent's reply is still on its way: the
    refresh waits for the reply's answer, so the editor is still there afterwards."""
    plain_channel.compose_seconds = 1.5
    ticket = _chat_ticket().ticket
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    text = page.locator("[data-pane=reply]").get_by_label("Reply text")
    text.fill("On my way")
    page.locator("[data-pane=reply]").get_by_role("button", name="Send", exact=True).click()
    page.evaluate(
        "id => document.dispatchEvent(new CustomEvent('svardesk:ticket-changed', "
        "{detail: {ticketId: id}}))",
        ticket.pk,
    )
    thread = page.locator(f"#thread-{ticket.pk}")
    expect(thread.locator(".msg-outbound")).to_have_count(1)
    page.wait_for_timeout(1500)  # the postponed refresh has landed too
    expect(page.locator("[data-composer]")).to_have_count(1)
    expect(page.locator("[data-pane=reply]").get_by_label("Reply text")).to_be_visible()
