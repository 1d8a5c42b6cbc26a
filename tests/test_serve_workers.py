"""`svardesk serve --workers N`: several web processes on one port, sharing the Redis channel
layer, so one install can use every core. Started as a real process; refused without Redis."""

import asyncio
import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.chat_harness import (
    AGENT,
    SVARDESK,
    HttpAgent,
    Install,
    WebProcess,
    install,
    json_frame,
    redis_database,
    redis_running,
    run_async,
)

WEBSITE = "https://www.example.com"
CHATS = 6


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Iterator[Install]:
    if not redis_running():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (CI provides it)")
    with (
        redis_database() as redis_url,
        install(
            tmp_path_factory.mktemp("serve-workers"), name="workers", redis_url=redis_url
        ) as site,
    ):
        site.create_agent(*AGENT, first_name="Anna")
        yield site


def _web_children(web: WebProcess) -> list[int]:
    """serve's uvicorn worker processes (multiprocessing's spawned children)."""
    found = []
    for pid in web.pids()[1:]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in command:  # not the resource tracker
            found.append(pid)
    return found


async def _receive_until(ws: Any, kind: str, *, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {kind} frame"
        frame = json_frame(await asyncio.wait_for(ws.recv(), timeout=remaining))
        if frame.get("type") == kind:
            return frame


def _serve_two_processes(site: Install) -> tuple[WebProcess, list[int]]:
    """`svardesk serve` with two web processes, once both have started."""
    web = site.web(serve=True, extra_env={"SVARDESK_WEB_WORKERS": "2"})
    deadline = time.monotonic() + 30
    while len(_web_children(web)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    children = _web_children(web)
    assert len(children) == 2, web.log.read_text(errors="replace")[-2000:]
    return web, children


def test_two_web_processes_serve_pages_and_chat_on_one_port(site: Install):
    web, _children = _serve_two_processes(site)

    _snippet, key = site.connect_chat("Website chat", WEBSITE)
    agent = HttpAgent(web.url, *AGENT)  # signs in: the login page and its POST
    assert "ticket" in agent.get("/views/all-open/").lower()

    async def scenario() -> list[tuple[str, str]]:
        # The agent is present (their workspace socket), so chats are answered live.
        workspace = await websockets.connect(
            web.ws_url + "/ws/workspace/",
            additional_headers={"Cookie": agent.cookie_header, "Origin": web.url},
        )
        got = []
        # Several widgets and replies, each a new connection: the kernel spreads them over
        # both processes, and a reply posted to one reaches a widget held by the other.
        for n in range(CHATS):
            visitor = await websockets.connect(
                f"{web.ws_url}/ws/chat/{key}/", additional_headers={"Origin": WEBSITE}
            )
            await visitor.send(json.dumps({"type": "hello", "token": None, "lang": "en"}))
            await _receive_until(visitor, "welcome")
            await visitor.send(
                json.dumps(
                    {
                        "type": "message",
                        "client_id": f"c-{n}",
                        "text": "Hi",
                        "name": f"Vera {n}",
                        "email": f"vera{n}@example.net",
                    }
                )
            )
            ack = await _receive_until(visitor, "ack")
            printed = await asyncio.to_thread(
                site.shell,
                "from svardesk.channels.chat.models import ChatSession\n"
                f"print(ChatSession.objects.get(pk={ack['chat_id']}).conversation.ticket_id)",
            )
            ticket_id = int(printed.split()[-1])
            status, _body = await asyncio.to_thread(
                agent.post,
                f"/tickets/{ticket_id}/reply/",
                {"text": f"Answer {n}", "html": ""},
                Referer=f"{web.url}/tickets/{ticket_id}/",
            )
            assert status == 200
            reply = await _receive_until(visitor, "message")
            got.append((reply["from"], reply["text"]))
            await visitor.close()
        await workspace.close()
        return got

    assert run_async(scenario()) == [("agent", f"Answer {n}") for n in range(CHATS)]
    # Both processes took part in serving (each has run Django and answered something).
    cpu = []
    for pid in _web_children(web):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    assert all(seconds > 0 for seconds in cpu), cpu

    web.stop()
    assert web.process.returncode == 0, web.log.read_text(errors="replace")[-3000:]
    assert _web_children(web) == []


def _sockets_on_port(port: int, state: str) -> set[int]:
    """Inodes of the IPv4 TCP sockets whose local port is `port`, in `state` ("0A" listening,
    "01" established), from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(int(fields[9]))
    return found


def _socket_owners(pids: list[int], inodes: set[int]) -> dict[int, int]:
    """How many of `inodes` each process holds open."""
    held = {}
    for pid in pids:
        links = []
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                links.append(os.readlink(fd))
            except OSError:
                continue
        held[pid] = sum(1 for link in links if link[8:-1].isdigit() and int(link[8:-1]) in inodes)
    return held


def test_each_web_process_listens_for_itself_and_connections_spread(site: Install):
    web, children = _serve_two_processes(site)

    # One listening socket per process (SO_REUSEPORT), not one shared by both; a process
    # listens once it has started Django.
    listening = _sockets_on_port(web.port, "0A")
    deadline = time.monotonic() + 30
    while len(listening) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        listening = _sockets_on_port(web.port, "0A")
    assert len(listening) == 2, listening
    for inode in listening:
        assert sorted(_socket_owners(children, {inode}).values()) == [0, 1]

    # A burst of keep-alive connections, as a browser or a proxy opens them: the kernel
    # spreads them over the two sockets.
    connections = [http.client.HTTPConnection("127.0.0.1", web.port) for _n in range(16)]
    for connection in connections:
        connection.connect()
    for connection in connections:
        connection.request("GET", "/accounts/login/")
    for connection in connections:
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    held = _socket_owners(children, _sockets_on_port(web.port, "01"))
    for connection in connections:
        connection.close()
    assert sum(held.values()) == 16, held
    assert min(held.values()) > 0, held  # both processes serve some (all 16 on one: 2 in 65,536)

    web.stop()
    assert web.process.returncode == 0, web.log.read_text(errors="replace")[-3000:]


def test_more_than_one_web_process_needs_redis(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SVARDESK_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [*SVARDESK, "serve", "--workers", "2", "--no-migrate", "--no-worker", "--no-smtp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--workers 2 needs REDIS_URL" in done.stderr
    assert "Svardesk is running" not in done.stdout
