"""A widget's and an agent's sockets through the served ASGI application (routing, Origin
check, session cookie), speaking docs/chat.md's protocol."""

from __future__ import annotations

import json
from typing import Any

from asgiref.testing import ApplicationCommunicator
from django.test import Client

from svardesk.channels.chat.models import ChatChannel
from svardesk.channels.chat.services import connect_chat_channel
from svardesk.config.asgi import application

SITE = "https://shop.example"


def chat_channel(**options: Any) -> ChatChannel:
    options.setdefault("name", "Shop chat")
    options.setdefault("websites", [SITE])
    options.setdefault("ask_details", "during")
    return connect_chat_channel(actor=None, **options)


def _scope(path: str, headers: list[tuple[bytes, bytes]], client_ip: str) -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "headers": headers,
        "query_string": b"",
        "subprotocols": [],
        "client": (client_ip, 50000),
        "server": ("127.0.0.1", 8000),
    }


class Socket:
    def __init__(self, scope: dict[str, Any]) -> None:
        self.communicator = ApplicationCommunicator(application, scope)

    async def connect(self) -> dict[str, Any]:
        """The handshake's answer: {"type": "websocket.accept"} or websocket.close."""
        await self.communicator.send_input({"type": "websocket.connect"})
        return dict(await self.communicator.receive_output(5))

    async def send(self, frame: Any) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.communicator.send_input({"type": "websocket.receive", "bytes": data})

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        output = await self.communicator.receive_output(timeout)
        if output["type"] == "websocket.close":
            return {"closed": output.get("code")}
        return dict(json.loads(output["text"]))

    async def receive_type(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of `kind`, skipping others (e.g. the other tabs' echoes)."""
        while True:
            frame = await self.receive(timeout)
            if frame.get("type") == kind or "closed" in frame:
                return frame

    async def receive_nothing(self, timeout: float = 0.3) -> bool:
        return bool(await self.communicator.receive_nothing(timeout))

    async def disconnect(self) -> None:
        await self.communicator.send_input({"type": "websocket.disconnect", "code": 1000})
        await self.communicator.wait(3)


class Widget(Socket):
    def __init__(self, key: str, *, origin: str = SITE, client_ip: str = "203.0.113.7") -> None:
        headers = [(b"host", b"desk.example"), (b"origin", origin.encode())]
        super().__init__(_scope(f"/ws/chat/{key}/", headers, client_ip))

    async def start(self, token: str | None = None, lang: str = "en") -> dict[str, Any]:
        """Connect and say hello: the welcome frame (after an error frame, if any, which is
        kept in `self.errors`)."""
        accepted = await self.connect()
        assert accepted["type"] == "websocket.accept", accepted
        await self.send({"type": "hello", "token": token, "lang": lang})
        self.errors: list[dict[str, Any]] = []
        while True:
            frame = await self.receive()
            if frame.get("type") == "welcome":
                return frame
            self.errors.append(frame)

    async def say(self, text: str, client_id: str, **details: str) -> dict[str, Any]:
        await self.send({"type": "message", "client_id": client_id, "text": text, **details})
        while True:
            frame = await self.receive()
            if frame.get("type") in ("ack", "error") or "closed" in frame:
                return frame


class AgentSocket(Socket):
    def __init__(self, user: Any, conversation_id: int) -> None:
        client = Client()
        client.force_login(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
        headers = [
            (b"host", b"localhost"),
            (b"origin", b"http://localhost"),
            (b"cookie", cookie),
        ]
        path = f"/ws/chat-agent/{conversation_id}/"
        super().__init__(_scope(path, headers, "127.0.0.1"))
