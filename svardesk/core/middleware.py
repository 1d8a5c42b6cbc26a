"""Turn the domain's NotFound / PermissionDenied errors into the product's 404 and 403 pages."""

from collections.abc import Awaitable, Callable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import permission_denied

from svardesk.core.exceptions import NotFoundError, PermissionDeniedError


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
        if isinstance(exception, NotFoundError):
            raise Http404(str(exception)) from exception
        if isinstance(exception, PermissionDenied | PermissionDeniedError):
            # Answered here rather than re-raised: Django logs a raised PermissionDenied with
            # its traceback, and a refused request is expected, not an error. The response
            # is still logged as one "Forbidden" line.
            return permission_denied(request, exception)
        return None
