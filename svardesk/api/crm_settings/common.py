"""What the settings endpoints (pipelines, properties) share."""

from __future__ import annotations

from django.http import HttpRequest

from svardesk.api.errors import ApiError, validation_error

FORBIDDEN = "FORBIDDEN"


def require_super_admin(request: HttpRequest) -> None:
    """Changing settings over the API takes what Settings does in the workspace: a super
    admin. A token's scopes alone are not enough, whoever's token it is."""
    if not getattr(request.user, "is_super_admin", False):
        raise ApiError(
            403,
            FORBIDDEN,
            "Only a super admin's token may change pipelines and properties.",
        )


def clean_text(value: object, name: str, *, max_length: int, required: bool = False) -> str:
    """A text value of a request body: a string of at most `max_length` characters, without
    NUL (PostgreSQL stores none); 400 otherwise. None reads as ""."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise validation_error(f"{name} must be a string.")
    if "\x00" in value:
        raise validation_error(f"{name} must not contain NUL characters.")
    if len(value) > max_length:
        raise validation_error(f"{name} takes at most {max_length} characters.")
    if required and not value.strip():
        raise validation_error(f"{name} is required.")
    return value
