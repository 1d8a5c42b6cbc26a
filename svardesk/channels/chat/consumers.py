"""The chat's WebSockets: the widget's (`/ws/chat/KEY/`, on other sites, checked by Origin)
and the agent's typing socket (`/ws/chat-agent/CONVERSATION_ID/`, session-authenticated).
The protocol is docs/chat.md."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from svardesk.channels.chat import queries, services
from svardesk.channels.chat.layer import channel_group, conversation_group, visitor_group
from svardesk.channels.chat.limits import Limits, current_limits, take
from svardesk.channels.chat.models import ChatChannel
from svardesk.channels.chat.services import ChatInputError
from svardesk.channels.chat.texts import error_message, widget_language
from svardesk.channels.chat.tokens import VisitorToken, new_visitor_id, read_visitor, sign_visitor
from svardesk.core.origins import origin_or_none
from svardesk.core.parsing import parse_id

logger = logging.getLogger(__name__)

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
TYPING_INTERVAL_SECONDS = 2.0
SERVER_ERROR_RETRY_SECONDS = 5
DISCONNECTED_CLOSE_CODE = 4404
NOT_ALLOWED_CLOSE_CODE = 4403


def off_loop(func: Any) -> Any:
    """Run `func` in a worker thread of the pool, not Channels' one shared database thread:
    every widget's welcome and message (and every agent socket's check) would otherwise wait
    for all the others', and for the workspace sockets'. One call per frame; each call closes
    or returns its connection afterwards, as a request does."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


def agents_available() -> bool:
    """Whether any agent takes chats now (accounts' presence and status)."""
    try:
        from svardesk.accounts.queries import chat_agents_available
    except ImportError:  # an accounts app without chat presence: always available
        return True
    return bool(chat_agents_available())


def header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def client_ip(scope: dict[str, Any]) -> str | None:
    """The peer's address as the server reports it (uvicorn applies trusted proxy headers
    itself, per FORWARDED_ALLOW_IPS)."""
    client = scope.get("client")
    if not client or not isinstance(client[0], str):
        return None
    try:  # a Unix socket's peer is no address: no per-IP limit, nothing stored
        return str(ipaddress.ip_address(client[0]))
    except ValueError:
        return None


class ChatConsumer(AsyncWebsocketConsumer):
    """One widget connection. Nothing is acknowledged before it is committed."""

    chat_channel: ChatChannel
    limits: Limits

    async def connect(self) -> None:
        self.public_id = ""
        self.conversation_id: int | None = None
        self.language = "en"
        self.last_typing = 0.0
        self.typing_active = False
        self.joined: list[str] = []
        key = str(self.scope["url_route"]["kwargs"].get("key", ""))
        origin = origin_or_none(header(self.scope, b"origin"))
        chat_channel = await off_loop(queries.chat_channel_for_key)(key)
        if chat_channel is None or origin is None or origin not in chat_channel.websites:
            await self.close()  # before accept: the handshake is answered 403
            return
        self.chat_channel = chat_channel
        self.language = widget_language(None, chat_channel.language)
        self.limits = current_limits()
        self.ip = client_ip(self.scope)
        await self._join(channel_group(chat_channel.pk))
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.typing_active and self.conversation_id is not None:
            await self._send_typing(active=False)
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = []

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(
        self, code: str, *, retry_after: int | None = None, client_id: str | None = None
    ) -> None:
        frame: dict[str, Any] = {
            "type": "error",
            "code": code,
            "message": error_message(
                code, self.language, retry_after=retry_after, limit=self.limits.max_message_chars
            ),
            "retry_after": retry_after,
        }
        if client_id is not None:
            frame["client_id"] = client_id
        await self.send_frame(frame)

    # --- Frames from the widget ------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data) > self.limits.max_frame_bytes:
            await self.send_error("bad_frame")
            return
        if len(text_data.encode("utf-8", "surrogatepass")) > self.limits.max_frame_bytes:
            await self.send_error("bad_frame")
            return
        try:
            frame = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_frame")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("bad_frame")
            return
        kind = frame["type"]
        if kind == "hello":
            await self._hello(frame)
        elif not self.public_id:
            await self.send_error("hello_required")
        elif kind == "message":
            await self._message(frame)
        elif kind == "typing":
            await self._typing(frame)
        elif kind == "details":
            await self._details(frame)
        else:
            await self.send_error("bad_frame")

    async def _hello(self, frame: dict[str, Any]) -> None:
        if self.public_id:
            await self.send_error("bad_frame")  # one hello per connection
            return
        self.language = widget_language(frame.get("lang"), self.chat_channel.language)
        raw_token = frame.get("token")
        token = read_visitor(raw_token, chat_channel_id=self.chat_channel.pk)
        if token is None:
            if raw_token not in (None, ""):
                await self.send_error("invalid_token")
            token = VisitorToken(chat_channel_id=self.chat_channel.pk, public_id=new_visitor_id())
        self.public_id = token.public_id
        await self._join(visitor_group(self.public_id))
        welcome = await off_loop(self._welcome)(token)
        await self.send_frame(welcome)

    def _welcome(self, token: VisitorToken) -> dict[str, Any]:
        visitor = queries.get_visitor(self.chat_channel, token.public_id)
        session = queries.latest_session(visitor) if visitor is not None else None
        chat: dict[str, Any] | None = None
        history: list[dict[str, Any]] = []
        if session is not None:
            session.visitor = visitor  # type: ignore[assignment]
            chat = {
                "id": session.pk,
                "open": session.is_open,
                "by_email": session.follows_up_by_email,
            }
            history = queries.history(session)
            if session.is_open:
                self.conversation_id = session.conversation_id
        return {
            "type": "welcome",
            "token": sign_visitor(token),
            "visitor": {
                "name": visitor.name if visitor else "",
                "email": visitor.email if visitor else "",
            },
            "chat": chat,
            "history": history,
            "available": agents_available(),
            "ask_details": self.chat_channel.ask_details,
            "max_message_chars": self.limits.max_message_chars,
        }

    async def _message(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
            await self.send_error("bad_frame")
            return
        text = frame.get("text")
        if not isinstance(text, str):
            await self.send_error("bad_frame", client_id=client_id)
            return
        text = text.replace("\x00", "").replace("\r\n", "\n").strip()
        if not text:
            await self.send_error("empty", client_id=client_id)
            return
        if len(text) > self.limits.max_message_chars:
            await self.send_error("too_long", client_id=client_id)
            return
        try:
            name = services.clean_visitor_name(frame.get("name"))
            email = services.clean_visitor_email(frame.get("email"))
        except ChatInputError as exc:
            await self.send_error(exc.code, client_id=client_id)
            return
        try:
            result = await off_loop(self._store)(client_id, text, name, email)
        except ChatInputError as exc:
            await self.send_error(exc.code, client_id=client_id)
            return
        except Exception:
            logger.exception("Could not store a chat message on channel %s", self.chat_channel.pk)
            await self.send_error(
                "server_error", retry_after=SERVER_ERROR_RETRY_SECONDS, client_id=client_id
            )
            return
        if isinstance(result, int):
            await self.send_error("rate_limited", retry_after=result, client_id=client_id)
            return
        stored, frame_out, available = result
        self.conversation_id = stored.session.conversation_id
        await self.send_frame(
            {
                "type": "ack",
                "client_id": client_id,
                "id": stored.message.pk,
                "at": frame_out["at"],
                "chat_id": stored.session.pk,
                "by_email": stored.by_email,
                "available": available,
            }
        )
        if not stored.duplicate:
            # The visitor's other tabs show it too.
            await self.channel_layer.group_send(
                visitor_group(self.public_id),
                {"type": "chat.message", "message": frame_out, "sender": self.channel_name},
            )

    def _store(
        self, client_id: str, text: str, name: str, email: str
    ) -> int | tuple[services.StoredMessage, dict[str, Any], bool]:
        """Count the message against the limits and store it: the seconds to wait when a
        limit is hit (nothing stored), else what was stored."""
        message_id = services.visitor_message_id(self.public_id, client_id)
        known = queries.stored_message(self.chat_channel.channel, message_id)
        if known is None:  # a resend of a stored message is acknowledged, never limited
            wait = take(visitor_key=self.public_id, ip=self.ip, limits=self.limits)
            if wait:
                return wait
        available = agents_available()
        stored = services.receive_visitor_message(
            chat_channel=self.chat_channel,
            public_id=self.public_id,
            client_id=client_id,
            text=text,
            name=name,
            email=email,
            ip=self.ip,
            agents_available=available,
            now=timezone.now(),
            known_new=known is None,
        )
        return stored, queries.message_frame(stored.message, stored.visitor), available

    async def _typing(self, frame: dict[str, Any]) -> None:
        active = frame.get("active")
        if not isinstance(active, bool):
            await self.send_error("bad_frame")
            return
        if self.conversation_id is None:
            return  # no chat yet: nobody to tell
        now = time.monotonic()
        if active == self.typing_active and now - self.last_typing < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing = now
        self.typing_active = active
        await self._send_typing(active=active)

    async def _send_typing(self, *, active: bool) -> None:
        if self.conversation_id is None:
            return
        await self.channel_layer.group_send(
            conversation_group(self.conversation_id),
            {"type": "chat.visitor_typing", "active": active},
        )

    async def _details(self, frame: dict[str, Any]) -> None:
        try:
            name = services.clean_visitor_name(frame.get("name"))
            email = services.clean_visitor_email(frame.get("email"))
        except ChatInputError as exc:
            await self.send_error(exc.code)
            return
        try:
            visitor = await off_loop(self._save_details)(name, email)
        except ChatInputError as exc:
            await self.send_error(exc.code)
            return
        await self.send_frame(
            {"type": "details_saved", "name": visitor.name, "email": visitor.email}
        )

    def _save_details(self, name: str, email: str) -> Any:
        return services.save_visitor_details(
            chat_channel=self.chat_channel,
            public_id=self.public_id,
            name=name,
            email=email,
            ip=self.ip,
            agents_available=agents_available(),
        )

    # --- Events from the channel layer -------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        if event.get("sender") == self.channel_name:
            return
        await self.send_frame({"type": "message", **event["message"]})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        await self.send_frame(
            {
                "type": "typing",
                "from": "agent",
                "name": event.get("name", ""),
                "active": bool(event.get("active")),
            }
        )

    async def chat_closed(self, event: dict[str, Any]) -> None:
        if self.conversation_id is not None:
            self.conversation_id = None
        await self.send_frame({"type": "closed", "chat_id": event["chat_id"], "at": event["at"]})

    async def chat_disconnected(self, event: dict[str, Any]) -> None:
        await self.send_error("unavailable")
        await self.close(code=DISCONNECTED_CLOSE_CODE)


# --- The agent's typing socket -----------------------------------------------------------------


@off_loop
def _agent_may_see(user: Any, conversation_id: int) -> bool:
    """The user may use the workspace and see the chat's ticket (`access_ticket`)."""
    from svardesk.core.exceptions import NotFoundError
    from svardesk.tickets.queries import access_ticket

    if user is None or not user.is_authenticated or not user.can_use_workspace:
        return False
    session = queries.session_of_conversation(conversation_id)
    if session is None or session.conversation.ticket_id is None:
        return False
    try:
        access_ticket(session.conversation.ticket_id, actor=user)
    except NotFoundError:
        return False
    return True


@off_loop
def _typing_label(user: Any, conversation_id: int) -> tuple[str, bool]:
    """ "Åsa is typing…" in the agent's language (the page shows it as it comes), and
    whether it names the visitor (else it is read again: the name may come later)."""
    session = queries.session_of_conversation(conversation_id)
    name = session.visitor.name if session is not None else ""
    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        if name:
            return _("%(name)s is typing…") % {"name": name}, True
        return _("The visitor is typing…"), False


@off_loop
def _visitor_public_id(conversation_id: int) -> str:
    session = queries.session_of_conversation(conversation_id)
    return session.visitor.public_id if session is not None and session.is_open else ""


class ChatAgentConsumer(AsyncJsonWebsocketConsumer):
    """An agent's ticket page for one chat: visitor typing in, agent typing out."""

    async def connect(self) -> None:
        self.group = ""
        self.typing_label = ""  # "Åsa is typing…", read at the first typing event
        self.typing_active = False
        self.last_typing = 0.0
        conversation_id = parse_id(self.scope["url_route"]["kwargs"].get("conversation_id"))
        user = self.scope.get("user")
        if conversation_id is None or not await _agent_may_see(user, conversation_id):
            await self.close(code=NOT_ALLOWED_CLOSE_CODE)
            return
        self.conversation_id = conversation_id
        self.user = user
        self.name = str(user.first_name or user.display_name or "")
        self.group = conversation_group(conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not self.group:
            return
        if self.typing_active:
            await self._tell_visitor(active=False)
        await self.channel_layer.group_discard(self.group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None  # ignored below, never a crash

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "typing":
            return
        active = content.get("active")
        if not isinstance(active, bool):
            return
        now = time.monotonic()
        if active == self.typing_active and now - self.last_typing < TYPING_INTERVAL_SECONDS:
            return
        self.last_typing = now
        self.typing_active = active
        await self._tell_visitor(active=active)

    async def _tell_visitor(self, *, active: bool) -> None:
        public_id = await _visitor_public_id(self.conversation_id)
        if public_id:
            await self.channel_layer.group_send(
                visitor_group(public_id),
                {"type": "chat.typing", "name": self.name, "active": active},
            )

    async def chat_visitor_typing(self, event: dict[str, Any]) -> None:
        active = bool(event["active"])
        label = ""
        if active:
            label = self.typing_label
            if not label:
                label, named = await _typing_label(self.user, self.conversation_id)
                self.typing_label = label if named else ""
        await self.send_json(
            {"type": "typing", "from": "visitor", "active": active, "label": label}
        )
