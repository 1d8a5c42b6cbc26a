"""ASGI entry point: HTTP through Django (on a thread pool, core/threaded_http.py), WebSockets
through Channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from svardesk.channels.chat.routing import (  # noqa: E402
    agent_websocket_urlpatterns as chat_agent_websocket_urlpatterns,
)
from svardesk.channels.chat.routing import with_chat_widget_sockets  # noqa: E402
from svardesk.core.threaded_http import threaded_http_application  # noqa: E402
from svardesk.workspace.routing import websocket_urlpatterns  # noqa: E402

http_application = threaded_http_application(
    event_loop_app=django_asgi_app,
    # Static files (ServeStatic is async) and the sign-in page, whose slow-down is awaited.
    event_loop_paths=[settings.STATIC_URL, reverse("accounts:login")],
)

application = ProtocolTypeRouter(
    {
        "http": http_application,
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

# Everything loaded so far (Django, the apps, the URLconf) lives as long as the process: kept
# out of the collector's full passes, which otherwise walk all of it — ~55 ms with every
# thread stopped, a pause any request or chat message in flight waits out.
gc.collect()
gc.freeze()
