"""What the HTTP benches share: a free port, wrk's summary as one JSON line, and the load."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from typing import Any

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
