"""A local fake of the Graph API for the Messenger tests: a real HTTP server (a thread) that
checks the wire format of what Svardesk sends, records every request, serves profiles and
files, and fails when told to."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VERSION = "v21.0"
TOKEN = "EAAG-page-token-secret"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, tuple[str, str, bytes]] = field(default_factory=dict)  # name → file


@dataclass
class FakeGraph:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path → (type, bytes)
    fail_sends: int = 0  # the next N Send API calls answer a Graph error
    problems: list[str] = field(default_factory=list)  # wire-format violations seen

    def sends(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def profile_lookups(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and "fields" in r.query]


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Any]]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    form: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename:
            files[str(name)] = (filename, part.get_content_type(), payload)
        else:
            form[str(name)] = payload.decode()
    return form, files


def _handler(fake: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, data: Any, content_type: str = "application/json") -> None:
            body = data if isinstance(data, bytes) else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _record(self) -> Recorded:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            recorded = Recorded(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
            )
            fake.requests.append(recorded)
            return recorded

        def _graph_error(self, status: int, message: str, code: int = 100) -> None:
            self._answer(
                status, {"error": {"message": message, "type": "OAuthException", "code": code}}
            )

        def do_GET(self) -> None:
            recorded = self._record()
            if recorded.path in fake.files:
                content_type, payload = fake.files[recorded.path]
                self._answer(200, payload, content_type)
                return
            prefix = f"/{VERSION}/"
            if not recorded.path.startswith(prefix):
                fake.problems.append(f"GET {recorded.path}: not under /{VERSION}/")
                self._answer(404, {"error": {"message": "Unknown path", "code": 803}})
                return
            if recorded.query.get("access_token") != [TOKEN]:
                self._graph_error(400, "Invalid OAuth access token.", 190)
                return
            psid = recorded.path[len(prefix) :]
            if recorded.query.get("fields") != ["first_name,last_name,profile_pic"]:
                fake.problems.append(f"profile fields {recorded.query.get('fields')}")
            profile = fake.profiles.get(psid)
            if profile is None:
                self._graph_error(400, "(#230) Requires pages_messaging permission", 230)
                return
            self._answer(200, {"id": psid, **profile})

        def do_POST(self) -> None:
            recorded = self._record()
            if recorded.path != f"/{VERSION}/me/messages":
                fake.problems.append(f"POST {recorded.path}: not /{VERSION}/me/messages")
                self._answer(404, {"error": {"message": "Unknown path", "code": 803}})
                return
            if recorded.query.get("access_token") != [TOKEN]:
                self._graph_error(400, "Invalid OAuth access token.", 190)
                return
            content_type = recorded.headers.get("content-type", "")
            if content_type.startswith("application/json"):
                recorded.json = json.loads(recorded.body)
                shape_ok = (
                    set(recorded.json) == {"recipient", "messaging_type", "message"}
                    and set(recorded.json["recipient"]) == {"id"}
                    and recorded.json["messaging_type"] == "RESPONSE"
                    and set(recorded.json["message"]) == {"text"}
                    and 0 < len(recorded.json["message"]["text"]) <= 2000
                )
            elif content_type.startswith("multipart/form-data"):
                recorded.form, recorded.files = _multipart(content_type, recorded.body)
                message = json.loads(recorded.form.get("message", "{}"))
                shape_ok = (
                    "id" in json.loads(recorded.form.get("recipient", "{}"))
                    and message.get("attachment", {}).get("type") == "file"
                    and "filedata" in recorded.files
                )
            else:
                shape_ok = False
            if not shape_ok:
                fake.problems.append(f"bad send: {recorded.body[:300]!r}")
                self._graph_error(400, "(#100) Invalid parameter")
                return
            if fake.fail_sends:
                fake.fail_sends -= 1
                self._graph_error(500, "(#2) Service temporarily unavailable", 2)
                return
            recipient = (
                recorded.json["recipient"]["id"]
                if recorded.json
                else json.loads(recorded.form["recipient"])["id"]
            )
            self._answer(200, {"recipient_id": recipient, "message_id": f"m_{len(fake.requests)}"})

    return Handler


def start(fake: FakeGraph) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread
