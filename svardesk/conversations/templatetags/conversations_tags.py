"""Template helpers for the composer: a new draft token."""

import secrets

from django import template

register = template.Library()


@register.simple_tag
def new_draft_token() -> str:
    """A fresh token for one composer draft (the browser makes the next after each send)."""
    return secrets.token_urlsafe(18)
