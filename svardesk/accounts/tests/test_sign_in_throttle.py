"""Sign-in throttling: failures by others never refuse a correct password. A client (IP
address) is refused after its own failures; an address's failures only slow its sign-ins."""

import asyncio
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from svardesk.accounts import throttle
from svardesk.accounts.queries import find_user_for_sign_in, sign_in_address
from tests.mail_server import free_port

PASSWORD = "correct horse battery"
# The long s: NFKC and casefold make it "s"; PostgreSQL upper-cases it to "S".
LONG_S = "\u017f"
ATTACKER = "203.0.113.9"
REAL_USER = "198.51.100.4"


@pytest.fixture(autouse=True)
def _quick_slowdown(settings):
    # The slow-down really sleeps; most tests only need it to exist.
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 0.01


def _sign_in(client: Client, address: str, password: str, ip: str):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("accounts:login"), {"username": address, "password": password}, REMOTE_ADDR=ip
    )


def _signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.mark.django_db
def test_the_real_user_signs_in_after_20_wrong_passwords_from_another_client(agent):
    attacker = Client()
    for _ in range(20):
        response = _sign_in(attacker, agent.email, "wrong", ATTACKER)
        assert response.status_code == 200
        assert "do not match" in response.content.decode()
    assert _signed_in_user_id(attacker) is None

    real_user = Client()
    response = _sign_in(real_user, agent.email, PASSWORD, REAL_USER)

    assert response.status_code == 302
    assert _signed_in_user_id(real_user) == str(agent.pk)


@pytest.mark.django_db
def test_a_client_is_refused_after_its_limit_even_with_a_correct_password(agent, settings):
    settings.LOGIN_FAILURE_LIMIT = 10
    attacker = Client()
    for n in range(10):
        _sign_in(attacker, f"guess{n}@example.com", "wrong", ATTACKER)

    response = _sign_in(attacker, agent.email, PASSWORD, ATTACKER)

    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.LOGIN_FAILURE_WINDOW_SECONDS
    assert "Too many failed sign-ins from your network. Try again in 15 minutes." in (
        response.content.decode()
    )
    assert _signed_in_user_id(attacker) is None
    # Refused before the password was checked: nothing more was counted.
    assert throttle.failures_of_client(ATTACKER) == 10
    assert throttle.failures_of_address(agent.email) == 0
    # Another client is not affected.
    other = Client()
    assert _sign_in(other, agent.email, PASSWORD, REAL_USER).status_code == 302


@pytest.mark.django_db
def test_a_client_limit_below_10_counts_as_10(agent, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(9):
        _sign_in(client, agent.email, "wrong", ATTACKER)
    assert _sign_in(client, agent.email, PASSWORD, ATTACKER).status_code == 302
    client.logout()
    for _ in range(10):
        _sign_in(client, agent.email, "wrong", ATTACKER)
    assert _sign_in(client, agent.email, PASSWORD, ATTACKER).status_code == 429


def test_an_ipv6_client_is_counted_by_its_64_network():
    assert throttle.client_from_address("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert throttle.client_from_address("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64"
    assert throttle.client_from_address("::ffff:192.0.2.1") == "192.0.2.1"
    assert throttle.client_from_address("192.0.2.1") == "192.0.2.1"
    assert throttle.client_from_address("") == "unknown"


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (2, 0), (3, 0.5), (4, 1), (5, 2), (6, 3), (50, 3)],
    ids=["none", "two", "three", "four", "five", "six", "fifty"],
)
def test_an_address_s_failures_grow_a_delay_of_a_few_seconds_at_most(failures, seconds, settings):
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 3
    assert throttle.slowdown_after(failures) == seconds


@pytest.mark.django_db
def test_an_address_with_failures_is_slowed_not_refused(agent, settings):
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 0.3
    for n in range(6):
        _sign_in(Client(), agent.email, "wrong", f"192.0.2.{n + 1}")
    assert throttle.slowdown_for(agent.email) == 0.3

    client = Client()
    started = time.monotonic()
    response = _sign_in(client, agent.email, PASSWORD, REAL_USER)
    waited = time.monotonic() - started

    assert response.status_code == 302
    assert waited >= 0.3
    assert _signed_in_user_id(client) == str(agent.pk)


@pytest.mark.django_db
def test_the_sign_in_view_waits_on_the_event_loop():
    """The slow-down is awaited by an async view: it keeps no thread of the server busy."""
    from svardesk.accounts import views

    assert resolve(reverse("accounts:login")).func is views.sign_in
    assert asyncio.iscoroutinefunction(views.sign_in)


@pytest.mark.django_db
def test_a_successful_sign_in_clears_the_address_s_failures(agent):
    for n, spelling in enumerate(
        ["AGENT@svardesk.test", f"agent@{LONG_S}vardesk.test", agent.email]
    ):
        _sign_in(Client(), spelling, "wrong", f"192.0.2.{n + 1}")
    assert throttle.failures_of_address(agent.email) == 3

    client = Client()
    assert _sign_in(client, f"agent@{LONG_S}vardesk.test", PASSWORD, REAL_USER).status_code == 302

    assert throttle.failures_of_address(agent.email) == 0
    assert throttle.slowdown_for(agent.email) == 0
    # A client's own failures stay: someone holding one account cannot reset their count.
    assert throttle.failures_of_client("192.0.2.1") == 1


@pytest.mark.django_db
def test_a_password_reset_clears_the_address_s_failures(agent, django_capture_on_commit_callbacks):
    for n in range(6):
        _sign_in(Client(), agent.email, "wrong", f"192.0.2.{n + 1}")
    assert throttle.failures_of_address(agent.email) == 6

    client = Client()
    token = default_token_generator.make_token(agent)
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    page = client.get(reverse("accounts:password_reset_confirm", args=[uid, token]), follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            page.redirect_chain[-1][0],
            {"new_password1": "a brand new secret 42", "new_password2": "a brand new secret 42"},
        )

    assert response.status_code == 302
    assert throttle.failures_of_address(agent.email) == 0
    agent.refresh_from_db()
    assert agent.check_password("a brand new secret 42")


@pytest.mark.django_db
def test_a_refused_password_reset_keeps_the_failures(agent, django_capture_on_commit_callbacks):
    for n in range(4):
        _sign_in(Client(), agent.email, "wrong", f"192.0.2.{n + 1}")
    client = Client()
    token = default_token_generator.make_token(agent)
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    page = client.get(reverse("accounts:password_reset_confirm", args=[uid, token]), follow=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            page.redirect_chain[-1][0],
            {"new_password1": "a brand new secret 42", "new_password2": "something else 42"},
        )
    assert response.status_code == 200
    assert callbacks == []
    assert throttle.failures_of_address(agent.email) == 4
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


@pytest.mark.django_db
def test_unicode_variants_of_an_address_share_one_counter_and_match_the_same_user(agent):
    variants = [f"agent@{LONG_S}vardesk.test", "AGENT@SVARDESK.TEST", "agent@svardesk.test"]
    for n, spelling in enumerate(variants):
        assert find_user_for_sign_in(spelling) == agent
        _sign_in(Client(), spelling, "wrong", f"192.0.2.{n + 1}")

    assert {sign_in_address(v) for v in variants} == {"agent@svardesk.test"}
    assert throttle.failures_of_address(agent.email) == 3
    client = Client()
    assert _sign_in(client, f"AGENT@{LONG_S}VARDESK.TEST", PASSWORD, REAL_USER).status_code == 302
    assert _signed_in_user_id(client) == str(agent.pk)


@pytest.mark.django_db
def test_an_address_that_matches_no_user_signs_no_one_in(agent):
    assert find_user_for_sign_in("agent@svardesk.test.example") is None
    assert find_user_for_sign_in("") is None
    client = Client()
    response = _sign_in(client, "agent@svardesk.tes", PASSWORD, REAL_USER)
    assert response.status_code == 200
    assert _signed_in_user_id(client) is None


# --- The client address comes from uvicorn, which believes X-Forwarded-For only from a trusted
# proxy (FORWARDED_ALLOW_IPS) --------------------------------------------------------------------


@contextmanager
def _web_server() -> Iterator[str]:
    """The product's web server, configured as `svardesk serve` configures it, in a thread."""
    import uvicorn

    from svardesk.workspace.management.commands.serve import web_server_config

    port = free_port()
    server = uvicorn.Server(web_server_config(host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def _failed_sign_in_over_http(url: str, forwarded_for: str) -> int:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "nobody@example.com", "password": "wrong"}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (http to the test's own server)
        f"{url}/accounts/login/", data=body, headers={"X-Forwarded-For": forwarded_for}
    )
    try:
        return int(opener.open(request).status)
    except urllib.error.HTTPError as refused:
        return refused.code


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("trusted", "forwarded_for", "counted_as"),
    [
        ("", "203.0.113.50", "127.0.0.1"),
        ("10.9.9.9", "203.0.113.50", "127.0.0.1"),
        ("127.0.0.1", "203.0.113.50", "203.0.113.50"),
        ("127.0.0.1,10.0.0.0/8", "198.51.100.1, 203.0.113.50, 10.1.2.3", "203.0.113.50"),
    ],
    ids=["nobody-trusted", "another-proxy-trusted", "proxy-trusted", "forged-left-entry"],
)
def test_x_forwarded_for_is_honoured_only_from_a_trusted_proxy(
    trusted, forwarded_for, counted_as, settings
):
    settings.FORWARDED_ALLOW_IPS = trusted
    with _web_server() as url:
        assert _failed_sign_in_over_http(url, forwarded_for) == 200
    assert throttle.failures_of_client(counted_as) == 1
    others = {"127.0.0.1", "203.0.113.50", "198.51.100.1", "10.1.2.3"} - {counted_as}
    assert [throttle.failures_of_client(ip) for ip in sorted(others)] == [0, 0, 0]


@pytest.mark.django_db(transaction=True)
def test_slowed_sign_ins_are_answered_side_by_side(settings):
    """Eight sign-ins to a slowed address over real HTTP take about one delay, not eight."""
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 0.5
    for _ in range(6):
        throttle.record_failure(address="nobody@example.com", client="192.0.2.1")
    with _web_server() as url:
        results: list[int] = []

        def one(n: int) -> None:
            results.append(_failed_sign_in_over_http(url, f"192.0.2.{n + 10}"))

        threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        elapsed = time.monotonic() - started
    assert results == [200] * 8
    assert 0.5 <= elapsed < 2.5
    assert throttle.failures_of_address("nobody@example.com") == 14


@pytest.mark.django_db
def test_a_slowed_sign_in_waits_without_holding_a_thread(settings):
    """Django's AsyncClient runs every synchronous part of every request on one shared thread:
    eight slowed sign-ins finish together only if none of them waits in a thread (a
    synchronous middleware around the view would hold it for the whole wait)."""
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 0.4
    for _ in range(6):
        throttle.record_failure(address="nobody@example.com", client="192.0.2.1")

    async def eight_sign_ins() -> list[int]:
        client = AsyncClient()
        try:
            responses = await asyncio.gather(
                *(
                    client.post(
                        reverse("accounts:login"),
                        {"username": "nobody@example.com", "password": "wrong"},
                        REMOTE_ADDR=f"192.0.2.{n + 10}",
                    )
                    for n in range(8)
                )
            )
        finally:
            # The shared thread's own database connection (PostgreSQL: back to the pool).
            await sync_to_async(connections.close_all)()
        return [response.status_code for response in responses]

    started = time.monotonic()
    statuses = asyncio.run(eight_sign_ins())
    elapsed = time.monotonic() - started

    assert statuses == [200] * 8
    assert 0.4 <= elapsed < 1.6  # eight waits one after another would take 3.2 s


@pytest.mark.django_db(transaction=True)
def test_over_http_a_user_signs_in_and_gets_their_language():
    """The whole middleware chain runs async under uvicorn: the sign-in and the user's
    language still work through it."""
    from tests.factories import UserFactory

    UserFactory(email="sv@svardesk.test", language="sv", time_zone="Europe/Stockholm")
    with _web_server() as url:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{url}/accounts/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        body = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "SV@svardesk.test", "password": PASSWORD}
        ).encode()
        signed_in = opener.open(f"{url}/accounts/login/", data=body)
        preferences = opener.open(f"{url}/accounts/preferences/")
        html = preferences.read().decode()
    assert signed_in.url.endswith("/")  # followed the redirect away from the sign-in page
    assert "/accounts/login/" not in preferences.url
    assert preferences.headers["Content-Language"].startswith("sv")
    assert '<html lang="sv' in html


@pytest.mark.django_db
def test_a_slowed_sign_in_gives_its_database_connection_back_while_it_waits(settings):
    """A session cookie (anyone can send one) makes the request read the database before the
    view: during the wait that connection goes back (to PostgreSQL's pool), or ten slowed
    sign-ins would hold a web process's ten pooled connections."""
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    if connections["default"].vendor == "sqlite":
        pytest.skip(
            "Django never closes an in-memory SQLite test database (and SQLite has no pool)"
        )
    settings.LOGIN_SLOWDOWN_MAX_SECONDS = 0.6
    for _ in range(6):
        throttle.record_failure(address="nobody@example.com", client="192.0.2.1")

    def connection_is_open() -> bool:
        return connections["default"].connection is not None

    async def scenario() -> tuple[int, bool]:
        client = AsyncClient()
        client.cookies["sessionid"] = "x" * 32  # read from the database, found nowhere
        try:
            sign_in = asyncio.ensure_future(
                client.post(
                    reverse("accounts:login"),
                    {"username": "nobody@example.com", "password": "wrong"},
                    REMOTE_ADDR=REAL_USER,
                )
            )
            await asyncio.sleep(0.3)  # the sign-in is waiting now
            # AsyncClient runs the synchronous parts on one thread: this probe runs there too.
            open_while_waiting = await sync_to_async(connection_is_open)()
            response = await sign_in
        finally:
            await sync_to_async(connections.close_all)()
        return response.status_code, open_while_waiting

    status, open_while_waiting = asyncio.run(scenario())

    assert status == 200
    assert open_while_waiting is False
