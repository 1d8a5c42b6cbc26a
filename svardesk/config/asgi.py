"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from svardesk.channels.chat.routing import (  # noqa: E402
    agent_websocket_urlpatterns as chat_agent_websocket_urlpatterns,
)
from svardesk.channels.chat.routing import with_chat_widget_sockets  # noqa: E402
from svardesk.workspace.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The chat widget's socket comes from other websites and checks Origin itself.
        "websocket": with_chat_widget_sockets(
            AllowedHostsOriginValidator(
                AuthMiddlewareStack(
                    URLRouter([*websocket_urlpatterns, *chat_agent_websocket_urlpatterns])
                )
            )
        ),
    }
)
