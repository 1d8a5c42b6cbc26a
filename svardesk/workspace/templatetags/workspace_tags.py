"""The workspace shell, drawn by its own templates: a domain view renders its page with
`current_view` (the sidebar view to highlight, optional) in the context and never imports
the workspace. The sidebar is computed here, so only a full page pays for it; HTMX fragments
do not extend `workspace/workspace.html` and never reach this tag."""

from typing import Any

from django import template

from svardesk.conversations.moving import sidebar_inboxes
from svardesk.ticket_views.sidebar import sidebar_context

register = template.Library()


@register.inclusion_tag("ticket_views/partials/_sidebar_views.html", takes_context=True)
def workspace_sidebar(context: template.Context) -> dict[str, Any]:
    """The sidebar's views and counts for the page's request, `current_view` highlighted."""
    request = context["request"]
    current_view = context.get("current_view") or ""
    return sidebar_context(request, current_view=str(current_view))


@register.inclusion_tag("workspace/inbox/_sidebar.html", takes_context=True)
def inboxes_sidebar(context: template.Context) -> dict[str, Any]:
    """The conversations inboxes with their thread counts (nothing when there are none)."""
    current = str(context.get("current_view") or "")
    return {
        "inboxes": sidebar_inboxes(),
        "current_inbox_id": int(current[6:]) if current[6:].isdigit() else None,
    }
