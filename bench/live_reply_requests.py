"""Requests the workspace pages make for one chat reply: the sender's page and another tab of
the same agent on the same ticket, in Chromium against `svardesk serve` (SQLite, a fresh
install). Each round: the visitor writes (both pages refresh: not counted), then the agent
replies from the first tab; counted from the click until the other tab shows the reply plus
1.5 s. Prints each round's requests (all, and GETs of the whole ticket fragment) with the load
average.

    .venv/bin/python bench/live_reply_requests.py [--rounds 5]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, log_in
from tests.browser.test_chat import LAPTOP, Website, _shop_page
from tests.chat_harness import AGENT, install
from tests.mail_server import free_port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    os.environ.pop("DATABASE_URL", None)
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    shop_folder = tmp / "shop"
    _shop_page(shop_folder, "")
    shop = Website(shop_folder)
    port = free_port()
    try:
        with install(tmp, name="benchlive", SVARDESK_BASE_URL=f"http://127.0.0.1:{port}") as site:
            site.create_agent(*AGENT, first_name="Anna", last_name="Agent")
            snippet, _ = site.connect_chat("Website chat", shop.origin)
            _shop_page(shop_folder, snippet)
            web = site.web(serve=True, port=port)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                run(browser, web.url, shop.origin, rounds)
                browser.close()
    finally:
        shop.stop()


def run(browser, url: str, shop: str, rounds: int) -> None:  # type: ignore[no-untyped-def]
    agents = browser.new_context(viewport=LAPTOP, base_url=url)
    agents.set_default_timeout(20_000)
    visitor = browser.new_context(viewport=LAPTOP).new_page()
    visitor.set_default_timeout(20_000)
    sender = agents.new_page()
    log_in(sender, AGENT[0], AGENT[1])
    expect(sender.locator("#chat-status-badge")).to_have_text("Available")
    visitor.goto(shop + "/")
    visitor.get_by_role("button", name="Chat with us").click()
    visitor.get_by_label("Name", exact=True).fill("Vera Visitor")
    visitor.get_by_label("Email", exact=True).fill("vera@example.net")
    say(visitor, "Hello 0")
    sender.goto("/views/all-open/")
    sender.locator(".ticket-row", has_text="Vera Visitor").first.locator("a.ticket-link").click()
    ticket_id = sender.locator("#ticket-detail").get_attribute("data-ticket-id")
    other = agents.new_page()
    other.goto(f"/tickets/{ticket_id}/")
    seen: dict[str, list[tuple[str, str]]] = {"sender": [], "other": []}
    sender.on("request", lambda r: seen["sender"].append((r.method, r.url)))
    other.on("request", lambda r: seen["other"].append((r.method, r.url)))
    totals = {"sender": [], "other": [], "sender_ticket": [], "other_ticket": []}
    for n in range(1, rounds + 1):
        say(visitor, f"Question {n}")
        for page in (sender, other):
            expect(page.locator("#ticket-detail")).to_contain_text(f"Question {n}")
        sender.wait_for_timeout(1500)
        seen["sender"].clear()
        seen["other"].clear()
        sender.get_by_label("Reply text").fill(f"Answer {n}")
        sender.locator("[data-compose=reply]").get_by_role("button", name="Send").click()
        expect(other.locator("#ticket-detail")).to_contain_text(f"Answer {n}")
        sender.wait_for_timeout(1500)
        for name in ("sender", "other"):
            fetches = [
                u for m, u in seen[name] if m == "GET" and u.endswith(f"/tickets/{ticket_id}/")
            ]
            totals[name].append(len(seen[name]))
            totals[f"{name}_ticket"].append(len(fetches))
        print(
            f"round {n}: sender {totals['sender'][-1]} requests"
            f" ({totals['sender_ticket'][-1]} ticket fetch),"
            f" other tab {totals['other'][-1]} ({totals['other_ticket'][-1]} ticket fetch);"
            f" load {os.getloadavg()}",
            flush=True,
        )
    print("per reply:", totals, "load", os.getloadavg())


def say(visitor, text: str) -> None:  # type: ignore[no-untyped-def]
    visitor.get_by_label("Message", exact=True).fill(text)
    visitor.get_by_role("dialog").get_by_role("button", name="Send").click()
    expect(visitor.get_by_role("log")).to_contain_text(text)
    time.sleep(0.2)


if __name__ == "__main__":
    main()
