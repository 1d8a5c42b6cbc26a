"""`{% record_ticket_rows %}`: the record page's ticket rows, drawn in Python
(list_rendering.record_ticket_rows) from the page's context."""

from typing import Any

from django import template
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString

from svardesk.records.list_rendering import record_ticket_rows as render_rows

register = template.Library()


@register.simple_tag(takes_context=True)
def record_ticket_rows(context: dict[str, Any]) -> SafeString:
    page = context["tickets_page"]
    record = context["record"]
    return render_rows(
        page.tickets,
        next_cursor=page.next_cursor,
        record_id=record.pk,
        # Only a contact's page marks the tickets it is the primary contact of.
        primary_contact_id=record.pk if context["object_type"] == "contact" else None,
        url_base=context["url_base"],
        csrf_token=get_token(context["request"]),
    )
