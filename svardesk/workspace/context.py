"""What every full workspace page shows around its content: the sidebar."""

from typing import Any

from django.http import HttpRequest

from svardesk.accounts.queries import request_user
from svardesk.ticket_views.queries import sidebar


def sidebar_context(request: HttpRequest, *, current_view: str = "") -> dict[str, Any]:
    views = sidebar(request_user(request))
    return {
        "sidebar_views": [
            {
                "key": view.key,
                "url": view.url,
                "label": view.label,
                "count": view.count_label,
                "is_more": view.is_more,
            }
            for view in views.defaults
        ],
        "shared_views": views.shared,
        "private_views": views.private,
        "can_create_views": views.can_create_views,
        "counts_computed_at": views.computed_at,
        "current_view": current_view,
    }


def workspace_context(request: HttpRequest, *, current_view: str = "") -> dict[str, Any]:
    return sidebar_context(request, current_view=current_view)
