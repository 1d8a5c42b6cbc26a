"""Live chat end to end, as people use it: a shop's page on another origin embeds the snippet
that `svardesk connect_chat` printed; a visitor chats through the widget; an agent signed in to
the workspace (another browser) sees the chat ticket (source Chat), watches the thread update
live, answers from the ticket's editor, and closes the chat; the transcript arrives at a real
SMTP server. On a website the channel does not name, the launcher never appears.

Svardesk runs as `svardesk serve` (web, worker and scheduler), a real process with its own
database (tests/chat_harness.py); the shop's pages come from a plain http.server."""

import functools
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, log_in
from tests.chat_harness import AGENT, Install, WebProcess, install
from tests.mail_server import SmtpServer, free_port

pytestmark = pytest.mark.browser

TEAM_ADDRESS = "support@example.com"
LAPTOP = {"width": 1366, "height": 768}
SMALL = {"width": 1280, "height": 720}
CLOSED_NOTICE = "The chat has ended."
NOBODY_AVAILABLE = "Nobody is available to chat right now."


class Website:
    """A static website on its own port: its origin is not Svardesk's."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _shop_page(folder: Path, snippet: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example shop</title>'
        "</head><body><h1>Example shop</h1><p>Everything for the garden.</p>"
        f"{snippet}</body></html>",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def mail() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chat_site(tmp_path_factory: Any, mail: SmtpServer) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("chat-browser")
    port = free_port()
    shop_folder, other_folder = tmp / "shop", tmp / "elsewhere"
    _shop_page(shop_folder, "")
    _shop_page(other_folder, "")
    shop, elsewhere = Website(shop_folder), Website(other_folder)
    try:
        with install(
            tmp,
            name="chatbrowser",
            SVARDESK_SMTP_URL=f"smtp://127.0.0.1:{mail.port}",
            SVARDESK_BASE_URL=f"http://127.0.0.1:{port}",
            SVARDESK_INBOUND_DELAY="0.2",
        ) as site:
            site.create_agent(*AGENT, first_name="Anna", last_name="Agent")
            site.manage("connect_email", TEAM_ADDRESS, "--name", "Example Support")
            snippet, key = site.connect_chat("Website chat", shop.origin)
            site.shell(
                "from svardesk.channels.chat.models import ChatChannel\n"
                f"ChatChannel.objects.filter(public_key={key!r}).update("
                f"transcripts_enabled=True, transcript_from={TEAM_ADDRESS!r})\n"
            )
            # The same snippet on both sites; only the shop is named by the channel.
            _shop_page(shop_folder, snippet)
            _shop_page(other_folder, snippet)
            web = site.web(serve=True, port=port)
            yield {"site": site, "web": web, "shop": shop, "elsewhere": elsewhere, "key": key}
    finally:
        shop.stop()
        elsewhere.stop()


def _context(browser: Any, web: WebProcess | None = None) -> Any:
    options: dict[str, Any] = {"viewport": LAPTOP}
    if web is not None:
        options["base_url"] = web.url
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    return context


def _wait_for(check: Any, *, timeout: float, page: Any) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(200)


def test_a_visitor_chats_with_an_agent_who_answers_and_closes_and_the_transcript_is_mailed(
    browser: Any, chat_site: dict[str, Any], mail: SmtpServer
):
    from playwright.sync_api import expect

    site: Install = chat_site["site"]
    visitor_context, agent_context = _context(browser), _context(browser, chat_site["web"])
    visitor, agent = visitor_context.new_page(), agent_context.new_page()
    try:
        # The agent opens the workspace first: present and Available, so chats are answered.
        log_in(agent, AGENT[0], AGENT[1])
        expect(agent.locator("#chat-status-badge")).to_have_text("Available")

        # The visitor, on the shop's own origin.
        visitor.goto(chat_site["shop"].origin + "/")
        visitor.get_by_role("button", name="Chat with us").click()
        visitor.get_by_label("Name", exact=True).fill("Vera Visitor")
        visitor.get_by_label("Email", exact=True).fill("vera@example.net")
        visitor.get_by_label("Message", exact=True).fill("Do you ship <b>roses</b> to Malmö?")
        panel = visitor.get_by_role("dialog")
        send = panel.get_by_role("button", name="Send")
        # The panel fits a small laptop's window with its Send button in view.
        visitor.set_viewport_size(SMALL)
        expect(send).to_be_in_viewport()
        visitor.set_viewport_size(LAPTOP)
        send.click()
        log = visitor.get_by_role("log")
        expect(log).to_contain_text("Do you ship <b>roses</b> to Malmö?")  # as text, not HTML
        expect(log.locator("b")).to_have_count(0)

        # The agent sees the chat ticket (source Chat) and opens it.
        agent.goto("/views/all-open/")
        row = agent.locator(".ticket-row", has_text="Vera Visitor").first
        expect(row).to_contain_text("Chat")
        row.locator("a.ticket-link").click()
        thread = agent.locator("#ticket-detail")
        expect(thread).to_contain_text("Do you ship <b>roses</b> to Malmö?")

        # The thread updates live while the agent looks at it.
        visitor.get_by_label("Message", exact=True).fill("Or to Lund?")
        visitor.get_by_role("dialog").get_by_role("button", name="Send").click()
        expect(thread).to_contain_text("Or to Lund?", timeout=10_000)

        # The agent answers from the ticket's editor; the visitor sees it live.
        agent.get_by_label("Reply text").fill("Yes, we ship to all of Sweden.")
        agent.locator("[data-compose=reply]").get_by_role("button", name="Send").click()
        expect(log).to_contain_text("Yes, we ship to all of Sweden.", timeout=10_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        visitor.screenshot(path=str(ARTIFACTS / "chat-widget.png"))
        agent.screenshot(path=str(ARTIFACTS / "chat-ticket.png"))

        # The agent closes the chat (and confirms); the visitor is told.
        agent.once("dialog", lambda dialog: dialog.accept())
        agent.get_by_role("button", name="Close chat").click()
        expect(agent.get_by_role("button", name="Close chat")).to_have_count(0)
        expect(log).to_contain_text(CLOSED_NOTICE)
        _wait_for(lambda: bool(mail.messages), timeout=30, page=agent)
        agent.wait_for_timeout(3000)  # a second transcript would have come by now
        visitor_context.close()
    finally:
        agent_context.close()

    transcripts = [m for m in mail.messages if "Transcript" in str(m["Subject"])]
    assert len(transcripts) == 1, [str(m["Subject"]) for m in mail.messages]
    transcript = transcripts[0]
    assert str(transcript["To"]) == "vera@example.net"
    assert TEAM_ADDRESS in str(transcript["From"])
    body = transcript.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Do you ship <b>roses</b> to Malmö?" in body
    assert "Or to Lund?" in body
    assert "Yes, we ship to all of Sweden." in body
    status = site.shell(
        "from svardesk.channels.chat.models import ChatSession\n"
        "print(*ChatSession.objects.values_list('is_open', 'transcript_status'))\n"
    )
    assert status.split()[-2:] == ["(False,", "'sent')"]


def test_on_a_website_the_channel_does_not_name_the_launcher_never_appears(
    browser: Any, chat_site: dict[str, Any]
):
    context = _context(browser)
    page = context.new_page()
    asked: list[str] = []
    answered: list[int] = []
    sockets: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("websocket", lambda socket: sockets.append(socket.url))
    page.on(
        "response",
        lambda response: answered.append(response.status) if "/config" in response.url else None,
    )
    try:
        page.goto(chat_site["elsewhere"].origin + "/")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)

        assert page.get_by_role("heading", name="Example shop").is_visible()
        assert page.get_by_role("button", name="Chat with us").count() == 0
        assert page.get_by_role("dialog").count() == 0
        # The widget did run and ask: it was refused (no CORS answer reaches the page).
        assert any(url.endswith("/chat/widget.js") for url in asked)
        assert any(f"/chat/{chat_site['key']}/config" in url for url in asked)
        assert answered in ([], [403])
        assert sockets == []
    finally:
        context.close()


def test_an_agent_who_goes_away_leaves_visitors_a_reply_by_email(
    browser: Any, chat_site: dict[str, Any]
):
    """Availability end to end: the agent's user menu (Away) reaches the widget of a visitor
    who opens the chat afterwards, and Available brings the chat back."""
    from playwright.sync_api import expect

    agent_context = _context(browser, chat_site["web"])
    agent = agent_context.new_page()
    try:
        log_in(agent, AGENT[0], AGENT[1])
        agent.locator(".user-menu summary").click()
        away = agent.get_by_role("menuitemradio", name="Away")
        away.click()
        expect(away).to_have_attribute("aria-checked", "true")
        expect(agent.locator("#chat-status-badge")).to_have_text("Away")

        visitor_context = _context(browser)
        visitor = visitor_context.new_page()
        visitor.goto(chat_site["shop"].origin + "/")
        visitor.get_by_role("button", name="Chat with us").click()
        expect(visitor.get_by_role("dialog")).to_contain_text(NOBODY_AVAILABLE)
        visitor_context.close()

        available = agent.get_by_role("menuitemradio", name="Available")
        available.click()
        expect(available).to_have_attribute("aria-checked", "true")
        agent.wait_for_timeout(2000)  # the widget's answer is kept 1.5 s per process
        visitor_context = _context(browser)
        visitor = visitor_context.new_page()
        visitor.goto(chat_site["shop"].origin + "/")
        visitor.get_by_role("button", name="Chat with us").click()
        expect(visitor.get_by_label("Message", exact=True)).to_be_visible()
        expect(visitor.get_by_role("dialog")).not_to_contain_text(NOBODY_AVAILABLE)
        visitor_context.close()
    finally:
        agent_context.close()
