"""Template filters that show ticket records in the reader's language."""

from typing import Any

from django import template

from svardesk.tickets.timeline import ChangeReading, read_change, read_sla_event

register = template.Library()


@register.filter
def change_reading(data: Any) -> ChangeReading:
    """A property-change row's label, old and new value as the reader reads them."""
    return read_change(data if isinstance(data, dict) else {})


@register.filter
def sla_reading(data: Any) -> str:
    """An SLA timeline row (goal started, paused, resumed, met, missed) as a sentence."""
    return read_sla_event(data if isinstance(data, dict) else {})
