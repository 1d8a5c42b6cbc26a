"""Reads about users."""

from typing import cast

from django.http import HttpRequest

from svardesk.accounts.models import User


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request that a login-requiring decorator already checked."""
    return cast(User, request.user)
