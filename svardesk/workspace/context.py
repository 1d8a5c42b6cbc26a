"""What every full workspace page shows around its content: the sidebar."""

from typing import Any

from django.http import HttpRequest

from svardesk.accounts.queries import request_user
from svardesk.ticket_views.defaults import DEFAULT_VIEWS
from svardesk.ticket_views.queries import count_default_views


def sidebar_context(request: HttpRequest, *, current_view: str = "") -> dict[str, Any]:
    counts = count_default_views(request_user(request))
    return {
        "sidebar_views": [
            {"key": view.key, "label": view.label, "count": counts.counts[view.key]}
            for view in DEFAULT_VIEWS
        ],
        "counts_computed_at": counts.computed_at,
        "current_view": current_view,
    }


def workspace_context(request: HttpRequest, *, current_view: str = "") -> dict[str, Any]:
    return sidebar_context(request, current_view=current_view)
