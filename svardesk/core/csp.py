"""The Content-Security-Policy every page gets, unless its view set a stricter one of its own
(an attachment, the frame that shows one message with its remote images).

Scripts and style sheets come only from our static files (the templates have no inline
scripts; the JSON data blocks are not run). Images come only from us, so a remote image in a
customer's mail can never load in the workspace, whatever the sanitiser let through: an agent
loads them for one message, in a sandboxed frame (`conversations.views.message_images`).
Style attributes stay allowed: mail keeps its formatting, and the policy's `img-src` and
`font-src` still stop a style from loading anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import sync_and_async_middleware

HEADER = "Content-Security-Policy"

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",  # the live-updates WebSocket too (CSP3: 'self' covers ws/wss)
        "frame-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


def _with_policy(response: HttpResponseBase) -> HttpResponseBase:
    if HEADER not in response:
        response[HEADER] = POLICY
    return response


@sync_and_async_middleware
def content_security_policy(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            response = await get_response(request)
            return _with_policy(response)

        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return _with_policy(get_response(request))

    return middleware
