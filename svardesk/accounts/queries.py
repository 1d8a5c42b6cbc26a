"""Reads about users."""

import unicodedata
from typing import cast

from django.db.models import Q
from django.http import HttpRequest

from svardesk.accounts import presence
from svardesk.accounts.models import User


def request_user(request: HttpRequest) -> User:
    """The signed-in user of a request that a login-requiring decorator already checked."""
    return cast(User, request.user)


def sign_in_address(address: str) -> str:
    """The form of an email address that sign-in matches by and the sign-in throttle counts by:
    compatibility characters folded (NFKC), then case folded — as Django's password reset
    compares addresses: with a long s (U+017F) for its first s, `agent@svardesk.test` is still
    `agent@svardesk.test`."""
    return unicodedata.normalize("NFKC", address.strip()).casefold()


def find_user_for_sign_in(address: str) -> User | None:
    """The user whose address is `address` once both are in their sign-in form, or None.

    The database only narrows the candidates (its case-insensitive match differs: PostgreSQL
    upper-cases the long s to `S`, SQLite folds ASCII only); the rule itself is applied here, the
    same on both, so every spelling that reaches a user is counted as that user's address."""
    wanted = sign_in_address(address)
    if not wanted:
        return None
    candidates = User.objects.filter(Q(email__iexact=wanted) | Q(email__iexact=address.strip()))
    matches = [user for user in candidates if sign_in_address(user.email) == wanted]
    if len(matches) > 1:
        # Only addresses stored before this rule can collide; the exact one wins, or none.
        matches = [user for user in matches if user.email == address.strip().lower()]
    return matches[0] if len(matches) == 1 else None


def chat_agents_available() -> bool:
    """Whether any agent takes chats now: an active user with a seat or a super admin, whose
    chat status is Available, with the workspace open (a live workspace socket). Cheap enough
    for every visitor message: one cache read, kept a second or two in each process
    (accounts.presence)."""
    return presence.any_agent_available()
