"""Moving a conversation between inboxes: a super admin moves a ticket's conversation to a
conversations inbox (ticket "…" → Move to another inbox), sees it leave the ticket's thread
and arrive in the inbox's list, then moves it back from the inbox's thread page and sees it on
the ticket again."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.conversations.models import Conversation, Inbox, InboxKind
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket
from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _button_in_window(button, height: int) -> None:  # type: ignore[no-untyped-def]
    expect(button).to_be_in_viewport()
    box = button.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= height


def test_a_super_admin_moves_a_conversation_out_and_back(page, super_admin, screenshot):
    page.set_viewport_size({"width": 1280, "height": 720})
    sales = Inbox.objects.create(name="Sales leads", kind=InboxKind.CONVERSATIONS)
    ticket, conversation, inbound = email_ticket(
        channel=connect_channel(), subject="Bulk order of printers"
    )
    help_desk_id = conversation.inbox_id
    log_in(page, super_admin.email)
    page.goto(f"/tickets/{ticket.pk}/")
    message = page.locator(f"#message-{inbound.pk}")
    expect(message).to_be_visible()

    # Ticket "…" → Move to another inbox
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Move to another inbox").click()
    dialog = page.get_by_role("dialog", name="Move to another inbox")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Move to").select_option(label="Sales leads")
    dialog.get_by_label("Assign to (optional)").select_option(value=str(super_admin.pk))
    dialog.get_by_label("Comment (optional)").fill("A sales lead, not support.")
    move = dialog.get_by_role("button", name="Move", exact=True)
    _button_in_window(move, 720)
    screenshot("move-conversation-dialog")
    move.click()

    # It leaves the ticket's thread; the move is on the timeline; the ticket stays
    expect(page.locator("#toasts")).to_contain_text("Conversation moved to Sales leads.")
    expect(message).to_have_count(0)
    expect(
        page.get_by_text(re.compile(r"moved the conversation .* to Sales leads"))
    ).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bulk order of printers")
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == sales.pk
    screenshot("ticket-after-moving-its-conversation")

    # It arrives in the inbox's list (the sidebar names the inbox)
    page.locator(".sidebar-inboxes").get_by_role("link", name=re.compile("Sales leads")).click()
    expect(page).to_have_url(re.compile(rf"/inboxes/{sales.pk}/$"))
    row = page.locator(f'tr[data-conversation="{conversation.pk}"]')
    expect(row).to_contain_text("Bulk order of printers")
    expect(row).to_contain_text(super_admin.display_name)
    screenshot("conversations-inbox-list")

    # Moved back from the inbox's thread page
    row.get_by_role("link", name="Bulk order of printers").click()
    expect(page).to_have_url(re.compile(rf"/inboxes/{sales.pk}/conversations/{conversation.pk}/$"))
    expect(page.get_by_text("A sales lead, not support.")).to_be_visible()
    screenshot("conversations-inbox-thread")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Move to another inbox").click()
    dialog = page.get_by_role("dialog", name="Move to another inbox")
    dialog.get_by_label("Move to").select_option(value=str(help_desk_id))
    move = dialog.get_by_role("button", name="Move", exact=True)
    _button_in_window(move, 720)
    move.click()

    # The ticket again, with the conversation's messages back in its thread
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket.pk}/$"), timeout=30_000)
    expect(page.locator(f"#message-{inbound.pk}")).to_be_visible()
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == help_desk_id
    assert Ticket.objects.count() == 1
    page.goto(f"/inboxes/{sales.pk}/")
    expect(page.get_by_text("No conversations in this inbox yet.")).to_be_visible()


def test_the_dialog_fits_a_1366x768_window(page, super_admin):
    page.set_viewport_size({"width": 1366, "height": 768})
    Inbox.objects.create(name="Försäljning och offertförfrågningar", kind=InboxKind.CONVERSATIONS)
    ticket, _conversation, _inbound = email_ticket(channel=connect_channel())
    log_in(page, super_admin.email)
    page.goto(f"/tickets/{ticket.pk}/")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Move to another inbox").click()

    dialog = page.get_by_role("dialog", name="Move to another inbox")
    _button_in_window(dialog.get_by_role("button", name="Move", exact=True), 768)
    _button_in_window(dialog.get_by_role("button", name="Cancel"), 768)
