"""Middleware every request passes: query strings without NUL; the domain's NotFound /
PermissionDenied errors as the product's 404 and 403 pages."""

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils.decorators import sync_and_async_middleware
from django.views.defaults import permission_denied

from svardesk.core.exceptions import NotFoundError, PermissionDeniedError


def _without_nul(request: HttpRequest) -> None:
    # Forms refuse NUL (Django's CharField validator), but views read request.GET directly,
    # and PostgreSQL refuses NUL in text: a search for "a%00b" was a server error. No meaning
    # is lost by dropping it — no name, address or filter value holds one.
    if "%00" not in request.META.get("QUERY_STRING", "") and not any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    ):
        return
    cleaned = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
    cleaned._mutable = False
    request.GET = cleaned  # type: ignore[assignment]  # immutable again, as Django makes it


@sync_and_async_middleware
def strip_nul_from_query_string(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Every view reads its query string without NUL characters."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request: HttpRequest) -> Any:
            _without_nul(request)
            return await get_response(request)

        return async_middleware

    def middleware(request: HttpRequest) -> Any:
        _without_nul(request)
        return get_response(request)

    return middleware


class DomainErrorMiddleware:
    # Async-capable so an async view (the sign-in's slow-down) is awaited, not run in a thread.
    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        return self.get_response(request)  # a coroutine when the chain is async

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return domain_error_response(request, exception)


def domain_error_response(request: HttpRequest, exception: Exception) -> HttpResponse | None:
    """The product's answer to a domain error: NotFoundError as a 404 (raised as Http404),
    a refusal as the 403 page; None for any other exception."""
    if isinstance(exception, NotFoundError):
        raise Http404(str(exception)) from exception
    if isinstance(exception, PermissionDenied | PermissionDeniedError):
        # Answered here rather than re-raised: Django logs a raised PermissionDenied with
        # its traceback, and a refused request is expected, not an error. The response
        # is still logged as one "Forbidden" line.
        return permission_denied(request, exception)
    return None
