"""The workspace sidebar's views with their counts, as its template draws them. The shell's
`{% shell %}` tag and the counts fragment (`views.sidebar_counts`) both use it."""

from typing import Any

from django.http import HttpRequest

from svardesk.accounts.queries import request_user
from svardesk.ticket_views.queries import request_custom_views, request_specs, sidebar
from svardesk.ticket_views.rendering import sidebar_links_html


def sidebar_context(request: HttpRequest, *, current_view: str = "") -> dict[str, Any]:
    """The context of `ticket_views/partials/_sidebar_views.html` for the request's user, with
    `current_view` (a view key) highlighted."""
    views = sidebar(
        request_user(request), specs=request_specs(request), views=request_custom_views(request)
    )
    return {
        # The links are drawn in Python: 27 of them on every page, ~15 template lookups each.
        "sidebar_views_html": sidebar_links_html(views.defaults, current_view),
        "shared_views": views.shared,
        "shared_views_html": sidebar_links_html(views.shared, current_view),
        "private_views": views.private,
        "private_views_html": sidebar_links_html(views.private, current_view),
        "can_create_views": views.can_create_views,
        "counts_computed_at": views.computed_at,
        "current_view": current_view,
    }
