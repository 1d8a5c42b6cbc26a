"""Custom views: a named, saved set of filters with a sort and columns, shared with nobody,
some teams, or everyone."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from svardesk.core.models import TimestampedModel


class Sharing(models.TextChoices):
    PRIVATE = "private", _("Private")
    TEAMS = "teams", _("Team(s)")
    EVERYONE = "everyone", _("Everyone")


class CustomView(TimestampedModel):
    """A view an agent with the *Custom views* permission saved.

    A private view is its creator's alone; a team view belongs to the members of its teams;
    an everyone view to every workspace user. `filters` holds the filter engine's data
    (`ticket_views.filters.Filter.to_data()` items); "me" and "my team" in them resolve for
    whoever looks. `sort` is a property name, `-` first for descending; `columns` the
    properties the list shows (empty: the default columns)."""

    name = models.CharField(_("name"), max_length=100)
    sharing = models.CharField(
        _("sharing"), max_length=10, choices=Sharing.choices, default=Sharing.PRIVATE
    )
    teams = models.ManyToManyField(
        "teams.Team", verbose_name=_("teams"), blank=True, related_name="custom_views"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="custom_views",
    )
    filters = models.JSONField(_("filters"), default=list, blank=True)
    sort = models.CharField(_("sort"), max_length=70, blank=True, default="")
    columns = models.JSONField(_("columns"), default=list, blank=True)
    # What the view lists: tickets, or (saved views of the CRM lists) contacts or companies.
    object_type = models.CharField(_("object"), max_length=10, default="ticket")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("custom view")
        verbose_name_plural = _("custom views")
        indexes = [models.Index(fields=["sharing", "created_by"], name="custom_view_sharing")]

    def __str__(self) -> str:
        return self.name

    @property
    def key(self) -> str:
        """How the sidebar and the count cache name this view."""
        return f"custom-{self.pk}"
