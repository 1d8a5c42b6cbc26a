"""The foundation's path through the workspace, as an agent walks it in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in
from tests.factories import ContactFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def count_of(page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f'a[data-view="{key}"] .count')


def test_agent_works_a_ticket_through_the_views(page, screenshot, agent, support_team, super_admin):
    contact = ContactFactory(first_name="Åsa", last_name="Lindqvist", email="asa@kund.se")
    TicketFactory(name="Existing question", team=support_team, contact=contact, owner=super_admin)
    TicketFactory(name="Mine already", team=support_team, owner=agent)

    log_in(page, agent.email)
    # The default views, with counts.
    for key, expected in [
        ("unassigned", "0"),
        ("assigned-to-me", "1"),
        ("my-teams-open", "2"),
        ("all-open", "2"),
    ]:
        expect(count_of(page, key)).to_have_text(expected)
    expect(page.get_by_text("No unassigned tickets")).to_be_visible()
    screenshot("en-list-empty-unassigned")

    # Create a ticket from the bottom-left panel.
    page.get_by_role("button", name="Create ticket").click()
    panel = page.get_by_role("dialog", name="Create ticket")
    expect(panel).to_be_visible()
    screenshot("en-create-panel")
    panel.get_by_label("Ticket name").fill("Cannot export invoices")
    panel.get_by_label("Ticket description").fill("The export button does nothing since Monday.")
    panel.get_by_label("Team").select_option(label="Support")
    panel.get_by_role("button", name="Create", exact=True).click()
    page.wait_for_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get(name="Cannot export invoices")
    expect(page.get_by_role("heading", name="Cannot export invoices")).to_be_visible()

    # It is unassigned: it shows in Unassigned.
    page.goto("/views/unassigned/")
    expect(count_of(page, "unassigned")).to_have_text("1")
    expect(page.get_by_role("link", name="Cannot export invoices")).to_be_visible()

    # Open it, edit priority in place, assign it to me.
    page.get_by_role("link", name="Cannot export invoices").click()
    page.get_by_label("Priority", exact=True).select_option(label="Urgent")
    expect(page.get_by_text(re.compile("changed Priority from — to Urgent"))).to_be_visible()
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_label("Ticket owner", exact=True)).to_have_value(str(agent.pk))
    screenshot("en-ticket-detail")
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.owner_id) == ("URGENT", agent.pk)

    # It moved from Unassigned to Assigned to me.
    page.get_by_role("link", name="Back to list").click()
    page.goto("/views/assigned-to-me/")
    expect(count_of(page, "assigned-to-me")).to_have_text("2")
    expect(count_of(page, "unassigned")).to_have_text("0")
    row = page.locator(".ticket-row", has_text="Cannot export invoices")
    expect(row.locator(".badge")).to_have_text("Urgent")
    screenshot("en-list-assigned-to-me")


def test_stale_edit_is_shown_in_the_browser(page, agent, super_admin):
    from svardesk.tickets.services import update_ticket

    ticket = TicketFactory(name="Two agents at once")
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    update_ticket(ticket.pk, actor=super_admin, changes={"priority": "HIGH"})
    page.get_by_label("Category", exact=True).select_option(label="Billing issue")
    expect(page.locator("[data-conflict]")).to_be_visible()
    expect(page.get_by_label("Priority", exact=True)).to_have_value("HIGH")
    ticket.refresh_from_db()
    assert ticket.category == ""


def test_switch_the_ui_to_swedish(page, screenshot, agent, support_team):
    TicketFactory(name="Fakturan saknas", team=support_team)
    log_in(page, agent.email)
    page.locator(".user-menu summary").click()
    page.get_by_role("menuitem", name="Language and time zone").click()
    page.get_by_label("Language").select_option("sv")
    page.get_by_label("Time zone").select_option("Europe/Stockholm")
    page.get_by_role("button", name="Save").click()
    # Swedish with the Swedish date style: the page's language carries the region (sv-se).
    expect(page.locator("html")).to_have_attribute("lang", re.compile(r"^sv(-se)?$"))
    page.goto("/views/all-open/")
    expect(page.locator('a[data-view="unassigned"] .view-label')).to_have_text("Otilldelade")
    expect(page.get_by_role("button", name="Skapa ärende")).to_be_visible()
    screenshot("sv-list-all-open")
    page.get_by_role("link", name="Fakturan saknas").click()
    expect(page.get_by_role("link", name="Tillbaka till listan")).to_be_visible()
    screenshot("sv-ticket-detail")
    page.get_by_role("button", name="Skapa ärende").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    screenshot("sv-create-panel")


def test_no_seat_user_sees_the_no_access_page(page, no_seat_user):
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(no_seat_user.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="You don't have access to this page")).to_be_visible()


def test_keyboard_moves_through_the_list(page, agent):
    for i in range(3):
        TicketFactory(name=f"Keyboard {i}")
    log_in(page, agent.email)
    page.goto("/views/all-open/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(".ticket-row.is-selected")).to_have_count(1)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/tickets/\d+/"))
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


def test_navigation_keeps_the_sidebar(page, agent):
    TicketFactory(name="Boosted link")
    log_in(page, agent.email)
    page.goto("/views/all-open/")
    page.get_by_role("link", name="Boosted link").click()
    expect(page.get_by_role("heading", name="Boosted link")).to_be_visible()
    expect(page.locator('a[data-view="all-open"]')).to_be_visible()
    page.get_by_role("link", name="Back to list").click()
    expect(page.locator(".ticket-row")).to_have_count(1)
    expect(page.locator('a[data-view="all-open"]')).to_have_class(re.compile("is-current"))


def test_agent_rearranges_the_ticket_sidebar(page, agent):
    ticket = TicketFactory(name="Sidebar order", contact=ContactFactory(first_name="Åsa"))
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    cards = page.locator("aside .sidebar-card")
    expect(cards.first).to_have_attribute("data-card", "contact")

    # Drag the contacts card below the companies card by its handle.
    companies = page.locator('aside .sidebar-card[data-card="company"]')
    box = companies.bounding_box()
    assert box is not None
    with page.expect_response(lambda r: "/tickets/sidebar-layout/" in r.url) as saved:
        page.locator('[data-card="contact"] .card-handle').drag_to(
            companies, target_position={"x": 20, "y": box["height"] * 0.8}
        )
    assert saved.value.status == 204
    page.reload()
    expect(cards.first).to_have_attribute("data-card", "company")
    expect(cards.nth(1)).to_have_attribute("data-card", "contact")

    # From the keyboard: the contact handle, arrow up, back on top.
    with page.expect_response(lambda r: "/tickets/sidebar-layout/" in r.url):
        page.locator('[data-card="contact"] .card-handle').press("ArrowUp")
    page.reload()
    expect(cards.first).to_have_attribute("data-card", "contact")
    agent.refresh_from_db()
    assert agent.ticket_sidebar["order"][:2] == ["contact", "company"]


def test_assign_to_me_looks_like_a_button_not_a_field(page, screenshot, agent):
    """Beside the header's select fields, "Assign to me" keeps a button's size and colour."""
    ticket = TicketFactory(name="Whose is this")
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, agent.email)
    page.goto(f"/tickets/{ticket.pk}/")
    button = page.get_by_role("button", name="Assign to me")
    owner = page.get_by_label("Ticket owner", exact=True)
    expect(button).to_be_visible()
    screenshot("en-ticket-header-assign-to-me")

    def style(locator, prop):  # type: ignore[no-untyped-def]
        return locator.evaluate(f"e => getComputedStyle(e).{prop}")

    assert button.bounding_box()["width"] < 0.8 * owner.bounding_box()["width"]
    assert style(button, "color") != style(owner, "color")
    assert style(button, "backgroundColor") != style(owner, "backgroundColor")


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1366, 768)])
def test_create_panel_keeps_its_buttons_in_view_and_scrolls_its_body(
    page, screenshot, agent, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, agent.email)
    page.get_by_role("button", name="Create ticket").click()
    panel = page.get_by_role("dialog", name="Create ticket")
    create = panel.get_by_role("button", name="Create", exact=True)
    expect(create).to_be_in_viewport()
    body = panel.locator(".panel-body")
    assert body.evaluate("e => e.scrollHeight > e.clientHeight")  # the form is taller...
    body.evaluate("e => e.scrollTo(0, e.scrollHeight)")  # ...and its body scrolls
    expect(panel.get_by_label("Team")).to_be_in_viewport()
    screenshot(f"en-create-panel-{width}x{height}")
