"""The page's side of a socket closed because the user's permissions changed (consumers.py,
code 4001): it reconnects once, soon, and refetches what it lists in the new scope; a socket
refused for good (4403) is left closed. The socket is Playwright's stand-in (the test server
speaks no WebSocket), so the test sees every connection the page opens."""

import time

import pytest

from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# app.js reconnects soon only after a socket that lived this long (a brief one backs off).
SETTLED_SECONDS = 5.2


def test_a_socket_closed_for_a_permission_change_reconnects_once_and_refetches(page, agent):
    sockets: list[object] = []
    page.route_web_socket("**/ws/workspace/", lambda ws: sockets.append(ws))
    log_in(page, agent.email)
    page.wait_for_function("() => document.querySelector('#ticket-list') !== null")
    page.evaluate(
        "() => { window.refetches = 0; document.body.addEventListener('svardesk:tickets-changed',"
        " () => { window.refetches += 1; }); }"
    )
    _wait_for(page, lambda: len(sockets) == 1)

    page.wait_for_timeout(SETTLED_SECONDS * 1000)
    sockets[0].close(code=4001, reason="permissions changed")  # type: ignore[attr-defined]
    closed_at = time.monotonic()
    _wait_for(page, lambda: len(sockets) == 2, timeout=3)
    reconnected_after = time.monotonic() - closed_at
    page.wait_for_function("() => window.refetches === 1")
    page.wait_for_timeout(3000)
    assert len(sockets) == 2  # one reconnection, no storm
    assert 0.4 < reconnected_after < 2.5

    sockets[1].close(code=4403, reason="not allowed")  # type: ignore[attr-defined]
    page.wait_for_timeout(3000)
    assert len(sockets) == 2  # refused for good: the page does not knock again
    assert page.evaluate("window.refetches") == 1


def _wait_for(page, condition, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    """Wait on the page's clock: Playwright hands over the page's events (a new socket)
    only while the test waits through it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)
