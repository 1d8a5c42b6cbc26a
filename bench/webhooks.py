"""Messenger and call webhooks per second, end to end: signed HTTP POSTs to a real server →
stored raw → processed → messages (and tickets) stored.

Usage:
  .venv/bin/python bench/webhooks.py [--events 2000] [--concurrency 16] [--workers 2]

PostgreSQL only: DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
svardesk_bench_webhooks, created when missing and migrated); REDIS_URL (default
redis://127.0.0.1:6379/9) so that several web processes can run. Each run connects its own
Facebook Page and phone number (`svardesk connect_messenger`, `svardesk connect_calls`) and
checks only their rows, so earlier runs' data may stay.

It starts a fake Graph API (a separate process answering profile lookups: a person's first
message asks for their name), then `svardesk serve --workers W` (uvicorn's W web processes on
one socket, plus the task worker it always runs), and then `--concurrency` client threads
(one keep-alive http.client connection each) POST, from precomputed signed requests:

- Messenger: `--events` deliveries to /channels/messenger/<key>/webhook, one text message
  each with its own mid, a tenth of the senders writing twice (X-Hub-Signature-256);
- calls: `--events` calls, each one client's sequence of Twilio-signed callbacks
  (X-Twilio-Signature) to /channels/calls/<key>/…: a missed call is voice (ringing) +
  status (no-answer); a `--voicemail-share` of them is voice + status (completed) +
  recording + transcription. A tenth of the callers call twice.

The clock runs from the first POST until the last answer and then until no stored row is
pending (polled in this process), so it holds whether a channel processes a webhook in its
request or answers once it is stored and leaves the rest to the task worker. Then it
checks: every delivery/callback stored once and processed without error, one message per
mid / per call, none doubled, every voicemail's transcript in its message. Prints
webhooks/s end to end and the latency of one POST (p50, p95, p99, max) per channel, and the
web processes' and the task worker's CPU per webhook.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SVARDESK = str(ROOT / ".venv" / "bin" / "svardesk")
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/svardesk_bench_webhooks"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "benchf00d" * 3
APP_SECRET = "bench-app-secret-0123456789"  # noqa: S105 (the bench Page's own)
RECORDING = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'1' * 32}"


# --- Processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered on port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found.append(int(child))
            found.extend(descendants(int(child)))
    return found


def web_processes(serve_pid: int) -> list[int]:
    """The uvicorn web processes under `svardesk serve` (not its task worker)."""
    web = []
    for pid in descendants(serve_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"run_huey" not in command:
            web.append(pid)
    return web or [serve_pid]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class GraphHandler(BaseHTTPRequestHandler):
    """The Graph API's profile lookup, as Meta answers it (first and last name)."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: with Nagle's algorithm on, the client's delayed
    # ACK held every answer ~40 ms, which measured this stand-in instead of Svardesk.
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        psid = urllib.parse.urlsplit(self.path).path.rstrip("/").rsplit("/", 1)[-1]
        body = json.dumps({"first_name": "Kund", "last_name": psid[-6:], "id": psid}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_graph(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), GraphHandler).serve_forever()


# --- Database --------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def setup_django(env: dict[str, str]) -> None:
    for key in ("DATABASE_URL", "REDIS_URL", "SVARDESK_DATA_DIR", "SVARDESK_TASKS_QUEUE"):
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- Requests --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    path: str
    body: bytes
    headers: dict[str, str]
    expect: int  # the status a valid webhook gets


@dataclass
class Measured:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    answered: float = 0.0
    web_cpu: float = 0.0
    worker_cpu: float = 0.0
    client_cpu: float = 0.0
    worker_pids: list[int] = field(default_factory=list)


def messenger_posts(path: str, page_id: str, events: int, run: str) -> list[list[Post]]:
    """One delivery per event, each its own sequence (any client, any order)."""
    senders = max(1, events * 9 // 10)  # a tenth of the senders write twice
    stamp = int(time.time() * 1000)
    sequences = []
    for n in range(events):
        body = json.dumps(
            {
                "object": "page",
                "entry": [
                    {
                        "id": page_id,
                        "time": stamp + n,
                        "messaging": [
                            {
                                "sender": {"id": f"7{run}{n % senders:07d}"},
                                "recipient": {"id": page_id},
                                "timestamp": stamp + n,
                                "message": {
                                    "mid": f"m_bench{run}_{n:07d}",
                                    "text": f"Hej! Min beställning {n} har inte kommit. "
                                    "Kan ni kontrollera vad som har hänt?",
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()
        signature = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
        sequences.append([Post(path, body, headers, 200)])
    return sequences


def call_posts(
    base_url: str, paths: dict[str, str], number: str, calls: int, voicemail_share: float, run: str
) -> tuple[list[list[Post]], int]:
    """Each call's callbacks in the order Twilio sends them (one client posts them in turn)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(AUTH_TOKEN)
    callers = max(1, calls * 9 // 10)
    voicemails = round(calls * voicemail_share)
    every = calls / voicemails if voicemails else 0.0
    marked = {int(k * every) for k in range(voicemails)}
    sequences = []
    for n in range(calls):
        call_sid = f"CA{run}{n:08d}".ljust(34, "0")
        caller = f"+4670{(int(run) * 7919 + n % callers) % 10_000_000:07d}"
        base = {
            "CallSid": call_sid,
            "AccountSid": ACCOUNT_SID,
            "From": caller,
            "To": number,
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        steps: list[tuple[str, dict[str, str], int]] = [
            ("voice", {**base, "CallStatus": "ringing"}, 200)
        ]
        if n in marked:
            steps += [
                ("status", {**base, "CallStatus": "completed", "CallDuration": "31"}, 204),
                (
                    "recording",
                    {
                        "AccountSid": ACCOUNT_SID,
                        "CallSid": call_sid,
                        "RecordingSid": "RE" + "1" * 32,
                        "RecordingUrl": RECORDING,
                        "RecordingStatus": "completed",
                        "RecordingDuration": "17",
                        "RecordingChannels": "1",
                        "RecordingSource": "RecordVerb",
                    },
                    204,
                ),
                (
                    "transcription",
                    {
                        **base,
                        "CallStatus": "completed",
                        "TranscriptionSid": "TR" + "2" * 32,
                        "TranscriptionText": f"Hej, det gäller order {n}, ring mig tillbaka.",
                        "TranscriptionStatus": "completed",
                        "RecordingSid": "RE" + "1" * 32,
                        "RecordingUrl": RECORDING,
                    },
                    204,
                ),
            ]
        else:
            steps.append(("status", {**base, "CallStatus": "no-answer", "CallDuration": "0"}, 204))
        sequence = []
        for kind, params, expect in steps:
            signature = validator.compute_signature(f"{base_url}{paths[kind]}", params)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }
            sequence.append(
                Post(paths[kind], urllib.parse.urlencode(params).encode(), headers, expect)
            )
        sequences.append(sequence)
    return sequences, len(marked)


def post_all(port: int, sequences: list[list[Post]], concurrency: int, serve_pid: int) -> Measured:
    """`concurrency` keep-alive clients take sequences in turn and post each one's requests
    in order; the latency of every POST, the time to the last answer and the CPU spent."""
    measured = Measured()
    lock = threading.Lock()
    queue = iter(sequences)
    start = threading.Barrier(concurrency + 1)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        start.wait()
        while True:
            with lock:
                sequence = next(queue, None)
            if sequence is None:
                break
            for post in sequence:
                began = time.perf_counter()
                connection.request("POST", post.path, body=post.body, headers=post.headers)
                response = connection.getresponse()
                answer = response.read()
                took = time.perf_counter() - began
                with lock:
                    measured.latencies.append(took)
                    if response.status != post.expect:
                        measured.failures.append(f"{post.path}: {response.status} {answer[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    web = web_processes(serve_pid)
    worker = [pid for pid in descendants(serve_pid) if pid not in web]
    web_before = sum(cpu_seconds(pid) for pid in web)
    worker_before = sum(cpu_seconds(pid) for pid in worker)
    client_before = time.process_time()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    measured.answered = time.perf_counter() - began
    measured.web_cpu = sum(cpu_seconds(pid) for pid in web) - web_before
    # The worker's CPU is read again once everything is processed (`worker_done`).
    measured.worker_pids, measured.worker_cpu = worker, -worker_before
    measured.client_cpu = time.process_time() - client_before
    return measured


def worker_done(measured: Measured) -> None:
    """The task worker's CPU from the first POST until now (processing may follow the answers)."""
    measured.worker_cpu += sum(cpu_seconds(pid) for pid in measured.worker_pids)


def wait_until(done: Callable[[], bool], timeout: float = 600.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return False


# --- Checks ----------------------------------------------------------------------------------


def messenger_pending(page_id: str) -> int:
    from svardesk.channels.messenger.models import MessengerEvent

    return MessengerEvent.objects.filter(page__page_id=page_id, processed_at__isnull=True).count()


def calls_pending(channel_id: int) -> int:
    from svardesk.channels.calls.models import CallCallback

    return CallCallback.objects.filter(
        call_channel__channel_id=channel_id, processed_at__isnull=True
    ).count()


def check_messenger(page_id: str, events: int, run: str) -> list[str]:
    from django.db.models import Count

    from svardesk.channels.messenger.models import MessengerEvent, MessengerPage, MessengerUser
    from svardesk.conversations.models import Message

    page = MessengerPage.objects.get(page_id=page_id)
    stored = MessengerEvent.objects.filter(page=page)
    messages = Message.objects.filter(channel_id=page.channel_id)
    senders = len({n % max(1, events * 9 // 10) for n in range(events)})
    doubled = messages.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    facts = {
        "deliveries stored": (stored.count(), events),
        "deliveries processed without error": (
            stored.filter(processed_at__isnull=False, error="").count(),
            events,
        ),
        "messages": (messages.count(), events),
        "distinct mids": (
            messages.filter(message_id__startswith=f"m_bench{run}_")
            .values("message_id")
            .distinct()
            .count(),
            events,
        ),
        "mids stored twice": (doubled, 0),
        "senders (Messenger users)": (MessengerUser.objects.filter(page=page).count(), senders),
        "conversations": (messages.values("conversation_id").distinct().count(), senders),
        "tickets": (
            messages.values("conversation__ticket_id").distinct().count(),
            senders,
        ),
    }
    return report(facts)


def check_calls(channel_id: int, calls: int, voicemails: int, posts: int, run: str) -> list[str]:
    from django.db.models import Count

    from svardesk.channels.calls.models import Call, CallCallback
    from svardesk.conversations.models import Message

    callbacks = CallCallback.objects.filter(call_channel__channel_id=channel_id)
    messages = Message.objects.filter(channel_id=channel_id)
    doubled = messages.values("message_id").annotate(n=Count("id")).filter(n__gt=1).count()
    call_rows = Call.objects.filter(call_channel__channel_id=channel_id)
    facts = {
        "callbacks stored": (callbacks.count(), posts),
        "callbacks processed without error": (
            callbacks.filter(processed_at__isnull=False, error="").count(),
            posts,
        ),
        "calls": (call_rows.count(), calls),
        "calls with their message": (call_rows.filter(message__isnull=False).count(), calls),
        "messages": (messages.count(), calls),
        "distinct call messages": (
            messages.filter(message_id__startswith=f"call:CA{run}")
            .values("message_id")
            .distinct()
            .count(),
            calls,
        ),
        "messages stored twice": (doubled, 0),
        "voicemails with their transcript": (
            messages.filter(body_text__contains="ring mig tillbaka").count(),
            voicemails,
        ),
        "missed calls": (call_rows.filter(status="no-answer").count(), calls - voicemails),
    }
    return report(facts)


def report(facts: dict[str, tuple[int, int]]) -> list[str]:
    problems = []
    for label, (found, expected) in facts.items():
        mark = "ok" if found == expected else "WRONG"
        print(f"    {label}: {found} (expected {expected}) {mark}")
        if found != expected:
            problems.append(label)
    return problems


def summary(unit: str, count: int, posts: int, elapsed: float, m: Measured) -> None:
    lat = m.latencies
    print(
        f"  {posts} POSTs ({count} {unit}) answered in {m.answered:.2f} s, all processed in "
        f"{elapsed:.2f} s: **{posts / elapsed:.0f} webhooks/s** end to end "
        f"({count / elapsed:.0f} {unit}/s)"
    )
    if lat:
        print(
            "  POST latency ms: "
            + "  ".join(
                f"{k} {v * 1000:.1f}"
                for k, v in (
                    ("p50", percentile(lat, 0.50)),
                    ("p95", percentile(lat, 0.95)),
                    ("p99", percentile(lat, 0.99)),
                    ("max", max(lat)),
                )
            )
        )
    print(
        f"  CPU: web processes {m.web_cpu:.1f} s ({m.web_cpu / posts * 1000:.2f} ms per "
        f"webhook), task worker {m.worker_cpu:.1f} s ({m.worker_cpu / posts * 1000:.2f} ms), "
        f"this client {m.client_cpu:.1f} s; "
        f"failed answers {len(m.failures)}"
    )
    for failure in m.failures[:5]:
        print("   ", failure)


# --- The run ---------------------------------------------------------------------------------


def show_server_log(path: Path) -> None:
    if not path.exists():
        return
    lines = [
        line
        for line in path.read_text(errors="replace").splitlines()
        if not line.startswith("Forbidden: ")
    ]
    if lines:
        print("Server output:")
        for line in lines[-40:]:
            print("   ", line)


def command_output(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(  # noqa: S603
        [SVARDESK, *args], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="Messenger events and calls")
    parser.add_argument("--concurrency", type=int, default=16, help="keep-alive clients")
    parser.add_argument("--workers", type=int, default=2, help="web processes (serve --workers)")
    parser.add_argument("--voicemail-share", type=float, default=0.3)
    parser.add_argument("--only", choices=["messenger", "calls"], default=None)
    parser.add_argument(
        "--refused",
        type=int,
        default=0,
        help="first POST this many Messenger deliveries with a wrong signature (403, nothing "
        "stored): the framework's share of a webhook's CPU",
    )
    args = parser.parse_args()

    database = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE
    if not database.startswith("postgres"):
        sys.exit("bench/webhooks.py measures PostgreSQL: set DATABASE_URL to a postgres:// URL")
    ensure_database(database)
    data_dir = Path(tempfile.mkdtemp(prefix="svardesk-webhooks-bench-"))
    port, graph_port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    run = f"{int(time.time()) % 100000:05d}"
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database,
            "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS,
            "SVARDESK_DATA_DIR": str(data_dir),
            "SVARDESK_BASE_URL": base_url,  # the URL Twilio signs
            "SVARDESK_GRAPH_API_URL": f"http://127.0.0.1:{graph_port}",
            "SVARDESK_LOG_LEVEL": "WARNING",
            "SVARDESK_TASKS_QUEUE": f"svardesk-webhooks-bench-{run}",
        }
    )
    processes: list[subprocess.Popen[bytes]] = []
    failed: list[str] = []
    try:
        subprocess.run([SVARDESK, "migrate", "-v0"], env=env, check=True)  # noqa: S603
        page_id = f"9{run}{random.randrange(10**6):06d}"
        webhook = command_output(
            [
                "connect_messenger", "--page-id", page_id, "--page-token", "EAAG-bench-token",
                "--app-secret", APP_SECRET, "--verify-token", "bench-verify",
                "--name", f"Bench {run}",
            ],
            env,
        ).strip().splitlines()[-1]  # fmt: skip
        messenger_path = urllib.parse.urlsplit(webhook).path
        number = f"+468{random.randrange(10**7, 10**8)}"
        lines = command_output(
            ["connect_calls", number, "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN],
            env,
        ).splitlines()
        voice_path = urllib.parse.urlsplit(lines[-1]).path
        key = re.search(r"/channels/calls/([^/]+)/voice/", voice_path)
        if key is None:
            sys.exit(f"no voice webhook in {lines[-1]!r}")
        paths = {
            kind: f"/channels/calls/{key.group(1)}/{kind}/"
            for kind in ("voice", "status", "recording", "transcription")
        }
        setup_django(env)
        from svardesk.channels.calls.models import CallChannel

        call_channel_id = CallChannel.objects.get(phone_number=number).channel_id

        processes.append(
            subprocess.Popen(  # noqa: S603
                [sys.executable, __file__, "--serve-graph", str(graph_port)]
            )
        )
        # The server's output goes to a file, shown at the end without the warning Django
        # logs for every refused POST (the root handler prints what `django` propagates).
        log = open(data_dir / "serve.log", "wb")  # noqa: SIM115 (open while serve runs)
        serve = subprocess.Popen(  # noqa: S603
            [
                SVARDESK, "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(args.workers), "--no-migrate", "--no-smtp",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        processes.append(serve)
        wait_for(graph_port)
        wait_for(port)
        time.sleep(2)  # every web process started
        with open("/proc/loadavg") as load:
            print(f"PostgreSQL, {args.workers} web processes, {args.concurrency} clients; "
                  f"load average before: {' '.join(load.read().split()[:3])}")  # fmt: skip

        if args.refused:
            forged = [
                [
                    Post(
                        post.path,
                        post.body,
                        {**post.headers, "X-Hub-Signature-256": "sha256=0"},
                        403,
                    )
                ]
                for [post] in messenger_posts(messenger_path, page_id, args.refused, run)
            ]
            measured = post_all(port, forged, args.concurrency, serve.pid)
            print("Refused (wrong signature, nothing stored):")
            worker_done(measured)
            summary("deliveries", args.refused, args.refused, measured.answered, measured)
            failed += ["refused answers"] if measured.failures else []

        if args.only in (None, "messenger"):
            sequences = messenger_posts(messenger_path, page_id, args.events, run)
            began = time.perf_counter()
            measured = post_all(port, sequences, args.concurrency, serve.pid)
            wait_until(lambda: messenger_pending(page_id) == 0)
            elapsed = time.perf_counter() - began
            worker_done(measured)
            print("Messenger:")
            summary("events", args.events, args.events, elapsed, measured)
            failed += check_messenger(page_id, args.events, run)
            failed += ["Messenger answers"] if measured.failures else []

        if args.only in (None, "calls"):
            sequences, voicemails = call_posts(
                base_url, paths, number, args.events, args.voicemail_share, run
            )
            posts = sum(len(s) for s in sequences)
            began = time.perf_counter()
            measured = post_all(port, sequences, args.concurrency, serve.pid)
            wait_until(lambda: calls_pending(call_channel_id) == 0)
            elapsed = time.perf_counter() - began
            worker_done(measured)
            print(f"Calls ({args.events - voicemails} missed, {voicemails} voicemails):")
            summary("calls", args.events, posts, elapsed, measured)
            failed += check_calls(call_channel_id, args.events, voicemails, posts, run)
            failed += ["call answers"] if measured.failures else []
        with open("/proc/loadavg") as load:
            print(f"Load average after: {' '.join(load.read().split()[:3])}")
    finally:
        # The graph server is a plain child; `serve` leads its own session (web processes
        # and task worker), ended as a group.
        for process in processes:
            if process.poll() is None:
                if process.args[1] == "serve":  # type: ignore[index]
                    os.killpg(process.pid, signal.SIGTERM)
                else:
                    process.terminate()
        for process in processes:
            process.wait(timeout=30)
        show_server_log(data_dir / "serve.log")
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        sys.exit("CHECKS FAILED: " + ", ".join(failed))
    print("Checks passed: every webhook stored once and processed, one message per mid / call.")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-graph":
        serve_graph(int(sys.argv[2]))
    else:
        main()
