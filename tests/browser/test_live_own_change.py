"""A page does not re-fetch the ticket after its own change: after a chat reply, the Send
answer already added the message, and the live update of that change (which carries the page
and request that made it, workspace/live.py) sets the header's stage and version in place.
Another page on the same ticket — here another tab of the same agent — fetches the ticket and
shows the reply. Real server (`svardesk serve`, its WebSocket), a visitor through the widget."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_chat import LAPTOP, Website, _shop_page, _wait_for
from tests.chat_harness import AGENT, install
from tests.mail_server import free_port

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live_site(tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("live-own-change")
    port = free_port()
    shop_folder = tmp / "shop"
    _shop_page(shop_folder, "")
    shop = Website(shop_folder)
    try:
        with install(tmp, name="liveown", SVARDESK_BASE_URL=f"http://127.0.0.1:{port}") as site:
            site.create_agent(*AGENT, first_name="Anna", last_name="Agent")
            snippet, _ = site.connect_chat("Website chat", shop.origin)
            _shop_page(shop_folder, snippet)
            web = site.web(serve=True, port=port)
            yield {"web": web, "shop": shop}
    finally:
        shop.stop()


def _ticket_fetches(requests: list[tuple[str, str]], ticket_id: str) -> list[str]:
    """The GETs of the whole ticket fragment (what a live refresh fetches)."""
    return [
        url
        for method, url in requests
        if method == "GET" and url.endswith(f"/tickets/{ticket_id}/")
    ]


def test_the_senders_page_skips_the_refetch_and_the_other_page_updates(
    browser: Any, live_site: dict[str, Any]
):
    from playwright.sync_api import expect

    visitor_context = browser.new_context(viewport=LAPTOP)
    agent_context = browser.new_context(viewport=LAPTOP, base_url=live_site["web"].url)
    agent_context.set_default_timeout(15_000)
    visitor_context.set_default_timeout(15_000)
    try:
        sender = agent_context.new_page()
        log_in(sender, AGENT[0], AGENT[1])
        expect(sender.locator("#chat-status-badge")).to_have_text("Available")
        visitor = visitor_context.new_page()
        visitor.goto(live_site["shop"].origin + "/")
        visitor.get_by_role("button", name="Chat with us").click()
        visitor.get_by_label("Name", exact=True).fill("Vera Visitor")
        visitor.get_by_label("Email", exact=True).fill("vera@example.net")
        visitor.get_by_label("Message", exact=True).fill("Do you ship to Lund?")
        visitor.get_by_role("dialog").get_by_role("button", name="Send").click()
        expect(visitor.get_by_role("log")).to_contain_text("Do you ship to Lund?")

        sender.goto("/views/all-open/")
        sender.locator(".ticket-row", has_text="Vera Visitor").first.locator(
            "a.ticket-link"
        ).click()
        expect(sender.locator("#ticket-detail")).to_contain_text("Do you ship to Lund?")
        ticket_id = sender.locator("#ticket-detail").get_attribute("data-ticket-id")
        assert ticket_id
        # The same agent's other tab on the same ticket.
        other = agent_context.new_page()
        other.goto(f"/tickets/{ticket_id}/")
        expect(other.locator("#ticket-detail")).to_contain_text("Do you ship to Lund?")
        sender.wait_for_timeout(1500)  # both sockets open, the pages settled

        seen: dict[str, list[tuple[str, str]]] = {"sender": [], "other": []}
        sender.on("request", lambda r: seen["sender"].append((r.method, r.url)))
        other.on("request", lambda r: seen["other"].append((r.method, r.url)))
        stage_before = sender.locator("#hdr-stage").input_value()
        version_before = sender.locator("#ticket-detail").get_attribute("data-version")

        sender.get_by_label("Reply text").fill("Yes, we ship to all of Sweden.")
        sender.locator("[data-compose=reply]").get_by_role("button", name="Send").click()
        expect(sender.locator("#ticket-detail")).to_contain_text("Yes, we ship to all of Sweden.")
        # The other tab hears of the change and fetches the ticket.
        expect(other.locator("#ticket-detail")).to_contain_text(
            "Yes, we ship to all of Sweden.", timeout=10_000
        )
        other_version = other.locator("#ticket-detail").get_attribute("data-version")
        # The sender's page has heard of it too by now (same socket, same broadcast): its
        # header is up to date without a fetch.
        _wait_for(
            lambda: sender.locator("#ticket-detail").get_attribute("data-version") == other_version,
            timeout=10,
            page=sender,
        )
        sender.wait_for_timeout(1500)  # a re-fetch, had one been coming, would have started

        assert other_version != version_before
        # A chat reply after the visitor's message moves the ticket on ("Waiting on contact"):
        # the sender's header shows it, set from the announcement.
        assert sender.locator("#hdr-stage").input_value() != stage_before
        assert (
            sender.locator("#hdr-stage").input_value() == other.locator("#hdr-stage").input_value()
        )
        assert (
            sender.locator('#ticket-detail .ticket-header input[name="version"]').input_value()
            == other_version
        )
        assert _ticket_fetches(seen["sender"], ticket_id) == []
        assert len(_ticket_fetches(seen["other"], ticket_id)) == 1
        # The reply is on the sender's page once (added by the Send answer, not redrawn).
        expect(
            sender.locator(".msg-card", has_text="Yes, we ship to all of Sweden.")
        ).to_have_count(1)
    finally:
        visitor_context.close()
        agent_context.close()
