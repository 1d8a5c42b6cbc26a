"""Template helpers for the workspace shell: the unread notifications badge."""

from typing import Any

from django import template

from svardesk.conversations.queries import count_unread_notifications

register = template.Library()


@register.simple_tag
def unread_notification_count(user: Any) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return count_unread_notifications(user)
