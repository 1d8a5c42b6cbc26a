"""What every settings page shares: the workspace shell around it and the current section."""

from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from svardesk.accounts.models import User
from svardesk.workspace.context import workspace_context

T = TypeVar("T")


def actor(request: HttpRequest) -> User:
    """The signed-in super admin making the change (the decorator has checked who it is)."""
    return cast(User, request.user)


def render_settings(
    request: HttpRequest,
    template: str,
    *,
    section: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a full settings page: sidebar, settings navigation, then the section's content."""
    full = workspace_context(request)
    full["settings_section"] = section
    full.update(context or {})
    return render(request, template, full, status=status)


def found(obj: T | None) -> T:
    """The object, or the 404 page when a settings URL names something that does not exist."""
    if obj is None:
        raise Http404("No such object")
    return obj
