"""The workspace shell, drawn by its own templates: a domain view renders its page with
`current_view` (the sidebar view to highlight, optional) in the context and never imports
the workspace. The sidebar is computed here, so only a full page pays for it; HTMX fragments
do not extend `workspace/workspace.html` and never reach this tag."""

from typing import Any

from django import template
from django.utils.translation import get_language

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


class FixedNode(template.Node):
    """Markup rendered once per language for the life of the compiled template: the shell's
    stylesheets, scripts, labels and links are the same for every request in a language, and
    drawing their ~40 translations, URLs and static paths cost ~1.5 ms per page."""

    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self.rendered: dict[str, str] = {}

    def render(self, context: template.Context) -> str:
        language = get_language() or ""
        html = self.rendered.get(language)
        if html is None:
            html = self.rendered[language] = self.nodelist.render(context)
        return html


@register.tag("fixed")
def fixed(parser: template.base.Parser, token: template.base.Token) -> FixedNode:
    """`{% fixed %}…{% endfixed %}`: the contents drawn once per language and reused. Only for
    markup that depends on nothing but the language — translations, `{% url %}` without
    request values, `{% static %}` — never on the user, the request or the data."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% fixed %} takes no arguments")
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    return FixedNode(nodelist)
