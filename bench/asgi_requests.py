"""CPU per request through the ASGI entry point, in this process, without a server or a client.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_<you>_1m \\
      .venv/bin/python bench/asgi_requests.py [--requests 1000] [--rounds 5] [--concurrency 4]

Drives `svardesk.config.asgi:application` directly (the HTTP scope, a body that came whole, a
`send` that keeps nothing) with three requests that need no data: GET of a page that does not
exist (the middleware list, URL resolution, the 404 page), a POST to a Messenger webhook
with an unknown key (one query, the 403) and an API GET with an unknown token (one query,
HubSpot's 401 body). `--concurrency` requests run
at a time on the event loop, as uvicorn would hand them over. Prints the process's CPU per
request (median and best of `--rounds` rounds of `--requests`): the cost of the request path
itself — the thread hop, Django's handler and middleware — without uvicorn's parsing and the
network, which `bench/http_pages.py` and `bench/webhooks.py` include.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")

UNKNOWN_TOKEN = [(b"authorization", b"Bearer pat-na1-00000000-0000-0000-0000-000000000000")]
CASES: list[tuple[str, str, bytes, int, list[tuple[bytes, bytes]]]] = [
    ("GET", "/no-such-page/", b"", 404, []),
    ("POST", "/channels/messenger/no-such-key/webhook", b'{"object":"page"}', 403, []),
    ("GET", "/crm/v3/objects/tickets/1", b"", 401, UNKNOWN_TOKEN),
]


def scope(method: str, path: str, body: bytes, extra: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"application/json"),
            *extra,
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
    }


async def one(
    application: Any,
    method: str,
    path: str,
    body: bytes,
    status: int,
    extra: list[tuple[bytes, bytes]],
) -> None:
    head: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            head.update(message)

    await application(scope(method, path, body, extra), receive, send)
    if head.get("status") != status:
        raise SystemExit(f"{method} {path} answered {head.get('status')}, not {status}")


async def run(application: Any, count: int, concurrency: int, case: tuple[Any, ...]) -> None:
    async def worker(share: int) -> None:
        for _ in range(share):
            await one(application, *case)

    await asyncio.gather(*(worker(count // concurrency) for _ in range(concurrency)))


async def main(args: argparse.Namespace) -> None:
    from svardesk.config.asgi import application

    logging.getLogger("django.request").setLevel(logging.ERROR)  # a 403/404 line each
    for case in CASES:
        await run(application, 200, args.concurrency, case)  # warm: connections, caches
        per_request = []
        for _ in range(args.rounds):
            started = time.process_time()
            await run(application, args.requests, args.concurrency, case)
            per_request.append((time.process_time() - started) / args.requests * 1000)
        print(
            f"{case[0]} {case[1]} ({case[3]}): CPU per request "
            f"median {statistics.median(per_request):.3f} ms, best {min(per_request):.3f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
