"""The `call_reading` filter: a logged call (tickets/calls.py) as the thread shows it."""

from typing import Any

from django import template

from svardesk.tickets.calls import CallReading, read_call

register = template.Library()


@register.filter
def call_reading(data: Any) -> CallReading:
    """A CALL event's direction, outcome label, duration (m:ss) and notes."""
    return read_call(data if isinstance(data, dict) else {})
