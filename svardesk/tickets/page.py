"""The ticket's own part of the ticket page: header choices, the right sidebar as the user
arranges it, and the timeline. The page itself — with the conversation beside it — is composed
above the domain apps (`workspace/ticket_page.py`); this module knows no conversation."""

from typing import Any

from django.http import HttpRequest

from svardesk.accounts.queries import request_user
from svardesk.tickets import properties as props
from svardesk.tickets import queries, sidebar
from svardesk.tickets.forms import assignable_users
from svardesk.tickets.models import Category, Priority, Ticket


def _property_rows(ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for spec in sidebar.sidebar_specs():
        value = props.plain_value(ticket, spec)
        rows.append({"spec": spec, "value": value, "display": props.display_value(spec, value)})
    return rows


def detail_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    """What `tickets/partials/_detail.html` needs of the ticket itself. `timeline` is the
    ticket's events, oldest first, for the caller to weave into the conversation. The caller
    has checked that the request's user may see the ticket."""
    user = request_user(request)
    rows = _property_rows(ticket)
    order, hidden = sidebar.layout_of(user)
    return {
        "ticket": ticket,
        "sidebar_cards": sidebar.arrange(
            rows, order=order, hidden=hidden, has_contact=ticket.contact_id is not None
        ),
        "sidebar_choices": [(row["spec"], row["spec"].name not in hidden) for row in rows],
        "timeline": list(queries.list_timeline(ticket)),
        "owners": list(assignable_users()),
        "priorities": Priority.choices,
        "categories": Category.choices,
        "stages": list(queries.list_stages(ticket.pipeline)),
    }
