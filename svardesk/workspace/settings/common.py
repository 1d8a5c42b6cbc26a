"""What every settings page shares: the workspace shell around it and the current section."""

from typing import cast

from django.http import HttpRequest

from svardesk.accounts.models import User
from svardesk.core.shortcuts import found, render_settings

__all__ = ["actor", "found", "render_settings"]


def actor(request: HttpRequest) -> User:
    """The signed-in super admin making the change (the decorator has checked who it is)."""
    return cast(User, request.user)
