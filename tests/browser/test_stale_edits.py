"""Stale edits and double sends in a real browser: a reply whose response was lost is sent
once when the agent presses Send again, and a bulk action leaves alone (and names) a ticket
someone changed after the list was shown."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.conversations.models import Message, MessageDirection
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket
from svardesk.tickets.models import Ticket
from svardesk.tickets.services import update_ticket
from tests.browser.conftest import log_in
from tests.factories import TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


def test_a_reply_sent_again_after_a_lost_response_goes_out_once(
    page, agent, smtp_server, tasks_now
):
    ticket, _conversation, _inbound = email_ticket(channel=connect_channel())
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    token = page.locator("[data-pane=reply] [data-draft-token]")
    first_token = token.input_value()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", first_token)

    # The server takes the first Send, but its answer never reaches the browser.
    lost = []

    def lose_first_answer(route):  # type: ignore[no-untyped-def]
        if not lost:
            lost.append(route.fetch().status)
            route.abort()
        else:
            route.continue_()

    page.route(f"**/tickets/{ticket.pk}/reply/", lose_first_answer)
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("Unplug it now.")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled()
    assert lost == [200]
    expect(page.locator("[data-pane=reply] .ql-editor")).to_have_text("Unplug it now.")

    page.get_by_role("button", name="Send", exact=True).click()  # the agent tries again

    thread = page.locator(f"#thread-{ticket.pk}")
    expect(thread.locator(".msg-outbound")).to_have_count(1)
    expect(page.locator("[data-pane=reply] .ql-editor")).to_have_text("")
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1
    assert len(smtp_server.messages) == 1
    # The next draft is a new one.
    assert token.input_value() not in ("", first_token)

    # A draft kept across a reload keeps its token.
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("One more thing")
    draft_token = token.input_value()
    page.wait_for_timeout(600)  # the draft is saved 400 ms after typing stops
    page.reload()
    expect(page.locator("[data-pane=reply] .ql-editor")).to_have_text("One more thing")
    assert page.locator("[data-pane=reply] [data-draft-token]").input_value() == draft_token


def test_bulk_action_leaves_a_ticket_changed_after_listing_alone(page, agent, super_admin):
    TicketFactory(name="Alpha", priority="LOW")
    beta = TicketFactory(name="Beta", priority="LOW")
    log_in(page, agent.email)
    page.goto("/tickets/?sort=name")
    rows = page.locator(".ticket-row")
    expect(rows).to_have_count(2)
    rows.nth(0).locator("input[type=checkbox]").check()
    rows.nth(1).locator("input[type=checkbox]").check()

    update_ticket(beta.pk, actor=super_admin, changes={"priority": "HIGH"})  # meanwhile

    page.get_by_label("Set priority").select_option("URGENT")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Updated 1 ticket.")).to_be_visible()
    expect(page.get_by_text(re.compile(rf"left alone: #{beta.pk}\."))).to_be_visible()
    assert dict(Ticket.objects.values_list("name", "priority")) == {
        "Alpha": "URGENT",
        "Beta": "HIGH",
    }
