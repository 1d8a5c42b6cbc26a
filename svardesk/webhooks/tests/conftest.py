"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1 that records every
request, and Huey running tasks as they are enqueued."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    @property
    def events(self) -> list[dict[str, Any]]:
        parsed: list[dict[str, Any]] = json.loads(self.body)
        return parsed


class Receiver:
    """Answers each POST with the next of `statuses` (200 once they run out)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.statuses: list[int] = []
        self.delay = 0.0  # seconds before answering
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                with receiver.lock:
                    receiver.requests.append(
                        Received("POST", self.path, dict(self.headers.items()), body)
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"{receiver.url}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self, path: str | None = None) -> list[dict[str, Any]]:
        return [e for r in self.requests if path is None or r.path == path for e in r.events]


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    """Huey runs tasks as they are enqueued (scheduled retries wait in its memory)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.fixture
def subscribe(db, super_admin, receiver, tasks_now):  # type: ignore[no-untyped-def]
    """Make a subscription to `receiver` at `path` for `event_types`."""
    from svardesk.webhooks import services

    def make(event_types: list[str], path: str = "/hook", **kwargs: Any):  # type: ignore[no-untyped-def]
        return services.create_subscription(
            actor=super_admin,
            name=kwargs.pop("name", f"Hook {path}"),
            target_url=receiver.url + path,
            event_types=event_types,
            **kwargs,
        )

    return make
