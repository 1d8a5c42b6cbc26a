"""What the settings endpoints (pipelines, properties) share."""

from __future__ import annotations

from django.http import HttpRequest

from svardesk.api.errors import ApiError

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
