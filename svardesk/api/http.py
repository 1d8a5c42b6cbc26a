"""What every API view shares: bearer-token authentication, rate limits, JSON in and out in
HubSpot's conventions (ISO-8601 timestamps with milliseconds and `Z`, booleans parsed case-
insensitively, repeated or comma-separated list parameters), and errors as HubSpot's body.

    @api_endpoint(methods=("GET", "POST"))
    def tickets(request): ...

Inside, `request.user` is the token's user (reads go through that user's ticket access) and
`request.api_token` the token; `scopes.require(request.api_token.scopes, "tickets", write=…)`
checks the scope the call needs."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from svardesk.api import ratelimit, tokens
from svardesk.api.errors import (
    INTERNAL_ERROR,
    INVALID_AUTHENTICATION,
    METHOD_NOT_ALLOWED,
    ApiError,
    not_found,
    validation_error,
)
from svardesk.core.machine_endpoints import machine_endpoint

logger = logging.getLogger(__name__)

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
# Request bodies larger than this are refused (HubSpot caps a search body at 3,000
# characters; a batch of 100 objects stays far below this).
MAX_BODY_BYTES = 2 * 1024 * 1024

ApiView = Callable[..., HttpResponse]


def json_response(data: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type=JSON_CONTENT_TYPE,
    )


def no_content() -> HttpResponse:
    return HttpResponse(status=204)


def error_response(error: ApiError) -> HttpResponse:
    response = json_response(error.body(), status=error.status)
    for name, value in error.headers.items():
        response[name] = value
    return response


def iso(moment: dt.datetime | None) -> str | None:
    """HubSpot's timestamp: UTC, milliseconds, `Z` (`2019-10-30T03:30:17.883Z`)."""
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_bool(raw: str | None, *, name: str, default: bool = False) -> bool:
    """`true` / `True` / `TRUE` / `1` (the SDK sends Python's `str(bool)`)."""
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise validation_error(f"Invalid boolean for {name}: {raw!r}")


def parse_limit(raw: str | None, *, default: int, maximum: int, name: str = "limit") -> int:
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise validation_error(f"Invalid {name}: {raw!r}")
    value = int(raw)
    if value < 1 or value > maximum:
        raise validation_error(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def list_param(request: HttpRequest, name: str) -> list[str]:
    """A repeated (`?properties=a&properties=b`) or comma-separated (`?properties=a,b`)
    query parameter, in order, without blanks or repeats."""
    values: list[str] = []
    for raw in request.GET.getlist(name):
        for part in raw.split(","):
            part = part.strip()
            if part and part not in values:
                values.append(part)
    return values


def read_json(request: HttpRequest, *, allow_empty: bool = False) -> Any:
    """The request's JSON body; 400 VALIDATION_ERROR when it is not JSON."""
    body = request.body
    if not body.strip():
        if allow_empty:
            return None
        raise validation_error("The request body is empty; JSON was expected.")
    try:
        return json.loads(body)
    except RecursionError:  # nested deeper than the parser goes
        raise validation_error("The request body is nested too deeply.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise validation_error(f"Invalid input JSON on line {getattr(exc, 'lineno', 1)}") from None


def json_object(data: Any, what: str = "The request body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise validation_error(f"{what} must be a JSON object.")
    return data


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        return None
    return credentials.strip()


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        INVALID_AUTHENTICATION,
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        "and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
        "oauth-overview",
    )


def api_endpoint(
    *, methods: Iterable[str] = ("GET",), search: bool = False
) -> Callable[[ApiView], ApiView]:
    """Authenticate the bearer token, count the request against its rate limits, run the
    view, and answer any ApiError (or unexpected error) in HubSpot's error body. `search`
    counts the request against the search limit instead of the ten-second one."""
    allowed = tuple(m.upper() for m in methods)

    def decorate(view: ApiView) -> ApiView:
        @machine_endpoint
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            headers: dict[str, str] = {}
            try:
                raw = _bearer(request)
                token = tokens.find_active_token(raw) if raw else None
                if token is None:
                    raise _unauthenticated()
                headers = ratelimit.check(token.pk, search=search).headers
                if request.method not in allowed:
                    raise ApiError(
                        405, METHOD_NOT_ALLOWED, f"HTTP {request.method} is not supported."
                    )
                if len(request.body) > MAX_BODY_BYTES:
                    raise validation_error("The request body is too large.")
                tokens.note_use(token)
                request.user = token.user
                request.api_token = token  # type: ignore[attr-defined]
                response = view(request, *args, **kwargs)
            except ApiError as error:
                response = error_response(error)
            except RequestDataTooBig:
                response = error_response(validation_error("The request body is too large."))
            except Exception:
                # Logged with its traceback; the client gets HubSpot's body, never a page.
                logger.exception("API request failed: %s %s", request.method, request.path)
                response = error_response(
                    ApiError(500, INTERNAL_ERROR, "Internal error; it was logged.")
                )
            for name, value in headers.items():
                response.setdefault(name, value)
            return response

        return wrapper

    return decorate


@machine_endpoint
@csrf_exempt
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Any other path under the API's prefixes: HubSpot's 404 body, not the workspace's page."""
    return error_response(not_found(f"Unable to route {request.method} {request.path}"))
