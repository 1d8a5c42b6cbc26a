"""HTTP requests run whole on a thread pool; WebSockets and a few paths stay on the event loop.

Django's ASGI handler runs a synchronous view and every synchronous middleware step
(`process_request`, `process_view`, `process_response` of sessions, CSRF, auth, messages, …)
through `sync_to_async`: a dozen thread hops per request, measured at 40 % of a simple
request's CPU. Here a request is handed to Django's WSGI handler on a thread of a fixed pool
(a2wsgi), so the whole middleware list and the view run in one hop. Paths that gain from the
event loop — static files (ServeStatic is async) and async views that wait (the sign-in
slow-down sleeps without holding a thread) — still go to the ASGI handler.
docs/decisions/0007-threaded-http.md records the choice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def threaded_http_application(
    *, event_loop_app: ASGIApp, event_loop_paths: Iterable[str]
) -> ASGIApp:
    """An ASGI app for the `http` scope: a request whose path starts with one of
    `event_loop_paths` goes to `event_loop_app` (Django's ASGI handler); every other one runs
    through Django's WSGI handler on the thread pool."""
    from a2wsgi import WSGIMiddleware
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    # Django's handler returns its response, which is the iterable WSGI expects.
    threaded: Any = WSGIMiddleware(get_wsgi_application(), workers=settings.HTTP_THREADS)  # type: ignore[arg-type]
    prefixes = tuple(event_loop_paths)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if str(scope.get("path", "")).startswith(prefixes):
            await event_loop_app(scope, receive, send)
        else:
            await threaded(scope, receive, send)

    return app
