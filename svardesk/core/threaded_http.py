"""HTTP requests run whole on a thread pool; WebSockets and a few paths stay on the event loop.

Django's ASGI handler runs a synchronous view and every synchronous middleware step
(`process_request`, `process_view`, `process_response` of sessions, CSRF, auth, messages, …)
through `sync_to_async`: a dozen thread hops per request, measured at 40 % of a simple
request's CPU. Here a request is handed to Django's WSGI handler on a thread of a fixed pool,
so the whole middleware list and the view run in one hop. Paths that gain from the event
loop — static files (ServeStatic is async) and async views that wait (the sign-in slow-down
sleeps without holding a thread) — still go to the ASGI handler.
docs/decisions/0007-threaded-http.md records the choice.

The hop is the only one a usual request makes: a body that came in one piece (every form
post, API call and webhook) is read on the event loop before the hop, and a response Django
holds in memory (`HttpResponse`, not streaming) comes back as the hop's result and is sent
from the loop. Only a body still arriving and a streaming response (file downloads, CSV
exports) cross between the thread and the loop once per piece, as they arrive or are made.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import io
import itertools
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
WholeResponse = tuple[int, list[tuple[bytes, bytes]], bytes]


class ThreadedWSGI:
    """An ASGI app that runs a WSGI app on a fixed pool of threads (named "WSGI-…")."""

    def __init__(self, wsgi_app: Any, *, workers: int) -> None:
        self.wsgi_app = wsgi_app
        self.executor = ThreadPoolExecutor(thread_name_prefix="WSGI", max_workers=workers)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from a2wsgi.wsgi import Body, build_environ

        loop = asyncio.get_running_loop()
        first = await receive()
        if first["type"] == "http.disconnect":
            return  # the client left before its request was read: nothing to answer
        stream: Any
        if first.get("more_body", False):
            stream = Body(loop, receive)  # the rest is read from the thread as it arrives
            stream.buffer.extend(first.get("body", b""))
        else:
            stream = io.BytesIO(first.get("body", b""))
        environ = build_environ(scope, stream)  # type: ignore[arg-type]
        respond = functools.partial(
            contextvars.copy_context().run, self._respond, environ, loop, send
        )
        whole: WholeResponse | None = await loop.run_in_executor(self.executor, respond)
        if whole is not None:
            status, headers, content = whole
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})

    def _respond(
        self, environ: Any, loop: asyncio.AbstractEventLoop, send: Any
    ) -> WholeResponse | None:
        """On a pool thread: run the WSGI app. A response held in memory is returned whole;
        a streaming one is sent piece by piece from here (and None returned)."""
        head: dict[str, Any] = {}  # the response's start message, once Django has made it
        written: list[bytes] = []
        head_sent = False

        def start_response(
            status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and head_sent:
                raise exc_info[1].with_traceback(exc_info[2])  # too late to replace the head
            head.update(
                type="http.response.start",
                status=int(status.split(" ", 1)[0]),
                headers=[
                    (name.strip().encode("latin1").lower(), value.strip().encode("latin1"))
                    for name, value in response_headers
                ],
            )
            return written.append  # WSGI's legacy write(): kept before the iterable's body

        iterable: Iterable[bytes] = self.wsgi_app(environ, start_response)
        try:
            if getattr(iterable, "streaming", True) is False:  # Django's in-memory response
                return head["status"], head["headers"], b"".join([*written, *iterable])

            def send_now(message: dict[str, Any]) -> None:
                asyncio.run_coroutine_threadsafe(send(message), loop).result()

            for chunk in itertools.chain(written, iterable):
                if not head_sent:
                    send_now(head)
                    head_sent = True
                if chunk:
                    send_now({"type": "http.response.body", "body": chunk, "more_body": True})
            if not head_sent:
                send_now(head)
            send_now({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()  # Django's request_finished: connections back to the pool


def threaded_http_application(
    *, event_loop_app: ASGIApp, event_loop_paths: Iterable[str]
) -> ASGIApp:
    """An ASGI app for the `http` scope: a request whose path starts with one of
    `event_loop_paths` goes to `event_loop_app` (Django's ASGI handler); every other one runs
    through Django's WSGI handler on the thread pool."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    threaded = ThreadedWSGI(get_wsgi_application(), workers=settings.HTTP_THREADS)
    prefixes = tuple(event_loop_paths)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if str(scope.get("path", "")).startswith(prefixes):
            await event_loop_app(scope, receive, send)
        else:
            await threaded(scope, receive, send)

    return app
