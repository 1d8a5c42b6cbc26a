"""Activate the signed-in user's language and time zone for the request."""

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from svardesk.accounts.regional import language_code_of


class UserPreferencesMiddleware:
    # Async-capable so an async view (the sign-in's slow-down) is awaited, not run in a thread.
    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponse | Awaitable[HttpResponse]]
    ) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponse | Awaitable[HttpResponse]:
        if self.async_mode:
            return self.__acall__(request)
        user = _signed_in_user(request)
        _activate(request, user)
        try:
            response = self.get_response(request)
        finally:
            _deactivate()
        return _finish(user, response)  # type: ignore[arg-type]

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        # The lazy `request.user`, loaded once in a thread: the view reuses it (request.auser()
        # would keep a second copy and query the user again).
        user = await sync_to_async(_signed_in_user)(request)
        _activate(request, user)
        try:
            response = await self.get_response(request)  # type: ignore[misc]
        finally:
            _deactivate()
        return _finish(user, response)


def _signed_in_user(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _activate(request: HttpRequest, user: Any) -> None:
    if user is not None and user.is_authenticated:
        # The language with the region of the user's dates ("en-gb"): accounts.regional.
        translation.activate(language_code_of(user))
        request.LANGUAGE_CODE = user.language
        try:
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()


def _deactivate() -> None:
    # The thread serves other requests (and, in tests, other code) next: leave no
    # user's language or time zone behind.
    timezone.deactivate()
    translation.deactivate()


def _finish(user: Any, response: HttpResponse) -> HttpResponse:
    if user is not None and user.is_authenticated:
        response.headers.setdefault("Content-Language", user.language)
    return response
