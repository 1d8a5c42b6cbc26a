"""The SLA flow of issue 12 in a real browser at 1280x720: a super admin sets a 1-hour
first-response goal on Settings → SLAs, a customer's email arrives through the email
channel's real ingest, and a list showing the SLA status column reads On track; the real
sweep, run with an advanced clock, turns it Due soon, then Overdue, as the list shows."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from playwright.sync_api import expect

from svardesk.channels.email.tests.corpus import build_raw, connect, ingest
from svardesk.sla.models import SlaSettings
from svardesk.sla.sweep import sweep
from svardesk.tickets.models import SlaStatus, Ticket
from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL = {"width": 1280, "height": 720}
STATUS = "sla_first_response_status"
# The list with the first-response SLA status as a column, most urgent first.
LIST = f"/tickets/?col=name&col={STATUS}&col=sla_first_response_due&sort={STATUS}"


def off_thread(work):  # type: ignore[no-untyped-def]
    """Run `work` as the SMTP receiver or the worker would: off the test thread, whose
    Playwright event loop would stop the live-update broadcast (async_to_sync)."""

    def run():  # type: ignore[no-untyped-def]
        try:
            return work()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def status_cell(page):  # type: ignore[no-untyped-def]
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="The printer is broken"))
    return row.locator(f"td.col-{STATUS}")


def test_a_new_email_ticket_is_on_track_then_due_soon_then_overdue_in_the_list(
    page, screenshot, settings, tmp_path
):  # type: ignore[no-untyped-def]
    from svardesk.channels.email.tests.corpus import CORPUS_SECRET

    settings.SECRET_KEY = CORPUS_SECRET  # the corpus signs its channel addresses with it
    settings.MEDIA_ROOT = tmp_path / "media"
    UserFactory(email="ada@example.com", is_superuser=True, is_staff=True)
    channel = connect()
    page.set_viewport_size(SMALL)
    log_in(page, "ada@example.com")

    # Settings → SLAs: goals on, around the clock, first response within 1 hour.
    page.goto("/settings/sla/")
    page.get_by_label("SLA goals are on").check()
    page.get_by_label("24/7").check()
    page.get_by_label("Time to first response", exact=True).fill("1")
    page.get_by_label("Time to first response: unit", exact=True).select_option("hours")
    page.get_by_role("button", name="Save: apply to new tickets only").click()
    expect(page.get_by_text("SLA settings saved.")).to_be_visible()
    row = SlaSettings.objects.get()
    assert (row.is_enabled, row.applies, row.first_response_seconds) == (True, "always", 3600)

    # A customer writes in through the connected mailbox.
    inbound = off_thread(
        lambda: ingest(channel, build_raw(subject="The printer is broken", message_id="<p1@kund>"))
    )
    ticket = Ticket.objects.get(pk=inbound.recorded_message.conversation.ticket_id)
    assert ticket.sla_first_response_due == ticket.created_at + dt.timedelta(hours=1)

    page.goto(LIST)
    expect(page.get_by_role("columnheader", name="First response SLA status")).to_be_visible()
    cell = status_cell(page)
    expect(cell).to_have_text("On track")
    expect(cell.locator(".badge.sla-on_track")).to_be_visible()
    screenshot("sla-flow-on-track-1280")

    # 50 minutes later (the default warning: 15 minutes before the due time): Due soon.
    later = ticket.created_at + dt.timedelta(minutes=50)
    result = off_thread(lambda: sweep(now=later))
    assert (result.due_soon, result.overdue) == (1, 0)
    page.reload()
    expect(status_cell(page)).to_have_text("Due soon")
    expect(status_cell(page).locator(".badge.sla-due_soon")).to_be_visible()
    screenshot("sla-flow-due-soon-1280")

    # Past the hour: Overdue — in the list and in the ticket's header.
    later = ticket.created_at + dt.timedelta(minutes=61)
    result = off_thread(lambda: sweep(now=later))
    assert (result.due_soon, result.overdue) == (0, 1)
    page.reload()
    expect(status_cell(page)).to_have_text("Overdue")
    expect(status_cell(page).locator(".badge.sla-overdue")).to_be_visible()
    screenshot("sla-flow-overdue-1280")

    # The SLA status is a filter too: the advanced filter finds the overdue ticket.
    page.get_by_text("Advanced filters").click()
    page.get_by_label("Property").select_option(label="First response SLA status")
    page.locator(".criteria").get_by_label("Overdue").check()
    page.get_by_role("button", name="Apply").first.click()
    expect(page.get_by_text("First response SLA status is any of Overdue")).to_be_visible()
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(status_cell(page)).to_have_text("Overdue")

    page.get_by_role("link", name="The printer is broken").click()
    expect(page.locator(".ticket-title .badge.sla-overdue")).to_have_text("First response: Overdue")
    screenshot("sla-flow-ticket-header-1280")
    assert Ticket.objects.get(pk=ticket.pk).sla_first_response_status == SlaStatus.OVERDUE
