# ruff: noqa: F811  (the webhook fixtures are imported, then named as parameters)
"""Settings → Webhooks in a browser at 1280x720: create a webhook with the form, send a test
event to a real receiver and see it delivered in the log, every action button in view."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from svardesk.webhooks.models import WebhookSubscription
from svardesk.webhooks.tests.conftest import receiver, tasks_now  # noqa: F401 (fixtures)
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= size["width"]
    assert box["y"] + box["height"] <= size["height"]


def test_create_a_webhook_and_send_a_test_event(
    page,
    screenshot,
    super_admin,
    receiver,
    tasks_now,
):
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, super_admin.email)
    page.goto("/settings/integrations/webhooks/")
    expect(page.get_by_text("No webhooks yet")).to_be_visible()
    page.get_by_role("link", name="Create webhook").click()

    page.get_by_label("Name").fill("Warehouse")
    page.get_by_label("Target URL").fill("javascript:alert(1)")
    page.get_by_label("Ticket created").check()
    page.get_by_label("Contact property changed").check()
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_text("Enter an http:// or https:// URL.")).to_be_visible()
    assert not WebhookSubscription.objects.exists()

    page.get_by_label("Target URL").fill(receiver.url + "/in")
    screenshot("webhooks-form")
    page.get_by_role("button", name="Create webhook").click()
    expect(page.get_by_role("heading", name="Warehouse")).to_be_visible()

    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("A test event was sent.")).to_be_visible()
    # Focus moved to the outcome (the pressed button was redrawn).
    expect(page.locator("#webhook .alert-ok")).to_be_focused()
    # The region changed in place: the settings around it stayed.
    expect(page.locator(".settings-nav")).to_be_visible()
    page.get_by_role("link", name="Refresh").click()
    expect(page.locator(".deliveries-table").get_by_text("Delivered")).to_be_visible()
    assert [e["subscriptionType"] for e in receiver.events()] == ["ticket.creation"]

    page.get_by_text("Show secret").click()
    subscription = WebhookSubscription.objects.get()
    from svardesk.webhooks.queries import subscription_secret

    expect(page.locator(".secret-value")).to_have_value(subscription_secret(subscription))
    for name in ("Edit", "Turn off", "Send test event", "New secret", "Delete"):
        _in_view(page, page.locator(".webhook-actions").get_by_text(name, exact=True))
    screenshot("webhooks-detail")

    page.get_by_role("button", name="Turn off").click()
    expect(page.get_by_text("Off: receives no events")).to_be_visible()
    subscription.refresh_from_db()
    assert subscription.is_active is False

    page.goto("/settings/integrations/webhooks/")
    row = page.get_by_role("row", name="Warehouse")
    expect(row.get_by_text("Off", exact=True)).to_be_visible()
    screenshot("webhooks-list")
