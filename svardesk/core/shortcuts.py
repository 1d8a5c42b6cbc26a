"""Small helpers for views of any app."""

from typing import Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

T = TypeVar("T")


def render_settings(
    request: HttpRequest,
    template: str,
    *,
    section: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render a page of Help desk settings. The template extends
    `workspace/settings_base.html`, which draws the workspace shell and the settings navigation
    around it; `section` is the navigation entry shown as current."""
    return render(
        request, template, {"settings_section": section, **(context or {})}, status=status
    )


def found(obj: T | None) -> T:
    """The object, or the 404 page when a URL names something that does not exist."""
    if obj is None:
        raise Http404("No such object")
    return obj
