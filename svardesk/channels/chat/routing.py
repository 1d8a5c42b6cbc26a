"""WebSocket routes of the chat. The widget's socket is reached from other websites, so it is
routed before the workspace's same-origin check and checks `Origin` against the channel's
websites itself; the agent's socket sits with the workspace's (same origin, session)."""

from __future__ import annotations

from typing import Any

from channels.routing import URLRouter
from django.urls import path

from svardesk.channels.chat.consumers import ChatAgentConsumer, ChatConsumer

WIDGET_PREFIX = "/ws/chat/"

widget_websocket_urlpatterns = [path("ws/chat/<str:key>/", ChatConsumer.as_asgi())]
agent_websocket_urlpatterns = [
    path("ws/chat-agent/<int:conversation_id>/", ChatAgentConsumer.as_asgi())
]


def with_chat_widget_sockets(other: Any) -> Any:
    """An ASGI app: `/ws/chat/…` to the widget's consumer, everything else to `other`."""
    widget = URLRouter(widget_websocket_urlpatterns)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if str(scope.get("path", "")).startswith(WIDGET_PREFIX):
            return await widget(scope, receive, send)
        return await other(scope, receive, send)

    return app
