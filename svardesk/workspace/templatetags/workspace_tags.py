"""The workspace shell, drawn by its own templates: a domain view renders its page with
`current_view` (the sidebar view to highlight, optional) in the context and never imports
the workspace. The sidebar is computed here (`{% shell %}`), so only a full page pays for
it; HTMX fragments do not extend `workspace/workspace.html` and never reach this tag."""

from typing import Any

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext

from svardesk.conversations.moving import sidebar_inboxes
from svardesk.conversations.queries import count_unread_notifications
from svardesk.core.jinja import render
from svardesk.core.parsing import parse_id
from svardesk.ticket_views.sidebar import sidebar_context

register = template.Library()


def _inboxes_sidebar(current_view: str) -> dict[str, Any]:
    """The conversations inboxes with their thread counts (nothing when there are none)."""
    inboxes = []
    for inbox in sidebar_inboxes():
        count: int = inbox.thread_count  # type: ignore[attr-defined]
        title = ngettext("%(counter)s conversation", "%(counter)s conversations", count)
        inboxes.append(
            {
                "pk": inbox.pk,
                "name": inbox.name,
                "thread_count": count,
                "count_title": title % {"counter": count},
            }
        )
    # "inbox-<id>"; from a query string (the ticket page's ?view=), so ASCII digits only:
    # "²".isdigit() is true and int("²") fails.
    current = parse_id(current_view[6:]) if current_view.startswith("inbox-") else None
    return {"inboxes": inboxes, "current_inbox_id": current}


class ShellNode(template.Node):
    """Draws the page's content (the nodes inside, Django's), then the shell around it with
    Jinja2 (workspace/jinja2/workspace/shell.html, decision 0008): the sidebar's views and
    counts, the inboxes, the notifications badge and the user menu."""

    child_nodelists = ("nodelist",)  # so {% block content %} inside is found and overridden

    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist

    def render(self, context: template.Context) -> str:
        content = self.nodelist.render(context)
        values: dict[str, Any] = context.flatten()  # type: ignore[assignment]
        request = values["request"]
        user = values.get("user")
        current_view = str(values.get("current_view") or "")
        values.update(sidebar_context(request, current_view=current_view))
        values.update(_inboxes_sidebar(current_view))
        values["unread_notifications"] = (
            count_unread_notifications(user)
            if user is not None and getattr(user, "is_authenticated", False)
            else 0
        )
        values["content"] = mark_safe(content)  # noqa: S308 - drawn by Django's engine above
        return render("workspace/shell.html", values)


@register.tag("shell")
def shell(parser: template.base.Parser, token: template.base.Token) -> ShellNode:
    """`{% shell %}…{% endshell %}`: the workspace shell around the contents."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("{% shell %} takes no arguments")
    nodelist = parser.parse(("endshell",))
    parser.delete_first_token()
    return ShellNode(nodelist)


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
