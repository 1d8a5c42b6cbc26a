"""Merging two tickets in the workspace: ticket "…" → Merge ticket → find the other ticket →
choose the primary → Merge; the browser lands on the new ticket and both old addresses lead
there."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from svardesk.tickets.models import Ticket, TicketRedirect
from svardesk.tickets.services import create_ticket
from tests.browser.conftest import log_in
from tests.factories import default_pipeline

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ticket(name: str, **kwargs: object) -> Ticket:
    return create_ticket(actor=None, name=name, pipeline=default_pipeline(), **kwargs)


def _search(page, search, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type into the dialog's search until it searches: a warm browser can type before htmx
    has attached the as-you-type listener to the dialog it just inserted."""
    for _attempt in range(5):
        try:
            with page.expect_response(
                lambda r: f"/merge/candidates/?q={text}" in r.url, timeout=3_000
            ):
                search.fill("")
                search.fill(text)
        except PlaywrightTimeoutError:
            continue
        return
    raise AssertionError("the merge dialog never searched")


def test_an_agent_merges_two_tickets_and_the_old_addresses_redirect(page, agent, screenshot):
    page.set_viewport_size({"width": 1280, "height": 720})
    this = _ticket("Printer on fire", description="Smoke from the tray")
    other = _ticket("Printer smells of smoke", priority="HIGH")
    log_in(page, agent.email)
    page.goto(f"/tickets/{this.pk}/")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Merge ticket").click()

    dialog = page.get_by_role("dialog", name=f"Merge ticket #{this.pk}")
    expect(dialog).to_be_visible()
    search = dialog.get_by_label("Find the ticket to merge with")
    _search(page, search, "printer")
    results = dialog.get_by_role("group", name="Ticket to merge with")
    # The matching tickets the agent may see, this one left out.
    expect(results.get_by_role("radio")).to_have_count(1)
    choice = results.get_by_role("radio", name=re.compile(r"^#\d+ Printer smells of smoke"))
    expect(choice).to_be_visible()
    choice.check()
    dialog.get_by_role("radio", name=re.compile(r"^This ticket")).check()
    expect(dialog.get_by_role("heading", name="What happens when you merge")).to_be_visible()
    merge = dialog.get_by_role("button", name="Merge", exact=True)
    # The dialog fits the window: its buttons are in view without scrolling the page.
    expect(merge).to_be_in_viewport()
    box = merge.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= 720
    screenshot("ticket-merge-dialog")

    merge.click()

    # The new ticket opens (a loaded machine may take a while to merge).
    expect(page).to_have_url(re.compile(rf"/tickets/(?!{this.pk}/)\d+/$"), timeout=30_000)
    merged = Ticket.objects.get()
    assert merged.pk not in (this.pk, other.pk)
    assert page.url.endswith(f"/tickets/{merged.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Printer on fire")
    expect(page.locator(".ticket-id")).to_have_text(f"#{merged.pk}")
    expect(page.get_by_text(re.compile(r"merged #\d+ .* into this ticket"))).to_be_visible()
    assert merged.priority == "HIGH"  # empty on the primary: the other's
    assert set(TicketRedirect.objects.values_list("old_id", flat=True)) == {this.pk, other.pk}

    for old in (this.pk, other.pk):
        page.goto(f"/tickets/{old}/")
        assert page.url.endswith(f"/tickets/{merged.pk}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Printer on fire")


def test_cancel_closes_the_dialog_without_merging(page, agent):
    this = _ticket("Keep me")
    _ticket("And me")
    log_in(page, agent.email)
    page.goto(f"/tickets/{this.pk}/")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Merge ticket").click()
    dialog = page.get_by_role("dialog", name=f"Merge ticket #{this.pk}")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()

    expect(dialog).to_have_count(0)
    assert Ticket.objects.count() == 2
