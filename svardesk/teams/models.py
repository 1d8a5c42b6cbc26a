"""Teams group agents by expertise; they drive team views, team-shared views, SLAs, routing."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


class Team(TimestampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user belongs to a team. The user's main team is `User.primary_team` and is always
    also a membership, so "my teams" is one query over this table."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="unique_team_membership")
        ]
        indexes = [models.Index(fields=["user", "team"])]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id}"
