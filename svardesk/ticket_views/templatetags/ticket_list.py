"""Template filters of the ticket list."""

import datetime as dt

from django import template

from svardesk.ticket_views import rendering

register = template.Library()


@register.filter
def list_time(value: dt.datetime | None) -> str:
    """Relative time to its largest unit ("2 days ago"), as the default rows show it."""
    return rendering.list_time(value)
