"""Template helpers for the workspace shell and the composer: the unread notifications badge,
a new draft token."""

import secrets
from typing import Any

from django import template

from svardesk.conversations.queries import count_unread_notifications

register = template.Library()


@register.simple_tag
def unread_notification_count(user: Any) -> int:
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    return count_unread_notifications(user)


@register.simple_tag
def new_draft_token() -> str:
    """A fresh token for one composer draft (the browser makes the next after each send)."""
    return secrets.token_urlsafe(18)
