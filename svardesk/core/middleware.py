"""Turn the domain's NotFound / PermissionDenied errors into the product's 404 and 403 pages."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import permission_denied

from svardesk.core.exceptions import NotFoundError, PermissionDeniedError


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFoundError):
            raise Http404(str(exception)) from exception
        if isinstance(exception, PermissionDenied | PermissionDeniedError):
            # Answered here rather than re-raised: Django logs a raised PermissionDenied with
            # its traceback, and a refused request is expected, not an error. The response
            # is still logged as one "Forbidden" line.
            return permission_denied(request, exception)
        return None
