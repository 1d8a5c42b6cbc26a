"""Template filters that show ticket records in the reader's language."""

from typing import Any

from django import template

from svardesk.tickets.timeline import ChangeReading, read_change

register = template.Library()


@register.filter
def change_reading(data: Any) -> ChangeReading:
    """A property-change row's label, old and new value as the reader reads them."""
    return read_change(data if isinstance(data, dict) else {})
