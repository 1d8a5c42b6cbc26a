"""HubSpot's error body (`status`, `message`, `correlationId`, `category`, …) as an exception
any API view may raise; `http.api_endpoint` turns it into the response."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

VALIDATION_ERROR = "VALIDATION_ERROR"
PROPERTY_DOESNT_EXIST = "PROPERTY_DOESNT_EXIST"
INVALID_AUTHENTICATION = "INVALID_AUTHENTICATION"
MISSING_SCOPES = "MISSING_SCOPES"
OBJECT_NOT_FOUND = "OBJECT_NOT_FOUND"
CONFLICT = "CONFLICT"
RATE_LIMITS = "RATE_LIMITS"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
INTERNAL_ERROR = "INTERNAL_ERROR"


class ApiError(Exception):
    """An answer other than success. `context` maps names to lists of strings (HubSpot's
    shape); `errors` holds per-property details such as `INVALID_OPTION`."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        context: Mapping[str, Sequence[str]] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        sub_category: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context
        self.errors = errors
        self.sub_category = sub_category
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.context:
            body["context"] = {k: list(v) for k, v in self.context.items()}
        if self.errors:
            body["errors"] = [dict(e) for e in self.errors]
        body.update(self.extra)
        return body


def validation_error(message: str, **kwargs: Any) -> ApiError:
    return ApiError(400, VALIDATION_ERROR, message, **kwargs)


def not_found(
    message: str = "Object not found.  objectId are usually numeric.", **kwargs: Any
) -> ApiError:
    return ApiError(404, OBJECT_NOT_FOUND, message, **kwargs)


def property_doesnt_exist(name: str) -> ApiError:
    return ApiError(
        400,
        PROPERTY_DOESNT_EXIST,
        f'Property "{name}" does not exist',
        context={"propertyName": [name]},
    )
