"""`svardesk serve` runs the whole product on the embedded default: web over ASGI (HTTP and
WebSocket), and the background worker. Started as a real process, as a new user would."""

import asyncio
import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import websockets

from tests.mail_server import free_port

SVARDESK = [sys.executable, "-m", "svardesk"]


def _serve(tmp_path_factory, *, log_to_file=False, **extra_env):
    data = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        SVARDESK_DATA_DIR=str(data),
        DJANGO_SUPERUSER_EMAIL="owner@example.com",
        DJANGO_SUPERUSER_PASSWORD="an owner password 1",
        SVARDESK_LOG_LEVEL="warning",
        **extra_env,
    )
    subprocess.run([*SVARDESK, "migrate", "-v0"], env=env, check=True)
    subprocess.run([*SVARDESK, "createsuperuser", "--noinput"], env=env, check=True)
    port = free_port()
    log = open(data / "serve.log", "wb") if log_to_file else None  # noqa: SIM115
    process = subprocess.Popen(
        [*SVARDESK, "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("svardesk serve did not open its port")
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "env": env,
            "data": Path(data),
            "port": port,
            "process": process,
        }
    finally:
        process.terminate()
        process.wait(timeout=15)
        if log:
            log.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    yield from _serve(tmp_path_factory)


@pytest.fixture(scope="module")
def served_logged(tmp_path_factory):
    """A server whose log (stdout and stderr) is kept in data/serve.log for the test to read."""
    yield from _serve(tmp_path_factory, log_to_file=True)


REDIS_URL = os.environ.get("SVARDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture(scope="module")
def served_with_redis(tmp_path_factory):
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.fail("Redis is not running on 127.0.0.1:6379 (CI provides it)")
    queue = f"svardesk-test-{os.getpid()}"
    yield from _serve(tmp_path_factory, REDIS_URL=REDIS_URL, SVARDESK_TASKS_QUEUE=queue)


def run_async(coroutine):
    """asyncio.run in its own thread: Playwright's session may hold this thread's loop."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _opener():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def _log_in(url, email="owner@example.com", password="an owner password 1"):
    opener, jar = _opener()
    page = opener.open(f"{url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{url}/accounts/login/", data=body, headers={"Referer": f"{url}/accounts/login/"}
    )
    response = opener.open(request)
    assert "/views/unassigned/" in response.geturl()
    return opener, jar


def test_serves_pages_and_static_files(served):
    opener, _jar = _log_in(served["url"])
    page = opener.open(f"{served['url']}/views/all-open/").read().decode()
    assert "Create ticket" in page
    htmx = opener.open(f"{served['url']}/static/vendor/htmx/htmx.min.js").read()
    assert b"htmx" in htmx[:2000]


def test_worker_answers(served):
    result = subprocess.run(
        [*SVARDESK, "worker_check", "--timeout", "20"],
        env=served["env"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "Worker answered" in result.stdout


def test_websocket_announces_ticket_changes(served):
    opener, jar = _log_in(served["url"])
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    ws_url = served["url"].replace("http://", "ws://") + "/ws/workspace/"

    async def scenario():
        async with websockets.connect(
            ws_url, additional_headers={"Cookie": cookies, "Origin": served["url"]}
        ) as ws:
            panel = opener.open(f"{served['url']}/tickets/new/").read().decode()
            pipeline = re.search(r'name="pipeline"[^>]*>\s*<option value="(\d+)"', panel).group(1)
            stage = re.search(r'name="stage"[^>]*>\s*<option value="(\d+)"', panel).group(1)
            body = urllib.parse.urlencode(
                {"name": "From the socket test", "pipeline": pipeline, "stage": stage}
            ).encode()
            request = urllib.request.Request(
                f"{served['url']}/tickets/new/",
                data=body,
                headers={"X-CSRFToken": csrf, "Referer": served["url"] + "/"},
            )
            await asyncio.get_running_loop().run_in_executor(None, opener.open, request)
            return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))

    message = run_async(scenario())
    assert message["type"] == "ticket.changed"
    assert isinstance(message["ticket_id"], int)


def test_websocket_refuses_anonymous(served):
    ws_url = served["url"].replace("http://", "ws://") + "/ws/workspace/"

    async def scenario():
        async with websockets.connect(ws_url, additional_headers={"Origin": served["url"]}) as ws:
            await asyncio.wait_for(ws.recv(), timeout=5)

    with pytest.raises(websockets.InvalidStatus) as exc:
        run_async(scenario())
    assert exc.value.response.status_code == 403


def test_with_redis_a_worker_process_reaches_the_browsers(served_with_redis):
    """With REDIS_URL, announcements from another process (a task worker) travel over Redis:
    several in a row, through the process's one connection."""
    url = served_with_redis["url"]
    _opener, jar = _log_in(url)
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    ws_url = url.replace("http://", "ws://") + "/ws/workspace/"
    announce = (
        "from svardesk.workspace.live import broadcast_ticket_changed\n"
        "for ticket_id in (101, 102, 103):\n"
        "    broadcast_ticket_changed(None, ticket_id=ticket_id)\n"
    )

    async def scenario():
        async with websockets.connect(
            ws_url, additional_headers={"Cookie": cookies, "Origin": url}
        ) as ws:
            await asyncio.sleep(0.5)  # the consumer has joined its group
            done = await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: subprocess.run(
                    [*SVARDESK, "shell", "-c", announce],
                    env=served_with_redis["env"],
                    capture_output=True,
                    text=True,
                    timeout=60,
                ),
            )
            assert done.returncode == 0, done.stderr
            return [json.loads(await asyncio.wait_for(ws.recv(), timeout=10)) for _ in range(3)]

    messages = run_async(scenario())
    assert [m["ticket_id"] for m in messages] == [101, 102, 103]
    assert {m["type"] for m in messages} == {"ticket.changed"}


# A team agent and a ticket of each team, made in the served database.
TEAM_AGENT_AND_TICKETS = """
from svardesk.accounts.services import create_user
from svardesk.teams.services import create_team
from svardesk.tickets.queries import get_default_pipeline
from svardesk.tickets.services import create_ticket

billing, support = create_team(actor=None, name="Billing"), create_team(actor=None, name="Support")
bo = create_user(actor=None, email="bo@example.com", password="a billing password 1",
                 has_seat=True, ticket_access="team", primary_team=billing, teams=[billing])
tickets = [create_ticket(actor=None, name=t.name, pipeline=get_default_pipeline(), team=t)
           for t in (support, billing)]
print(bo.pk, *(t.pk for t in tickets))
"""


def test_with_redis_sockets_follow_their_users_permissions(served_with_redis):
    """Over Redis, from another process: a team agent's socket hears of its team's ticket but
    not of another team's, and a change to the agent's permissions closes it."""
    url, env = served_with_redis["url"], served_with_redis["env"]

    def shell(code: str) -> str:
        done = subprocess.run(
            [*SVARDESK, "shell", "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    printed = shell(TEAM_AGENT_AND_TICKETS).splitlines()[-1]
    bo_id, support_ticket, billing_ticket = map(int, printed.split())
    _opener, jar = _log_in(url, "bo@example.com", "a billing password 1")
    cookies = "; ".join(f"{c.name}={c.value}" for c in jar)
    changes = (
        "from svardesk.workspace.live import broadcast_ticket_changed\n"
        f"for ticket_id in ({support_ticket}, {billing_ticket}):\n"
        "    broadcast_ticket_changed(None, ticket_id=ticket_id)\n"
    )
    to_own_tickets = (
        "from svardesk.accounts.models import User\n"
        "from svardesk.accounts.services import update_user\n"
        f"bo = User.objects.get(pk={bo_id})\n"
        "update_user(bo, actor=None, primary_team=bo.primary_team, teams=bo.teams.all(),"
        " ticket_access='own')\n"
    )

    async def scenario():
        loop = asyncio.get_running_loop()
        async with websockets.connect(
            url.replace("http://", "ws://") + "/ws/workspace/",
            additional_headers={"Cookie": cookies, "Origin": url},
        ) as ws:
            await asyncio.sleep(0.5)  # the consumer has joined its groups
            await loop.run_in_executor(None, shell, changes)
            heard = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            await loop.run_in_executor(None, shell, to_own_tickets)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), timeout=10)
            return heard, closed.value.rcvd.code

    heard, close_code = run_async(scenario())
    # Only the Billing ticket is heard of; the message also carries its version and stage (and,
    # with no actor, no origin).
    assert (heard["type"], heard["ticket_id"]) == ("ticket.changed", billing_ticket)
    assert set(heard) == {"type", "ticket_id", "version", "stage_id"}
    assert close_code == 4001


def test_a_quiet_log_for_ordinary_requests(served_logged):
    """Static files served natively over ASGI (no sync-iterator warning), a favicon, and an
    expected 403 logged as one line, not a traceback."""
    url = served_logged["url"]
    subprocess.run(
        [
            *SVARDESK,
            "shell",
            "-c",
            "from svardesk.accounts.models import User;"
            "User.objects.create_user(email='seatless@example.com', password='a seatless pw 1',"
            " has_seat=False)",
        ],
        env=served_logged["env"],
        check=True,
    )
    opener, _jar = _opener()
    htmx = opener.open(f"{url}/static/vendor/htmx/htmx.min.js").read()
    assert b"htmx" in htmx[:2000]

    page = opener.open(f"{url}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token,
            "username": "seatless@example.com",
            "password": "a seatless pw 1",
        }
    ).encode()
    request = urllib.request.Request(
        f"{url}/accounts/login/", data=body, headers={"Referer": f"{url}/accounts/login/"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request)
    assert refused.value.code == 403

    time.sleep(0.5)
    log = (served_logged["data"] / "serve.log").read_text()
    assert "StreamingHttpResponse must consume synchronous iterators" not in log
    assert "Traceback" not in log
    assert "Forbidden" in log
    favicon = opener.open(f"{url}/favicon.ico")
    assert favicon.status == 200
    assert favicon.headers["Content-Type"].startswith("image/")


def test_a_stalled_upload_does_not_keep_serve_from_stopping(tmp_path_factory):
    """A client that sends half a request body and goes quiet (a dropped upload) holds its
    request open; stopping waits SVARDESK_STOP_TIMEOUT for it, then cancels it and exits."""
    serving = _serve(tmp_path_factory, log_to_file=True, SVARDESK_STOP_TIMEOUT="2")
    served = next(serving)
    process = served["process"]
    try:
        with socket.create_connection(("127.0.0.1", served["port"]), timeout=5) as client:
            client.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100000\r\n\r\nusername=a"
            )
            time.sleep(1)  # the headers are in: the request runs, waiting for its body
            process.terminate()
            # Without a limit this waits for the rest of the body forever.
            process.wait(timeout=60)
        assert process.returncode == 128 + 15  # as after any SIGTERM (cleanly, not killed)
        log = (served["data"] / "serve.log").read_text()
        assert "timeout graceful shutdown exceeded" in log, log[-2000:]
    finally:
        serving.close()


def test_the_web_application_freezes_what_it_loaded_out_of_full_collections():
    import gc

    import svardesk.config.asgi  # noqa: F401 - importing it is what serving does

    # Django, the apps and the URLconf: a full collection no longer walks them.
    assert gc.get_freeze_count() > 50_000
