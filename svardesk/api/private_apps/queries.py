"""Reads for the Private apps settings page."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from svardesk.accounts.models import User
from svardesk.api.models import ApiToken


def list_tokens() -> QuerySet[ApiToken]:
    """Every private app, newest first, revoked ones included (Settings shows them greyed)."""
    return ApiToken.objects.select_related("user", "created_by").order_by(
        "revoked_at", "-created_at", "-id"
    )


def get_token(pk: int) -> ApiToken | None:
    return ApiToken.objects.select_related("user").filter(pk=pk).first()


def users_tokens_may_act_as() -> QuerySet[User]:
    """A token acts as someone who may use the help desk: super admins and users with a seat."""
    return User.objects.filter(Q(has_seat=True) | Q(is_superuser=True), is_active=True)
