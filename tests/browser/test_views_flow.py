"""Custom views and the list toolbar, as agents use them in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.ticket_views.models import CustomView
from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in
from tests.factories import ContactFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_team_view_with_two_filters(page, screenshot, support_team, billing_team):
    manager = UserFactory(
        email="maja@svardesk.test", first_name="Maja", last_name="Manager",
        can_manage_views=True, teams=[support_team],
    )  # fmt: skip
    member = UserFactory(email="member@svardesk.test", teams=[support_team])
    outsider = UserFactory(email="outsider@svardesk.test", teams=[billing_team])
    TicketFactory(name="Support is down", team=support_team, priority="URGENT")
    TicketFactory(name="Support is slow", team=support_team, priority="HIGH")
    TicketFactory(name="Support question", team=support_team, priority="LOW")
    TicketFactory(name="Billing is down", team=billing_team, priority="URGENT")

    log_in(page, manager.email)
    page.get_by_role("link", name="+ Create view").click()
    page.get_by_label("View name").fill("Support on fire")
    page.get_by_label("Team(s)", exact=True).check()
    page.get_by_role("group", name="Teams (for “Team(s)”)").get_by_label("Support").check()
    # First filter: priority is any of High, Urgent.
    page.get_by_label("Property").select_option(label="Priority")
    page.locator(".criteria").get_by_label("High").check()
    page.locator(".criteria").get_by_label("Urgent").check()
    page.get_by_role("button", name="Add filter").click()
    expect(page.get_by_text("Priority is any of High, Urgent")).to_be_visible()
    # Let the editor's swap settle before picking the next property, as a person would.
    page.wait_for_load_state("networkidle")
    # AND a second: team is my team.
    page.get_by_label("Property").select_option(label="Team")
    page.wait_for_load_state("networkidle")
    page.locator(".criteria").get_by_label("My team").check()
    page.get_by_role("button", name="AND", exact=True).click()
    expect(page.get_by_text("Team is any of my team")).to_be_visible()
    screenshot("en-view-editor")
    page.get_by_role("button", name="Create view").click()
    page.wait_for_url(re.compile(r"/views/custom-\d+/$"))
    view = CustomView.objects.get()
    assert view.sharing == "teams"
    assert list(view.teams.all()) == [support_team]
    link = page.locator(f'a[data-view="{view.key}"]')
    expect(link.locator(".count")).to_have_text("2")
    expect(page.locator(".ticket-row")).to_have_count(2)
    screenshot("en-custom-view")

    # A team member sees it in Shared views, with the same count.
    page.context.clear_cookies()
    log_in(page, member.email)
    shared = page.locator("section.custom-views", has_text="Shared views")
    expect(shared.locator(f'a[data-view="{view.key}"] .count')).to_have_text("2")
    shared.get_by_role("link", name=re.compile("Support on fire")).click()
    expect(page.locator(".ticket-row")).to_have_count(2)
    expect(page.get_by_role("link", name="Edit view")).to_have_count(0)  # no permission

    # Someone outside the team neither sees it nor can open it.
    page.context.clear_cookies()
    log_in(page, outsider.email)
    expect(page.locator(f'a[data-view="{view.key}"]')).to_have_count(0)
    response = page.goto(f"/views/{view.key}/")
    assert response is not None
    assert response.status == 404


def test_toolbar_filters_sort_search_and_bulk(page, screenshot, agent, support_team):
    contact = ContactFactory(first_name="Jörgen", last_name="Ström", email="jorgen@acme.se")
    TicketFactory(name="Printer on fire", priority="URGENT", team=support_team)
    TicketFactory(name="Add dark mode", priority="LOW", team=support_team)
    TicketFactory(name="Invoice wrong", priority="HIGH", contact=contact)
    log_in(page, agent.email)
    page.goto("/tickets/")
    expect(page.locator(".ticket-row")).to_have_count(3)

    # A quick filter puts itself in the URL.
    page.locator(".quick-filters").get_by_label("Priority").select_option("URGENT")
    page.wait_for_url(re.compile(r"priority=URGENT"))
    expect(page.locator(".ticket-row")).to_have_count(1)
    page.go_back()
    page.wait_for_url(re.compile(r"/tickets/$"))
    expect(page.locator(".ticket-row")).to_have_count(3)

    # Sort by the subject, then again for descending.
    page.get_by_role("link", name="Subject").click()
    page.wait_for_url(re.compile(r"sort=name$"))
    expect(page.locator(".ticket-link").first).to_have_text("Add dark mode")
    page.get_by_role("link", name=re.compile("^Subject")).click()
    page.wait_for_url(re.compile(r"sort=-name$"))
    expect(page.locator(".ticket-link").first).to_have_text("Printer on fire")

    # Advanced filters: property, criteria, apply.
    page.get_by_text("Advanced filters").click()
    page.get_by_label("Property").select_option(label="Ticket name")
    page.locator(".criteria").get_by_label("Value").fill("fire")
    page.get_by_role("button", name="Apply").first.click()
    page.wait_for_url(re.compile(r"f=name"))
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(page.get_by_text("Ticket name contains fire")).to_be_visible()
    screenshot("en-list-advanced-filters")
    page.get_by_role("link", name="Remove condition: Ticket name contains fire").click()
    expect(page.locator(".ticket-row")).to_have_count(3)

    # Search: diacritics do not matter, Enter runs it.
    page.get_by_placeholder("Search tickets").fill("jorgen")
    page.get_by_placeholder("Search tickets").press("Enter")
    expect(page.get_by_role("heading", name=re.compile("Search results"))).to_be_visible()
    expect(page.locator(".ticket-link")).to_have_text(["Invoice wrong"])

    # Bulk: select two tickets, set their priority.
    page.goto("/tickets/?sort=name")
    rows = page.locator(".ticket-row")
    rows.nth(0).locator("input[type=checkbox]").check()
    rows.nth(1).locator("input[type=checkbox]").check()
    page.get_by_label("Set priority").select_option("MEDIUM")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Updated 2 tickets.")).to_be_visible()
    assert set(Ticket.objects.filter(priority="MEDIUM").values_list("name", flat=True)) == {
        "Add dark mode", "Invoice wrong"}  # fmt: skip
