"""The seven default views of the left sidebar (SPEC §2), each one condition on tickets."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from svardesk.accounts.models import User
from svardesk.tickets.queries import user_team_ids


@dataclass(frozen=True)
class DefaultView:
    key: str
    label: str | Promise
    empty_message: str | Promise
    condition: Callable[[User], Q]


def _live() -> Q:
    return Q(is_open=True, is_spam=False)


DEFAULT_VIEWS: tuple[DefaultView, ...] = (
    DefaultView(
        "unassigned",
        _("Unassigned"),
        _("No unassigned tickets — nice work."),
        lambda user: _live() & Q(owner__isnull=True),
    ),
    DefaultView(
        "assigned-to-me",
        _("Assigned to me"),
        _("Nothing is assigned to you. Pick a ticket from Unassigned."),
        lambda user: _live() & Q(owner_id=user.pk),
    ),
    DefaultView(
        "unassigned-for-my-team",
        _("Unassigned for my team"),
        _("Your team has no unassigned tickets."),
        lambda user: _live() & Q(owner__isnull=True, team_id__in=user_team_ids(user)),
    ),
    DefaultView(
        "my-teams-open",
        _("My team's open"),
        _("Your team has no open tickets."),
        lambda user: _live() & Q(team_id__in=user_team_ids(user)),
    ),
    DefaultView(
        "all-open",
        _("All open"),
        _("No open tickets. Every customer has an answer."),
        lambda user: _live(),
    ),
    DefaultView(
        "sent",
        _("Sent"),
        _("Tickets whose latest message you sent show here."),
        lambda user: Q(is_spam=False, last_message_author_id=user.pk),
    ),
    DefaultView(
        "spam",
        _("Spam"),
        _("No spam. Conversations marked as spam show here."),
        lambda user: Q(is_spam=True),
    ),
)

DEFAULT_VIEWS_BY_KEY = {view.key: view for view in DEFAULT_VIEWS}
