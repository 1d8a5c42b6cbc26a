"""Changes to teams."""

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from svardesk.accounts.signals import access_changed
from svardesk.core.exceptions import SvardeskError
from svardesk.core.on_commit import after_commit
from svardesk.teams.models import Membership, Team


class TeamValidationError(SvardeskError):
    """A team change breaks a rule (name empty or taken)."""


@transaction.atomic
def create_team(*, actor: Any, name: str) -> Team:
    if not name.strip():
        raise TeamValidationError(_("Give the team a name."))
    if Team.objects.filter(name__iexact=name.strip()).exists():
        raise TeamValidationError(_("A team with this name already exists."))
    return Team.objects.create(name=name.strip())


@transaction.atomic
def rename_team(team: Team, *, actor: Any, name: str) -> Team:
    if not name.strip():
        raise TeamValidationError(_("Give the team a name."))
    if Team.objects.filter(name__iexact=name.strip()).exclude(pk=team.pk).exists():
        raise TeamValidationError(_("A team with this name already exists."))
    team.name = name.strip()
    team.save(update_fields=["name", "updated_at"])
    return team


@transaction.atomic
def delete_team(team: Team, *, actor: Any) -> None:
    """Delete a team. Its tickets keep their owner and lose the team; members lose it too."""
    members = list(Membership.objects.filter(team=team).values_list("user_id", flat=True))
    team.delete()
    # The members' open live sockets were opened with the team in their scope.
    after_commit(access_changed.send, sender=Team, user_ids=sorted(members))
