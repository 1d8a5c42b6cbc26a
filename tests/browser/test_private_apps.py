"""Settings → Private apps in a real browser at 1280x720: create an app (labelled scope
checkboxes), copy the token shown once, use it with the SDK, revoke it after confirming,
and see the SDK refused."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.owners.exceptions import UnauthorizedException
from playwright.sync_api import expect
from urllib3.util.retry import Retry

from tests.browser.conftest import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL = {"width": 1280, "height": 720}


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    """No sideways scrolling of the page itself."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_an_admin_creates_copies_uses_and_revokes_a_token(page, screenshot, live_server):  # type: ignore[no-untyped-def]
    ada = UserFactory(email="ada@example.com", is_superuser=True, is_staff=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size(SMALL)
    log_in(page, "ada@example.com")
    page.goto("/settings/")
    page.get_by_role("link", name="Integrations: private apps").click()
    expect(page.get_by_role("heading", name="Private apps")).to_be_visible()
    expect(page.get_by_text("No private apps yet.")).to_be_visible()

    page.get_by_role("link", name="Create private app").click()
    page.get_by_label("Name").fill("Nightly CRM sync")
    expect(page.get_by_label("Acts as")).to_have_value(str(ada.pk))
    page.get_by_label("Owners (users): read").check()
    page.get_by_label("Tickets, ticket pipelines and ticket properties: read and write").check()
    assert _fits(page)
    screenshot("private-apps-create-1280")
    page.get_by_role("button", name="Create private app").click()

    expect(
        page.get_by_role("heading", name="Private app Nightly CRM sync was created")
    ).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("it will not be shown again")
    token = page.get_by_label("Access token").input_value()
    assert token.startswith("pat-sd1-")
    page.get_by_role("button", name="Copy token").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert page.url.endswith("/settings/integrations/private-apps/")  # a reload won't show it
    assert _fits(page)
    screenshot("private-apps-token-1280")

    sdk = HubSpot(access_token=token, host=live_server.url, retry=Retry(0))
    sdk.crm.owners.owners_api.get_page()

    page.get_by_role("link", name="Done").click()
    row = page.get_by_role("row", name="Nightly CRM sync")
    expect(row).to_contain_text("Active")
    expect(row).not_to_contain_text("Never")  # it was used just now
    expect(page.get_by_label("Access token")).to_have_count(0)
    assert token not in page.evaluate("JSON.stringify(localStorage)")  # htmx's history cache
    screenshot("private-apps-list-1280")

    row.get_by_role("link", name="Revoke").click()
    expect(page.get_by_role("heading", name="Revoke private app Nightly CRM sync?")).to_be_visible()
    page.get_by_role("button", name="Revoke private app").click()

    expect(page.get_by_role("status").filter(has_text="was revoked")).to_be_visible()
    expect(page.get_by_role("row", name="Nightly CRM sync")).to_contain_text("Revoked")
    with pytest.raises(UnauthorizedException):
        sdk.crm.owners.owners_api.get_page()
