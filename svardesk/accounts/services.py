"""Changes to users: creation, seats, permissions, teams, preferences."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from svardesk.accounts import presence, throttle
from svardesk.accounts.exceptions import UserValidationError
from svardesk.accounts.models import ChatStatus, DateStyle, Language, User
from svardesk.accounts.signals import access_changed
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.core.on_commit import after_commit
from svardesk.teams.models import Membership, Team

_ADMIN_FIELDS = {
    "first_name",
    "last_name",
    "is_active",
    "is_superuser",
    "has_seat",
    "can_manage_views",
    "has_account_access",
    "ticket_access",
    "language",
    "time_zone",
}

# What a user's open live sockets were opened with: a change to any closes them.
_ACCESS_FIELDS = ("is_active", "is_superuser", "has_seat", "ticket_access")


def _announce_access_changed(user_ids: Iterable[int]) -> None:
    """After commit, close the users' open live sockets: they were opened with the old
    permissions (the browser reconnects with the new ones)."""
    after_commit(access_changed.send, sender=User, user_ids=sorted(set(user_ids)))


@transaction.atomic
def create_user(
    *,
    actor: User | None,
    email: str,
    password: str | None = None,
    primary_team: Team | None = None,
    teams: Iterable[Team] = (),
    **fields: Any,
) -> User:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise UserValidationError(_("A user with this email address already exists."))
    unknown = set(fields) - _ADMIN_FIELDS
    if unknown:
        raise UserValidationError(f"Unknown user fields: {sorted(unknown)}")
    user = User.objects.create_user(email=email, password=password, **fields)
    if not password:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    _replace_teams(user, primary_team=primary_team, teams=teams)  # no socket to tell yet
    return user


@transaction.atomic
def update_user(
    user: User,
    *,
    actor: User | None,
    primary_team: Team | None,
    teams: Iterable[Team],
    **fields: Any,
) -> User:
    unknown = set(fields) - _ADMIN_FIELDS - {"email"}
    if unknown:
        raise UserValidationError(f"Unknown user fields: {sorted(unknown)}")
    if actor is not None and actor.pk == user.pk and fields.get("is_superuser") is False:
        raise UserValidationError(_("You cannot remove your own super admin rights."))
    if fields.get("is_superuser") is False or fields.get("is_active") is False:
        others = User.objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
        if user.is_superuser and not others.exists():
            raise UserValidationError(_("The help desk needs at least one active super admin."))
    if "email" in fields:
        fields["email"] = str(fields["email"]).strip().lower()
        if User.objects.filter(email__iexact=fields["email"]).exclude(pk=user.pk).exists():
            raise UserValidationError(_("A user with this email address already exists."))
    access_before = [getattr(user, name) for name in _ACCESS_FIELDS]
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=sorted(fields) or None)
    teams_changed = _replace_teams(user, primary_team=primary_team, teams=teams)
    if teams_changed or access_before != [getattr(user, name) for name in _ACCESS_FIELDS]:
        _announce_access_changed([user.pk])
        after_commit(presence.set_available, user.pk, user.takes_chats)
    return user


@transaction.atomic
def set_user_teams(
    user: User, *, actor: User | None, primary_team: Team | None, teams: Iterable[Team]
) -> None:
    """Make `teams` (plus the main team, which is always a membership) the user's teams."""
    if _replace_teams(user, primary_team=primary_team, teams=teams):
        _announce_access_changed([user.pk])


def _replace_teams(user: User, *, primary_team: Team | None, teams: Iterable[Team]) -> bool:
    """Whether the user's teams changed."""
    wanted = {team.pk for team in teams}
    if primary_team is not None:
        wanted.add(primary_team.pk)
    current = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    Membership.objects.filter(user=user, team_id__in=current - wanted).delete()
    Membership.objects.bulk_create(Membership(user=user, team_id=pk) for pk in wanted - current)
    if user.primary_team_id != (primary_team.pk if primary_team else None):
        user.primary_team = primary_team
        user.save(update_fields=["primary_team"])
    if hasattr(user, "_svardesk_team_ids"):
        del user._svardesk_team_ids
    return bool(current ^ wanted)


@transaction.atomic
def update_preferences(
    user: User, *, language: str, time_zone: str, date_style: str = DateStyle.AUTOMATIC
) -> User:
    if language not in Language.values:
        raise UserValidationError(_("Unknown language."))
    if date_style not in DateStyle.values:
        raise UserValidationError(_("Unknown date and time format."))
    user.language = language
    user.time_zone = time_zone
    user.date_style = date_style
    user.save(update_fields=["language", "time_zone", "date_style"])
    return user


@transaction.atomic
def set_chat_status(user: User, *, status: str, actor: User) -> User:
    """Set whether `user` takes live chats while they have the workspace open. Only the user
    themself may: it says whether they are at their desk."""
    if actor.pk != user.pk:
        raise PermissionDeniedError(_("You can only change your own chat status."))
    if status not in ChatStatus.values:
        raise UserValidationError(_("Unknown chat status."))
    if user.chat_status != status:
        user.chat_status = status
        user.save(update_fields=["chat_status"])
    after_commit(presence.set_available, user.pk, user.takes_chats)
    return user


@transaction.atomic
def reset_password(user: User, *, password: str) -> User:
    """Set the password chosen through a reset link. Whoever followed the link holds the
    mailbox, so the address's failed sign-ins (and their slow-down) are forgotten too."""
    user.set_password(password)
    user.save(update_fields=["password"])
    after_commit(throttle.clear_address_failures, user.email)
    _announce_access_changed([user.pk])  # their sockets were signed in with the old password
    return user
