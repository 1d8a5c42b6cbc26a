"""What the HTTP benches share: a free port, wrk's summary as one JSON line, and the load."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# wrk's Lua hook: one JSON line with what we print (latency in microseconds).
WRK_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, ' ..
    '"non_2xx": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout))
end
"""


def start_web(
    port: int, workers: int, *, ready_path: str, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`svardesk serve --workers N` (the product's web server: uvicorn's processes, each
    listening for itself) on 127.0.0.1:`port`, without its task worker, SMTP receiver or
    migrations, against this environment; returns once `ready_path` answers."""
    if not os.environ.get("REDIS_URL"):
        print("warning: REDIS_URL is not set; the web processes share no cache", flush=True)
    command = [sys.executable, "-m", "svardesk", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers)]
    command += ["--no-worker", "--no-migrate", "--no-smtp"]
    server_env = {**os.environ, "SVARDESK_LOG_LEVEL": "warning", **(env or {})}
    server = subprocess.Popen(command, cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"svardesk serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=2):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("svardesk serve did not answer within 60 s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_wrk(
    url: str, connections: int, duration: int, script: str, headers: list[str]
) -> dict[str, Any]:
    """One wrk run (one thread) with `script`, whose `done` prints WRK_DONE's JSON line."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s"]
    command += ["-s", script]
    for header in headers:
        command += ["-H", header]
    completed = subprocess.run(  # noqa: S603
        [*command, url],  # Debian's wrk on PATH
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in completed.stdout.splitlines() if line.startswith("{"))
    return json.loads(line)


def load() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())
