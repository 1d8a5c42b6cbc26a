"""Private-app tokens: created (the token is returned once), found by its hash, revoked.

A token looks like HubSpot's: `pat-sd1-` and 32 random bytes in URL-safe base64. Only its
SHA-256 is kept; tokens are long random strings, so a fast hash is enough (no password
stretching), and a lookup is one indexed equality."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.api.models import ApiToken
from svardesk.api.scopes import SCOPE_NAMES
from svardesk.core.precompiled import precompiled_objects

TOKEN_PREFIX = "pat-sd1-"  # noqa: S105 (a prefix, not a secret)
# How often a token's "last used" time is written: at most once a minute, not per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenError(ValueError):
    """A token that cannot be created as asked; the message says why."""


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted({s.strip() for s in scopes if s.strip()})
    unknown = [s for s in chosen if s not in SCOPE_NAMES]
    if unknown:
        raise TokenError(_("Unknown scopes: %(scopes)s.") % {"scopes": ", ".join(unknown)})
    if not chosen:
        raise TokenError(_("Choose at least one scope."))
    return chosen


@transaction.atomic
def create_token(
    *, user: User, name: str, scopes: Iterable[str], actor: User | None
) -> tuple[ApiToken, str]:
    """A new token acting as `user`; returns the row and the token (shown once)."""
    name = name.strip()
    if not name:
        raise TokenError(_("Give the private app a name."))
    if not (user.is_active and user.can_use_workspace):
        raise TokenError(
            _("A token acts as a user who may use the help desk: a super admin or a seat.")
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name[:100],
        user=user,
        scopes=clean_scopes(scopes),
        token_hash=hash_token(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 4],
        created_by=actor,
    )
    return token, raw


def _active_token(token_hash: str) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.select_related("user")
        .filter(token_hash=token_hash, revoked_at__isnull=True)
        .order_by()[:1]  # the hash is unique
    )


def find_active_token(raw: str) -> ApiToken | None:
    """The live token whose hash matches `raw`, with its user; None if unknown or revoked,
    or if its user may no longer use the help desk."""
    if not raw.startswith("pat-") or len(raw) > 200:
        return None
    # Every API request runs this: compiled once (core.precompiled), not per request.
    found = precompiled_objects(ApiToken, "api.active_token", _active_token, hash_token(raw))
    token = found[0] if found else None
    if token is None or not (token.user.is_active and token.user.can_use_workspace):
        return None
    return token


def note_use(token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that the token was used (at most once per LAST_USED_RESOLUTION)."""
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def revoke_token(token: ApiToken, *, actor: User | None) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
