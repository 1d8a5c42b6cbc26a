"""Settings → SLA in a real browser at 1280x720: "Add hours" adds a range in place (htmx),
a second range and goals are saved, the save bar stays in view while the page scrolls, and
choosing "Based on ticket property" → Priority lists the priorities with their goals."""

import pytest
from playwright.sync_api import expect

from svardesk.sla.models import PropertyGoal, Schedule, SlaSettings
from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL = {"width": 1280, "height": 720}


def in_view(page, locator) -> bool:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SMALL["height"]


def test_an_admin_sets_two_ranges_and_goals_and_the_save_bar_stays_in_view(page, screenshot):  # type: ignore[no-untyped-def]
    UserFactory(email="ada@example.com", is_superuser=True, is_staff=True)
    page.set_viewport_size(SMALL)
    log_in(page, "ada@example.com")
    page.goto("/settings/sla/")
    screenshot("sla-settings-1280")

    monday = page.get_by_role("row", name="Monday")
    expect(monday.locator('input[name="hours-0-start"]')).to_have_count(1)
    monday.get_by_role("button", name="Add hours").click()
    expect(monday.locator('input[name="hours-0-start"]')).to_have_count(2)
    monday.locator('input[name="hours-0-end"]').first.fill("12:00")
    monday.locator('input[name="hours-0-start"]').nth(1).fill("13:00")
    monday.locator('input[name="hours-0-end"]').nth(1).fill("17:00")

    page.get_by_label("SLA goals are on").check()
    page.get_by_label("Time to first response", exact=True).fill("1")
    save = page.get_by_role("button", name="Save: apply to new tickets only")
    assert in_view(page, save)  # before scrolling, and after
    page.mouse.wheel(0, 5000)
    assert in_view(page, save)
    screenshot("sla-settings-1280-scrolled")

    save.click()

    expect(page.get_by_text("SLA settings saved.")).to_be_visible()
    assert Schedule.objects.get(team__isnull=True).weekly["0"] == [
        ["08:00", "12:00"],
        ["13:00", "17:00"],
    ]
    row = SlaSettings.objects.get()
    assert (row.is_enabled, row.first_response_seconds) == (True, 3600)


def test_goals_by_priority_appear_when_the_property_is_chosen(page):  # type: ignore[no-untyped-def]
    UserFactory(email="ada@example.com", is_superuser=True, is_staff=True)
    page.set_viewport_size(SMALL)
    log_in(page, "ada@example.com")
    page.goto("/settings/sla/")

    page.get_by_label("Based on ticket property").check()
    page.get_by_label("Property", exact=True).select_option("priority")

    urgent = page.get_by_role("row", name="Urgent")
    expect(urgent).to_be_visible()
    urgent.get_by_label("Goals for Urgent on").check()
    urgent.get_by_label("Urgent: Time to first response", exact=True).fill("15")
    urgent.get_by_label("Urgent: Time to first response: unit").select_option("minutes")
    page.get_by_role("button", name="Save: apply to new tickets only").click()

    expect(page.get_by_text("SLA settings saved.")).to_be_visible()
    goal = PropertyGoal.objects.get(property_name="priority", value="URGENT")
    assert (goal.is_enabled, goal.first_response_seconds) == (True, 900)
