"""Logging a call in the workspace: ticket "…" → Log a call → fill the dialog → Log call; the
panel closes, a toast says so and the call is in the thread."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.tickets.models import TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket
from tests.browser.conftest import log_in
from tests.factories import default_pipeline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_dialog(page):  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Log a call").click()
    dialog = page.get_by_role("dialog", name=re.compile(r"^Log a call on ticket #\d+"))
    expect(dialog).to_be_visible()
    return dialog


def test_an_agent_logs_a_call_and_sees_it_in_the_thread(page, agent, screenshot):
    page.set_viewport_size({"width": 1280, "height": 720})
    ticket = create_ticket(actor=None, name="Router keeps dropping", pipeline=default_pipeline())
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")

    dialog = _open_dialog(page)

    # The focus starts on the first field; the submit button is in view without scrolling.
    expect(dialog.get_by_role("radio", name="Outbound")).to_be_focused()
    submit = dialog.get_by_role("button", name="Log call")
    expect(submit).to_be_in_viewport()
    box = submit.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 720
    screenshot("ticket-log-call-dialog")

    # A duration that does not parse is refused next to its field, and nothing is logged.
    dialog.get_by_label("Outcome").select_option(label="Connected")
    dialog.get_by_label("Duration").fill("4:75")
    submit.click()
    dialog = page.get_by_role("dialog", name=re.compile(r"^Log a call"))
    expect(dialog.get_by_text("Seconds and minutes after a colon go up to 59.")).to_be_visible()
    expect(dialog.get_by_label("Duration")).to_be_focused()
    assert not TicketEvent.objects.filter(kind=TicketEventKind.CALL).exists()

    dialog.get_by_label("Duration").fill("4:05")
    dialog.get_by_label("Notes").fill("Restarted the router.\nCall back on Friday.")
    dialog.get_by_role("button", name="Log call").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Call logged.")
    # The keyboard focus returns to the menu the dialog was opened from.
    expect(page.get_by_role("button", name="More actions")).to_be_focused()
    line = page.locator(".thread-items .event", has_text="logged an outbound call")
    expect(line).to_contain_text("Anna Agent logged an outbound call · Connected · 4:05")
    expect(line.locator(".call-notes")).to_have_text(
        "Restarted the router.\nCall back on Friday.", use_inner_text=True
    )
    event = TicketEvent.objects.get(kind=TicketEventKind.CALL)
    assert event.ticket_id == ticket.pk
    assert event.data["duration_seconds"] == 245
    screenshot("ticket-log-call-thread")


def test_escape_closes_the_dialog_without_logging(page, agent):
    page.set_viewport_size({"width": 1366, "height": 768})
    ticket = create_ticket(actor=None, name="Wrong number", pipeline=default_pipeline())
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")

    dialog = _open_dialog(page)
    # At 1366x768 too, the dialog's button is in view.
    expect(dialog.get_by_role("button", name="Log call")).to_be_in_viewport()
    dialog.get_by_label("Notes").fill("Nobody there")
    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_have_count(0)
    assert not TicketEvent.objects.filter(kind=TicketEventKind.CALL).exists()
