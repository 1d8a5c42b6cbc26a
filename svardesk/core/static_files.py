"""Static files, served by ServeStatic where the request runs on the event loop.

ServeStatic's middleware is async only. Placed in a middleware list that is otherwise sync and
async capable, it would make Django run the rest of the list through `async_to_sync` and
`sync_to_async` — several thread hops on every request. This wrapper keeps ServeStatic for
the event-loop path (`config/asgi.py` sends `/static/` there) and is a pass-through on the
threaded path, which therefore never sees a static path; Django's test servers serve static
files themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware


@sync_and_async_middleware
def static_files_middleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    if iscoroutinefunction(get_response):
        from servestatic.middleware import ServeStaticMiddleware

        return ServeStaticMiddleware(get_response)
    return get_response
