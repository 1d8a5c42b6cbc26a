"""An email arrives, the agent answers it in a real browser, the customer's answer threads
back into the same ticket. Mail goes out through a real SMTP server."""

import re
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from svardesk.channels.email.ingest import process_inbound_email_now, receive_raw_email
from svardesk.channels.email.services import connect_email_channel
from svardesk.conversations.models import DeliveryStatus, Message, MessageDirection, Notification
from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAM = "support@acme.test"


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def customer_email(subject: str, text: str, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Åsa Lindqvist <asa@kund.example>"
    message["To"] = TEAM
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain="kund.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message.as_bytes()


def deliver(channel, raw: bytes) -> None:  # type: ignore[no-untyped-def]
    """Receive and process a message as the SMTP receiver would: off the test thread, whose
    Playwright event loop would stop the live-update broadcast (async_to_sync)."""

    def run() -> None:
        try:
            inbound = receive_raw_email(channel=channel, raw=raw, via="smtp")
            process_inbound_email_now(inbound.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def test_email_reply_and_customer_answer_thread_into_one_ticket(
    page, screenshot, agent, smtp_server, tasks_now
):
    channel = connect_email_channel(actor=None, address=TEAM, display_name="Acme Support").channel
    deliver(
        channel,
        customer_email("Printer on fire", "Hello,\n\nmy printer is on fire. What do I do?\n\nÅsa"),
    )
    ticket = Ticket.objects.get()

    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    thread = page.locator(f"#thread-{ticket.pk}")
    expect(thread.locator(".msg-inbound")).to_contain_text("my printer is on fire")
    expect(page.get_by_label("To", exact=True)).to_have_value("Åsa Lindqvist <asa@kund.example>")

    # Write a reply with bold text from the toolbar, and send it.
    editor = page.locator("[data-pane=reply] .ql-editor")
    editor.click()
    page.keyboard.type("Unplug it now. ")
    page.get_by_role("button", name="Bold").first.click()
    page.keyboard.type("Do not use water")
    page.get_by_role("button", name="Bold").first.click()
    page.keyboard.type(".")
    page.get_by_role("button", name="Send", exact=True).click()

    reply = thread.locator(".msg-outbound")
    expect(reply).to_contain_text("Unplug it now.")
    expect(reply.locator(".msg-body strong")).to_have_text("Do not use water")
    expect(reply.locator("[data-delivery-status]")).to_have_text(re.compile("Sent"))
    expect(page.locator("[data-pane=reply] .ql-editor")).to_have_text("")  # cleared after sending
    expect(page.get_by_label("Status", exact=True)).to_have_value(
        str(ticket.pipeline.stages.get(name="Waiting on contact").pk)
    )

    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    html_part = sent.get_body(("html",)).get_content()
    assert re.search(r"<(strong|b)>Do not use water</(strong|b)>", html_part)
    assert sent["To"] == "Åsa Lindqvist <asa@kund.example>"
    outbound = Message.objects.get(direction=MessageDirection.OUTBOUND)
    assert outbound.delivery_status == DeliveryStatus.SENT
    assert sent["Message-ID"] == outbound.message_id
    screenshot("en-ticket-conversation")

    # The customer answers from their mail program: it lands in the same ticket...
    deliver(
        channel,
        customer_email(
            f"Re: Printer on fire [#{ticket.pk}]",
            "It worked, thank you!\n\n> Unplug it now. Do not use water.",
            In_Reply_To=sent["Message-ID"],
            References=sent["Message-ID"],
        ),
    )
    assert Ticket.objects.count() == 1
    answer = Message.objects.filter(direction=MessageDirection.INBOUND).latest("pk")
    assert answer.conversation.ticket_id == ticket.pk

    # ...and the open ticket shows it without a reload when the workspace hears of the change
    # (what app.js does on a "ticket.changed" WebSocket message).
    page.evaluate(
        "id => document.body.dispatchEvent(new CustomEvent('svardesk:ticket-changed',"
        " {bubbles: true, detail: {ticketId: id}}))",
        ticket.pk,
    )
    expect(thread.locator(".msg-inbound").last).to_contain_text("It worked, thank you!")
    expect(thread.locator(".msg-inbound").last.locator("details.msg-quoted")).to_have_count(1)
    expect(page.get_by_label("Status", exact=True)).to_have_value(
        str(ticket.pipeline.stages.get(name="Waiting on us").pk)
    )
    screenshot("en-ticket-conversation-answered")


def test_comment_with_mention_and_resizing_the_editor(page, screenshot, agent, super_admin):
    channel = connect_email_channel(actor=None, address=TEAM, display_name="Acme Support").channel
    deliver(channel, customer_email("Invoice twice", "I was charged twice."))
    ticket = Ticket.objects.get()
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")

    # Drag the handle up: the editor grows.
    container = page.locator("[data-pane=reply] .ql-container")
    before = container.bounding_box()["height"]
    handle = page.get_by_role("separator", name="Resize the editor")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] - 120, steps=8)
    page.mouse.up()
    after = container.bounding_box()["height"]
    assert after == pytest.approx(before + 120, abs=12)

    # A draft survives an edit of the ticket's fields (the header re-renders around it).
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("Draft that must survive")
    page.get_by_label("Priority", exact=True).select_option(label="High")
    expect(page.get_by_text(re.compile("changed Priority from — to High"))).to_be_visible()
    expect(page.locator("[data-pane=reply] .ql-editor")).to_have_text("Draft that must survive")

    # Comment tab: @mention a teammate from the suggestions.
    page.get_by_role("tab", name="Comment").click()
    comment = page.locator("[data-pane=comment] .ql-editor")
    comment.click()
    page.keyboard.type("Please check the refund @Ad")
    suggestions = page.get_by_role("listbox", name="Teammates to mention")
    option = suggestions.get_by_role("option", name=re.compile("Ada Admin"))
    expect(option).to_be_visible()
    screenshot("en-ticket-comment-mention")
    page.keyboard.press("Enter")
    expect(comment).to_contain_text("@Ada Admin")
    page.get_by_role("button", name="Add comment").click()

    note = page.locator(f"#thread-{ticket.pk} .msg-comment")
    expect(note).to_contain_text("Please check the refund @Ada Admin")
    notification = Notification.objects.get()
    assert (notification.user, notification.actor) == (super_admin, agent)
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()


def test_ticket_shows_who_else_is_viewing_or_replying(page, agent, super_admin):
    """The page's side of presence (the consumer is tested in conversations/tests): it joins
    the open ticket and shows what the socket reports about other agents."""
    from tests.factories import ContactFactory, TicketFactory

    connect_email_channel(actor=None, address=TEAM)
    ticket = TicketFactory(name="Shared ticket", contact=ContactFactory(email="p@kund.example"))
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.get_by_role("tab", name="Reply")).to_be_visible()
    # Stand in for the socket: record what the page sends, then reconnect.
    page.evaluate(
        "() => { window.sent = []; window.svardeskLiveSend = m => { window.sent.push(m); return true; };"
        " document.body.dispatchEvent(new CustomEvent('svardesk:live-open', {bubbles: true})); }"
    )
    assert page.evaluate("window.sent") == [
        {"type": "presence.join", "ticket_id": ticket.pk, "ask": True}
    ]

    def socket_says(state: str, user_id: int, name: str) -> None:
        page.evaluate(
            "d => document.body.dispatchEvent(new CustomEvent('svardesk:live', {bubbles: true,"
            " detail: d}))",
            {
                "type": "presence",
                "ticket_id": ticket.pk,
                "user_id": user_id,
                "name": name,
                "state": state,
                "ask": state == "viewing",
            },
        )

    presence = page.locator("[data-presence]")
    socket_says("viewing", super_admin.pk, "Ada Admin")
    expect(presence).to_have_text("Ada Admin viewing")
    # Asked who is here, the page answers for its agent.
    assert page.evaluate("window.sent")[-1] == {
        "type": "presence.join",
        "ticket_id": ticket.pk,
        "ask": False,
    }
    socket_says("replying", super_admin.pk, "Ada Admin")
    expect(presence).to_have_text("Ada Admin replying…")
    socket_says("viewing", agent.pk, "Anna Agent")  # my own other tab: not shown
    expect(presence).to_have_text("Ada Admin replying…")
    socket_says("left", super_admin.pk, "Ada Admin")
    expect(presence).to_have_text("")

    # Typing in the reply editor tells the others.
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("Hi")
    assert {"type": "presence.typing", "ticket_id": ticket.pk, "tab": "reply"} in page.evaluate(
        "window.sent"
    )


def test_reply_status_follows_a_worker_in_another_process(page, agent, smtp_server):
    """The worker that sends may not share the web server's channel layer: the thread asks
    for the status itself while a reply is on its way."""
    from huey.contrib.djhuey import HUEY

    from svardesk.conversations.services import deliver_email_message

    channel = connect_email_channel(actor=None, address=TEAM).channel
    deliver(channel, customer_email("Where is my order?", "Order 1234 has not arrived."))
    ticket = Ticket.objects.get()
    HUEY.storage.flush_all()
    try:
        log_in(page, agent.email)
        page.goto(f"/tickets/{ticket.pk}/")
        page.locator("[data-pane=reply] .ql-editor").click()
        page.keyboard.type("It ships today.")
        page.keyboard.press("Control+Enter")
        status = page.locator(f"#thread-{ticket.pk} .msg-outbound [data-delivery-status]")
        expect(status).to_have_text("Sending…")
        outbound = Message.objects.get(direction=MessageDirection.OUTBOUND)

        # The worker sends it (here: another thread, as the consumer would).
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert (
                pool.submit(
                    lambda: deliver_email_message(outbound.pk, is_final_attempt=True)
                ).result()
                == "sent"
            )
        expect(status).to_have_text(re.compile("Sent"), timeout=8000)
        assert len(smtp_server.messages) == 1
    finally:
        HUEY.storage.flush_all()
