"""Live chat at 500 concurrent widget connections: message delivery latency both ways and
memory per open connection.

Usage:
  .venv/bin/python bench/chat.py [--visitors 500] [--agents 10] [--rate 20] [--duration 60]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench .venv/bin/python bench/chat.py

What runs (all real, on loopback):
- a fresh install (tests/chat_harness.py): its own data folder and database — a SQLite file,
  or with DATABASE_URL naming PostgreSQL a fresh database beside it, dropped at the end — and
  its own emptied Redis database (channel layer, cache, task queue);
- `--web` uvicorn processes (default 2) on the ASGI app, sharing that database and Redis, or
  with `--serve-workers N` one `svardesk serve --workers N` (N web processes on one port,
  and its task worker);
- `--agents` agents signed in over HTTP, each with a workspace socket (so they are present and
  Available), spread over the processes;
- `--visitors` widget sockets speaking docs/chat.md, spread over the processes, each from its
  own loopback address (127.0.x.y: the per-IP limit counts each as one visitor).

Each visitor first sends one message (that creates its chat's ticket); then, during the
measured `--duration` seconds, each chat repeats: the visitor waits a random time (so that all
chats together send `--rate` messages a second), sends a message, and the message is answered
by an agent through the reply endpoint (`POST /tickets/<id>/reply/` as the editor's Send
posts it with htmx, answered with the new message: `send_reply`, then the chat adapter's
delivery over the Redis layer), from a pool of `--agent-threads` HTTP clients. One message is
in flight per chat at a time.

Printed, in milliseconds (p50 / p95 / p99 / max, and how many):
- visitor -> stored: the visitor sends a message until its ack (sent after the commit);
- visitor -> agents: until each agent's workspace socket hears "ticket N changed" (every agent
  socket counts once per message: this is the fan-out the thread's live update rides on);
- agent -> visitor: the reply's POST starts until the visitor's widget socket has it;
- the reply POST's own response time (it also renders the answer: in a chat, the new message);
- delivery alone: from the message's `at` (when the server stored it; same machine, same clock)
  until each agent's socket hears of it, and until the visitor has the reply.
And memory: resident memory of the web processes before and after opening the widget
connections (hello answered, idle), divided by the number of connections.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import websockets

from tests.chat_harness import (
    HttpAgent,
    Install,
    WebProcess,
    install,
    redis_database,
    redis_running,
)

ORIGIN = "https://shop.bench.example"
PASSWORD = "a bench agent password 1"  # noqa: S105 - the bench's own throwaway agents
TIMEOUT = 15.0
IDLE_SECONDS = 10.0


class CollectorPauses:
    """The full (oldest-generation) collections of this process while it measures."""

    def __init__(self) -> None:
        self.durations: list[float] = []
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.durations.append((time.perf_counter() - self._began) * 1000)

    def stop(self) -> None:
        gc.callbacks.remove(self._callback)

    def summary(self) -> str:
        if not self.durations:
            return "none"
        return (
            f"{len(self.durations)}, {sum(self.durations):.1f} ms in all, "
            f"longest {max(self.durations):.1f} ms"
        )


def _epoch(iso: str) -> float:
    """Seconds since the epoch of a frame's `at` (ISO 8601 UTC, "Z")."""
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):6.1f}  p95 {at(0.95):6.1f}  p99 {at(0.99):6.1f}  "
        f"max {ordered[-1] * 1000:6.1f} ms  (n={len(ordered)})"
    )


@dataclass
class Samples:
    stored: list[float] = field(default_factory=list)
    first_stored: list[float] = field(default_factory=list)
    to_agents: list[float] = field(default_factory=list)
    to_visitor: list[float] = field(default_factory=list)
    stored_to_agents: list[float] = field(default_factory=list)
    stored_to_visitor: list[float] = field(default_factory=list)
    reply_post: list[float] = field(default_factory=list)
    lost: dict[str, int] = field(default_factory=dict)

    def lose(self, what: str) -> None:
        self.lost[what] = self.lost.get(what, 0) + 1


class Visitor:
    """One widget connection."""

    def __init__(self, number: int, web: WebProcess, key: str) -> None:
        self.number = number
        self.url = f"{web.ws_url}/ws/chat/{key}/"
        self.ip = f"127.0.{1 + number // 250}.{1 + number % 250}"
        self.ws: Any = None
        self.acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.replies: dict[str, asyncio.Future[tuple[float, float]]] = {}
        self.chat_id = 0
        self.ticket_id = 0
        self.sent = 0

    async def open(self) -> None:
        self.ws = await websockets.connect(
            self.url,
            additional_headers={"Origin": ORIGIN},
            local_addr=(self.ip, 0),
            open_timeout=60,
            ping_interval=None,
            compression=None,
        )
        await self.ws.send(json.dumps({"type": "hello", "token": None, "lang": "en"}))
        while json.loads(await self.ws.recv()).get("type") != "welcome":
            pass
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with suppress(websockets.ConnectionClosed):
            await self._frames()

    async def _frames(self) -> None:
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "ack":
                future = self.acks.pop(frame["client_id"], None)
                if future and not future.done():
                    future.set_result(frame)
            elif kind == "message" and frame.get("from") == "agent":
                marker = str(frame.get("text", "")).split()[-1]
                reply = self.replies.pop(marker, None)
                if reply and not reply.done():
                    reply.set_result((time.perf_counter(), time.time() - _epoch(frame["at"])))

    async def say(self, text: str, **extra: str) -> tuple[float, dict[str, Any]]:
        """Send a message; (seconds until its ack, the ack)."""
        self.sent += 1
        client_id = f"c-{self.number}-{self.sent}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.acks[client_id] = future
        started = time.perf_counter()
        await self.ws.send(
            json.dumps({"type": "message", "client_id": client_id, "text": text, **extra})
        )
        ack = await asyncio.wait_for(future, TIMEOUT)
        return time.perf_counter() - started, ack


class AgentSockets:
    """Every agent's workspace socket: records when each hears "ticket N changed"."""

    def __init__(self) -> None:
        self.waiting: dict[int, tuple[float, list[tuple[float, float]]]] = {}
        self.sockets: list[Any] = []
        self.readers: list[asyncio.Task[None]] = []

    async def open(self, agent: HttpAgent, web: WebProcess) -> None:
        ws = await websockets.connect(
            f"{web.ws_url}/ws/workspace/",
            additional_headers={"Cookie": agent.cookie_header, "Origin": web.url},
            ping_interval=None,
            compression=None,
        )
        self.sockets.append(ws)
        self.readers.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: Any) -> None:
        with suppress(websockets.ConnectionClosed):
            await self._frames(ws)

    async def _frames(self, ws: Any) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") != "ticket.changed":
                continue
            waiting = self.waiting.get(frame["ticket_id"])
            if waiting is not None:
                started, arrivals = waiting
                arrivals.append((time.perf_counter() - started, time.time()))

    def expect(self, ticket_id: int) -> list[tuple[float, float]]:
        arrivals: list[tuple[float, float]] = []
        self.waiting[ticket_id] = (time.perf_counter(), arrivals)
        return arrivals

    def done(self, ticket_id: int) -> None:
        self.waiting.pop(ticket_id, None)


def _chats_by_id(site: Install) -> dict[int, int]:
    printed = site.shell(
        "import json\n"
        "from svardesk.channels.chat.models import ChatSession\n"
        "print(json.dumps(dict(ChatSession.objects.values_list('pk', 'conversation__ticket_id'))))"
    )
    return {int(k): int(v) for k, v in json.loads(printed.strip().splitlines()[-1]).items()}


async def _chat(
    visitor: Visitor,
    agent: HttpAgent,
    agents: AgentSockets,
    pool: ThreadPoolExecutor,
    samples: Samples,
    *,
    mean_wait: float,
    until: float,
) -> None:
    loop = asyncio.get_running_loop()
    rounds = 0
    # Chats start at random moments (a chat that would start after the end does not).
    await asyncio.sleep(min(random.uniform(0, mean_wait), max(0.0, until - time.perf_counter())))
    while time.perf_counter() < until:
        rounds += 1
        arrivals = agents.expect(visitor.ticket_id)
        try:
            took, ack = await visitor.say(f"Question {rounds} from visitor {visitor.number}")
            samples.stored.append(took)
        except TimeoutError:
            samples.lose("visitor message not acknowledged")
            agents.done(visitor.ticket_id)
            continue
        deadline = time.perf_counter() + TIMEOUT
        while len(arrivals) < len(agents.sockets) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        agents.done(visitor.ticket_id)
        samples.to_agents.extend(after for after, _wall in arrivals)
        stored_at = _epoch(ack["at"])
        samples.stored_to_agents.extend(wall - stored_at for _after, wall in arrivals)
        if len(arrivals) < len(agents.sockets):
            samples.lost["agent sockets not told"] = (
                samples.lost.get("agent sockets not told", 0) + len(agents.sockets) - len(arrivals)
            )

        marker = f"r{visitor.number}x{rounds}"
        reply: asyncio.Future[tuple[float, float]] = loop.create_future()
        visitor.replies[marker] = reply
        started = time.perf_counter()
        try:
            status, _body = await loop.run_in_executor(
                pool,
                lambda m=marker: agent.post(
                    f"/tickets/{visitor.ticket_id}/reply/",
                    {"text": f"Answer {m}", "html": ""},
                    **{"HX-Request": "true"},  # as the editor's Send: no redirect
                ),
            )
        except OSError as error:  # the server did not answer in time (urllib: 30 s)
            samples.lose(f"reply POST failed: {type(error).__name__}")
            visitor.replies.pop(marker, None)
            await asyncio.sleep(random.expovariate(1 / mean_wait))
            continue
        samples.reply_post.append(time.perf_counter() - started)
        if status != 200:
            samples.lose(f"reply POST answered {status}")
        try:
            arrived, since_stored = await asyncio.wait_for(reply, TIMEOUT)
            samples.to_visitor.append(arrived - started)
            samples.stored_to_visitor.append(since_stored)
        except TimeoutError:
            samples.lose("reply never reached the visitor")
        await asyncio.sleep(
            min(random.expovariate(1 / mean_wait), max(0.0, until - time.perf_counter()))
        )


async def _run(args: argparse.Namespace, site: Install, webs: list[WebProcess], key: str) -> None:
    samples = Samples()
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=args.agent_threads)
    emails = [f"agent{n}@bench.example" for n in range(args.agents)]
    http_agents = [
        await loop.run_in_executor(pool, HttpAgent, webs[n % len(webs)].url, email, PASSWORD)
        for n, email in enumerate(emails)
    ]
    sockets = AgentSockets()
    for n, agent in enumerate(http_agents):
        await sockets.open(agent, webs[n % len(webs)])
    for web in webs:  # warm: every process has served a page and the config
        await loop.run_in_executor(pool, http_agents[0].on(web.url).get, "/views/all-open/")
    await asyncio.sleep(2)

    rss_before = sum(web.rss_bytes() for web in webs)
    visitors = [Visitor(n, webs[n % len(webs)], key) for n in range(args.visitors)]
    opened = time.perf_counter()
    for start in range(0, len(visitors), 50):  # 50 handshakes at a time
        await asyncio.gather(*(v.open() for v in visitors[start : start + 50]))
    opening = time.perf_counter() - opened
    await asyncio.sleep(3)
    rss_open = sum(web.rss_bytes() for web in webs)
    print(
        f"opened {len(visitors)} widget connections in {opening:.1f} s "
        f"({len(visitors) / opening:.0f}/s, hello answered)"
    )
    print(
        f"memory of the {len(webs)} web processes: {rss_before / 2**20:.1f} MB before, "
        f"{rss_open / 2**20:.1f} MB with the connections open: "
        f"{(rss_open - rss_before) / len(visitors) / 1024:.1f} KB per connection"
    )

    # Every chat's first message: it creates the chat's ticket (not in the measured phase).
    semaphore = asyncio.Semaphore(args.first_concurrency)

    async def first(visitor: Visitor) -> None:
        async with semaphore:
            try:
                took, ack = await visitor.say(
                    f"Hello, I am visitor {visitor.number}",
                    name=f"Visitor {visitor.number}",
                    email=f"visitor{visitor.number}@customers.bench.example",
                )
            except TimeoutError:  # counted; the chat sits the measured phase out
                samples.lose("first message not acknowledged")
                return
            samples.first_stored.append(took)
            visitor.chat_id = int(ack["chat_id"])

    started = time.perf_counter()
    await asyncio.gather(*(first(v) for v in visitors))
    took = time.perf_counter() - started
    print(
        f"first messages (each creates a ticket): {len(visitors)} in {took:.1f} s "
        f"({len(visitors) / took:.0f}/s at {args.first_concurrency} at a time)"
    )
    print(f"  visitor -> stored (ack), new chat   {percentiles(samples.first_stored)}")
    if samples.lost:
        print(f"  lost: {samples.lost}")
    tickets = await loop.run_in_executor(pool, _chats_by_id, site)
    for visitor in visitors:
        visitor.ticket_id = tickets.get(visitor.chat_id, 0)
    chatting = [v for v in visitors if v.ticket_id]
    await asyncio.sleep(2)
    # What the processes spend with every connection open and nobody writing (pings, the
    # layer's receive loops, the agents' presence heartbeats): part of each round's CPU below.
    idle_cpu = sum(web.cpu_seconds() for web in webs)
    await asyncio.sleep(IDLE_SECONDS)
    idle_rate = (sum(web.cpu_seconds() for web in webs) - idle_cpu) / IDLE_SECONDS
    print(
        f"idle, {len(visitors)} connections open: {idle_rate * 1000:.0f} ms of CPU a second "
        f"(load average {os.getloadavg()[0]:.2f})"
    )

    mean_wait = len(chatting) / args.rate
    print(
        f"\nmeasured phase: {args.duration:.0f} s, {args.visitors} chats, about {args.rate:g} "
        f"messages/s each way (a chat waits {mean_wait:.0f} s on average between its messages), "
        f"{args.agents} agent sockets, replies from {args.agent_threads} HTTP clients"
    )
    # A full collection in this client stops its event loop (it holds 500 sockets' worth of
    # objects): a frame arriving meanwhile would be read late, the delay counted as the
    # server's. They are timed and printed, so a run shows whether it had any.
    pauses = CollectorPauses()
    until = time.perf_counter() + args.duration
    rss_start = sum(web.rss_bytes() for web in webs)
    cpu_start = sum(web.cpu_seconds() for web in webs)
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _chat(
                v,
                http_agents[v.number % len(http_agents)],
                sockets,
                pool,
                samples,
                mean_wait=mean_wait,
                until=until,
            )
            for v in chatting
        )
    )
    pauses.stop()
    elapsed = min(time.perf_counter() - started, args.duration)
    print(
        f"  visitor messages {len(samples.stored)} ({len(samples.stored) / elapsed:.1f}/s), "
        f"agent replies {len(samples.reply_post)} ({len(samples.reply_post) / elapsed:.1f}/s)"
    )
    print(f"  visitor -> stored (ack)             {percentiles(samples.stored)}")
    print(f"  visitor -> agents' sockets          {percentiles(samples.to_agents)}")
    print(f"  agent reply POST -> visitor         {percentiles(samples.to_visitor)}")
    print(f"  reply POST response                 {percentiles(samples.reply_post)}")
    print("  delivery alone, from the message's stored time (its `at`, the server's clock):")
    print(f"    visitor message -> agents' sockets {percentiles(samples.stored_to_agents)}")
    print(f"    agent reply -> visitor            {percentiles(samples.stored_to_visitor)}")
    print(f"  lost: {samples.lost or 'nothing'}")
    print(f"  this client's full collections: {pauses.summary()}")
    cpu = sum(web.cpu_seconds() for web in webs) - cpu_start
    wall = time.perf_counter() - started
    rounds = max(1, len(samples.reply_post))
    print(
        f"  CPU of the web processes: {cpu:.1f} s in {wall:.0f} s, "
        f"{cpu / rounds * 1000:.0f} ms per round "
        "(a visitor message, its announcement, a reply and its delivery); "
        f"{max(0.0, cpu - idle_rate * wall) / rounds * 1000:.0f} ms beyond the idle rate"
    )
    print(
        f"memory after the run: {sum(web.rss_bytes() for web in webs) / 2**20:.1f} MB "
        f"(at its start {rss_start / 2**20:.1f} MB)"
    )
    for visitor in visitors:
        await visitor.ws.close()
    for ws in sockets.sockets:
        await ws.close()
    pool.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--agent-threads", type=int, default=16)
    parser.add_argument("--rate", type=float, default=20.0, help="messages/s each way")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--web", type=int, default=2, help="uvicorn processes")
    parser.add_argument(
        "--serve-workers",
        type=int,
        default=0,
        help="instead of --web: one `svardesk serve --workers N` (N web processes on one port)",
    )
    parser.add_argument("--first-concurrency", type=int, default=10)
    args = parser.parse_args()
    if not redis_running():
        sys.exit("Redis is not running on 127.0.0.1:6379")
    database = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else ("SQLite")
    )
    print(f"bench/chat.py on {database}; load average at start {os.getloadavg()[0]:.2f}")
    with (
        tempfile.TemporaryDirectory(prefix="svardesk-chatbench-") as tmp,
        redis_database() as redis_url,
        install(Path(tmp), name="chatbench", redis_url=redis_url) as site,
    ):
        site.shell(
            "from svardesk.accounts.services import create_user\n"
            f"for n in range({args.agents}):\n"
            f"    create_user(actor=None, email=f'agent{{n}}@bench.example', password={PASSWORD!r},"
            " has_seat=True, first_name=f'Agent {n}')\n"
        )
        _snippet, key = site.connect_chat("Bench chat", ORIGIN)
        if args.serve_workers:
            webs = [
                site.web(serve=True, extra_env={"SVARDESK_WEB_WORKERS": str(args.serve_workers)})
            ]
        else:
            webs = [site.web() for _ in range(args.web)]
        asyncio.run(_run(args, site, webs, key))
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
