"""What every conversations view shares: the scope check by method, English messages, and
the domain's errors as HubSpot's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from svardesk.api import scopes
from svardesk.api.errors import ApiError, not_found, validation_error
from svardesk.api.http import ApiView, api_endpoint
from svardesk.core.exceptions import NotFoundError, PermissionDeniedError
from svardesk.core.parsing import parse_id


def conversations_endpoint(
    *, methods: Iterable[str] = ("GET",), read_methods: Iterable[str] = ("GET",)
) -> Callable[[ApiView], ApiView]:
    """`api_endpoint` plus the `conversations` scope: read for `read_methods`, write for the
    rest. The domain's messages come in English (HubSpot's errors are English), and its
    NotFoundError / PermissionDeniedError answer 404 / 403."""
    reading = {m.upper() for m in read_methods}

    def decorate(view: ApiView) -> ApiView:
        @api_endpoint(methods=methods)
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            token = request.api_token  # type: ignore[attr-defined]
            scopes.require(token.scopes, "conversations", write=request.method not in reading)
            with translation.override("en"):
                try:
                    return view(request, *args, **kwargs)
                except NotFoundError:
                    raise not_found() from None
                except PermissionDeniedError as exc:
                    raise ApiError(403, "FORBIDDEN", str(exc)) from None

        return wrapper

    return decorate


def object_id(raw: str) -> int:
    """A path id: digits, else HubSpot's 404 (as for an unknown id)."""
    pk = parse_id(raw)
    if pk is None:
        raise not_found(context={"id": [raw]})
    return pk


def query_id(raw: str, name: str) -> int:
    """A query-string id: digits, else 400."""
    pk = parse_id(raw)
    if pk is None:
        raise validation_error(f"Invalid {name}: {raw!r}")
    return pk


def select_fields(data: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """`property=` asks for some fields only; the id always comes."""
    if not fields:
        return data
    return {k: v for k, v in data.items() if k == "id" or k in fields}
