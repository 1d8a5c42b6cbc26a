"""The periodic sweep: running goals turn Due soon, then Overdue, on time.

Each transition is claimed with one conditional UPDATE (`… WHERE status = <old>`), and the
notifications and timeline rows of the tickets it claimed are written in the same
transaction: two sweeps at once (several workers), or a sweep repeated after a restart, can
claim a transition only once, so it is announced only once. Candidates are read through the
`ticket_sla_<goal>_st` indexes (status, due): the sweep never reads every open ticket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from svardesk.conversations.models import Notification
from svardesk.sla.models import GOALS
from svardesk.sla.policy import load_config
from svardesk.sla.timers import MISSED
from svardesk.teams.models import Membership
from svardesk.tickets.models import SlaStatus, Ticket, TicketEvent, TicketEventKind

NOTIFY_DUE_SOON = Notification.Kind.SLA_DUE_SOON
NOTIFY_OVERDUE = Notification.Kind.SLA_OVERDUE
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    due_soon: int
    overdue: int


def sweep(*, now: dt.datetime | None = None) -> SweepResult:
    """Move every running goal whose time has come on to Due soon / Overdue."""
    now = now or timezone.now()
    config = load_config()
    due_soon = overdue = 0
    for goal in GOALS:
        status, due = f"sla_{goal}_status", f"sla_{goal}_due"
        # Overdue first: a goal past its due time skips Due soon.
        overdue += _claim_all(
            goal,
            {f"{status}__in": [SlaStatus.ON_TRACK, SlaStatus.DUE_SOON], f"{due}__lte": now},
            SlaStatus.OVERDUE,
            now,
        )
        soon_from = now + dt.timedelta(seconds=config.settings.due_soon_seconds(goal))
        due_soon += _claim_all(
            goal,
            {status: SlaStatus.ON_TRACK, f"{due}__lte": soon_from},
            SlaStatus.DUE_SOON,
            now,
        )
    return SweepResult(due_soon=due_soon, overdue=overdue)


def _claim_all(goal: str, candidates: dict[str, object], new: str, now: dt.datetime) -> int:
    status = f"sla_{goal}_status"
    claimed = 0
    after = 0
    while True:
        rows = list(
            # Spam keeps its timers (it may be marked not spam) but is never announced.
            Ticket.objects.filter(**candidates, pk__gt=after, is_spam=False)
            .order_by("pk")
            .values_list("pk", status)[:BATCH]
        )
        if not rows:
            return claimed
        after = rows[-1][0]
        by_old: dict[str, list[int]] = {}
        for pk, old in rows:
            by_old.setdefault(old, []).append(pk)
        for old, ids in by_old.items():
            claimed += _claim(goal, ids, old, new, now)
        if len(rows) < BATCH:
            return claimed


@transaction.atomic
def _claim(goal: str, ids: Sequence[int], old: str, new: str, now: dt.datetime) -> int:
    """Set `new` where the status is still `old`; announce exactly the rows this changed."""
    column = f"sla_{goal}_status"
    table = Ticket._meta.db_table
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        # Column and table names are the code's own, never input.
        cursor.execute(
            f'UPDATE "{table}" SET "{column}" = %s '  # noqa: S608
            f'WHERE "id" IN ({marks}) AND "{column}" = %s RETURNING "id", "owner_id", "team_id"',
            [new, *ids, old],
        )
        won = cursor.fetchall()
    if not won:
        return 0
    _announce(goal, new, won, now)
    return len(won)


def _announce(
    goal: str, new: str, won: Sequence[tuple[int, int | None, int | None]], now: dt.datetime
) -> None:
    """The owner is notified, or every member of the team when nobody owns the ticket."""
    kind = NOTIFY_OVERDUE if new == SlaStatus.OVERDUE else NOTIFY_DUE_SOON
    team_ids = {team for _pk, owner, team in won if owner is None and team is not None}
    members: dict[int, list[int]] = {}
    for team_id, user_id in Membership.objects.filter(
        team_id__in=team_ids, user__is_active=True
    ).values_list("team_id", "user_id"):
        members.setdefault(team_id, []).append(user_id)
    notifications: list[Notification] = []
    for pk, owner, team in won:
        users = [owner] if owner is not None else members.get(team or 0, [])
        notifications.extend(
            Notification(user_id=user, kind=kind, ticket_id=pk, created_at=now) for user in users
        )
    Notification.objects.bulk_create(notifications)
    if new == SlaStatus.OVERDUE:
        TicketEvent.objects.bulk_create(
            TicketEvent(
                ticket_id=pk,
                kind=TicketEventKind.SLA,
                created_at=now,
                data={"goal": goal, "event": MISSED},
            )
            for pk, _owner, _team in won
        )
