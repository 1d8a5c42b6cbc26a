"""Connecting a phone number in a real browser: Settings → Connect a channel → Calls, the
form's errors, then the number's page with the four webhook URLs — at 1280x720, with the
buttons a person needs in view."""

import pytest
from playwright.sync_api import expect

from svardesk.channels.calls.models import CallChannel
from svardesk.core.crypto import decrypt_secret
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def test_an_admin_connects_a_number_and_sees_the_webhook_urls(
    page, super_admin, settings, live_server, screenshot
):
    settings.BASE_URL = live_server.url
    page.set_viewport_size({"width": 1280, "height": 720})
    log_in(page, super_admin.email)
    page.goto("/settings/channels/connect/")
    page.locator("a[href='/settings/channels/calls/new/']").first.click()
    expect(page.get_by_role("heading", name="Connect a phone number")).to_be_visible()

    page.get_by_label("Phone number").fill("12")
    page.get_by_label("Account SID").fill("AC123")
    page.get_by_label("Auth token").fill("s3cret-token-value")
    connect = page.get_by_role("button", name="Connect", exact=True)
    connect.scroll_into_view_if_needed()
    expect(connect).to_be_in_viewport()
    connect.click()
    expect(page.get_by_role("alert")).to_contain_text("An account SID is AC followed by 32")
    assert CallChannel.objects.count() == 0

    page.get_by_label("Phone number").fill("+46 8 123 456 78")
    page.get_by_label("Account SID").fill(ACCOUNT_SID)
    page.get_by_label("Auth token").fill("s3cret-token-value")
    page.get_by_role("button", name="Connect", exact=True).click()

    expect(page.get_by_role("heading", name="Phone number +46 8 123 456 78")).to_be_visible()
    call_channel = CallChannel.objects.get()
    assert decrypt_secret(call_channel.auth_token_encrypted) == "s3cret-token-value"
    voice = page.get_by_label("A call comes in (voice URL)")
    expect(voice).to_have_value(f"{live_server.url}/channels/calls/{call_channel.url_key}/voice/")
    expect(voice).to_be_in_viewport()
    expect(page.get_by_label("Transcription callback")).to_have_value(
        f"{live_server.url}/channels/calls/{call_channel.url_key}/transcription/"
    )
    screenshot("en-calls-number")
    disconnect = page.get_by_role("link", name="Disconnect this number")
    disconnect.scroll_into_view_if_needed()
    expect(disconnect).to_be_in_viewport()
    assert "s3cret-token-value" not in page.content()
