"""Requests from machines skip the browser's middleware.

The HubSpot-compatible API and the channels' webhooks (Meta, Twilio, a mail server posting
raw mail) authenticate each request by a token or a signature. Sessions, the visitor's
language, CSRF, the signed-in user, preferences, flash messages, htmx and the live-update
origin mean nothing to them, yet cost ~0.1 ms of CPU a request (in process: an API 401
0.96 → 0.85 ms, a refused webhook 0.38 → 0.30 ms; bench/README.md).

A view marks itself with `@machine_endpoint`. `machine_endpoints_middleware` stands in the
list after the headers every response gets (security, CSP) and the query-string cleaning;
for a path under `MACHINE_PATH_PREFIXES` it resolves the view, and a marked view is called
right there, in the default language, its domain errors answered as DomainErrorMiddleware
answers them. Any other path (or an unmarked view under those prefixes) goes on down the
whole list, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.decorators import sync_and_async_middleware

from svardesk.core.middleware import domain_error_response

# Only these paths are resolved up front; the workspace's pages never are twice.
MACHINE_PATH_PREFIXES = ("/crm/", "/conversations/v3/", "/channels/")

_MARK = "svardesk_machine_endpoint"

View = TypeVar("View", bound=Callable[..., HttpResponse])


def machine_endpoint(view: View) -> View:
    """Mark a view that authenticates each request itself (token, signature) and needs no
    session, CSRF check, signed-in user or visitor language."""
    setattr(view, _MARK, True)
    return view


def is_machine_endpoint(view: Any) -> bool:
    return getattr(view, _MARK, False) is True


@sync_and_async_middleware
def machine_endpoints_middleware(get_response: Callable[[HttpRequest], Any]) -> Any:
    if iscoroutinefunction(get_response):
        # The event loop's chain serves static files and the sign-in page only
        # (core/threaded_http.py); anything else it meets takes the whole list.
        return get_response

    def middleware(request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith(MACHINE_PATH_PREFIXES):
            return get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return get_response(request)  # the whole list answers it (its 404 page)
        if not is_machine_endpoint(match.func):
            return get_response(request)
        request.resolver_match = match
        # Nothing signs a machine in; a view or error page that asks sees nobody.
        request.user = AnonymousUser()
        with translation.override(settings.LANGUAGE_CODE):
            try:
                response = match.func(request, *match.args, **match.kwargs)
            except Exception as exception:
                answered = domain_error_response(request, exception)
                if answered is None:
                    raise
                response = answered
        # What CommonMiddleware and XFrameOptionsMiddleware add to every other response.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        if settings.X_FRAME_OPTIONS and "X-Frame-Options" not in response:
            response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response

    return middleware
