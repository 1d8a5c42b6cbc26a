"""Playwright driving Debian's Chromium against a live Svardesk server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("SVARDESK_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; scripts/test.sh installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, transactional_db):  # type: ignore[no-untyped-def]
    from tests.factories import default_pipeline

    default_pipeline()
    # A laptop's window, not a big screen: the workspace must work at 1366x768 (and 1280x720,
    # which the tests that check layout use too).
    context = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    wait_for_requests_in_flight()


def wait_for_requests_in_flight(timeout: float = 10) -> None:
    """Let the live server finish the requests the closed page left running (a poll, an HTMX
    swap): the test database is emptied next, and on SQLite a request still reading the
    sessions table makes that fail ("database table is locked")."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(
            thread.name.endswith("(process_request_thread)") for thread in threading.enumerate()
        ):
            return
        time.sleep(0.05)


@pytest.fixture
def screenshot(page):  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return path

    return take


def log_in(page, email: str, password: str = "correct horse battery") -> None:  # type: ignore[no-untyped-def]
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/views/unassigned/")
