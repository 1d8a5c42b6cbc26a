"""With no mail server configured, an agent's reply is kept: the ticket says so and links to
it, Settings → Outgoing mail shows it (its HTML in a sandboxed frame) with the raw message to
download, and Settings → Channels lists the channel with its state — every button in view at
1280x720, in English and in Swedish."""

import re

import pytest
from playwright.sync_api import expect

from svardesk.channels.email.models import KeptMail
from svardesk.channels.email.services import connect_email_channel
from svardesk.tickets.models import Ticket
from tests.browser.conftest import log_in
from tests.browser.test_email_flow import TEAM, customer_email, deliver, tasks_now  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_view(page, locator) -> None:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert box["x"] >= 0
    assert box["y"] >= 0
    assert box["x"] + box["width"] <= size["width"]
    assert box["y"] + box["height"] <= size["height"]


def test_a_kept_reply_is_found_in_outgoing_mail(page, screenshot, super_admin, settings, tasks_now):  # noqa: F811
    settings.EMAIL_BACKEND = "svardesk.channels.email.kept_mail.KeptMailBackend"
    page.set_viewport_size({"width": 1280, "height": 720})
    channel = connect_email_channel(actor=None, address=TEAM, display_name="Acme Support").channel
    deliver(channel, customer_email("Printer on fire", "My printer is on fire."))
    ticket = Ticket.objects.get()

    log_in(page, super_admin.email)
    page.goto(f"/tickets/{ticket.pk}/")
    page.locator("[data-pane=reply] .ql-editor").click()
    page.keyboard.type("Unplug it now.")
    page.get_by_role("button", name="Send", exact=True).click()

    kept_link = page.get_by_role("link", name="Kept in Outgoing mail, not emailed")
    expect(kept_link).to_be_visible()
    kept = KeptMail.objects.get()
    assert kept.to == ["Åsa Lindqvist <asa@kund.example>"]
    screenshot("en-ticket-reply-kept")

    kept_link.click()
    page.wait_for_url(re.compile(rf".*/settings/outgoing-mail/{kept.pk}/$"))
    expect(page.get_by_role("heading", name=re.compile("Printer on fire"))).to_be_visible()
    download_button = page.get_by_role("link", name="Download .eml")
    _in_view(page, download_button)
    frame = page.frame_locator("iframe.kept-mail-frame")
    expect(frame.locator("body")).to_contain_text("Unplug it now.")
    screenshot("en-outgoing-mail-message")

    with page.expect_download() as download_info:
        download_button.click()
    download = download_info.value
    assert download.suggested_filename == f"outgoing-{kept.pk}.eml"
    assert open(download.path(), "rb").read() == bytes(kept.raw)  # noqa: SIM115

    page.get_by_role("link", name="Back to outgoing mail").click()
    expect(page.get_by_role("link", name=re.compile("Printer on fire"))).to_be_visible()
    screenshot("en-outgoing-mail-list")

    page.goto("/settings/channels/")
    row = page.locator("tr", has_text=TEAM)
    expect(row).to_contain_text("Connected")
    _in_view(page, row.get_by_role("link", name=re.compile("^Disconnect")))
    _in_view(page, page.get_by_role("link", name="Connect a channel"))
    screenshot("en-settings-channels")


def test_the_channel_pages_in_swedish(page, screenshot, super_admin):
    super_admin.language = "sv"
    super_admin.save(update_fields=["language"])
    page.set_viewport_size({"width": 1280, "height": 720})
    connect_email_channel(actor=None, address=TEAM, display_name="Acme Support")

    log_in(page, super_admin.email)
    page.goto("/settings/channels/")
    row = page.locator("tr", has_text=TEAM)
    expect(row).to_be_visible()
    _in_view(page, row.get_by_role("link").last)
    screenshot("sv-settings-channels")
    page.goto("/settings/channels/connect/")
    expect(page.locator("[data-channel-kind=email] a")).to_be_visible()
    screenshot("sv-settings-connect")
    page.goto("/settings/outgoing-mail/")
    expect(page.locator(".empty-state")).to_be_visible()
    screenshot("sv-outgoing-mail-empty")
