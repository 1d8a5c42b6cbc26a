"""Each goal's due time and status as built-in ticket properties, so the one filter engine
sorts and filters by them (quick and advanced filters, custom views, sidebar counts) and the
list shows them as columns — read from the ticket's own columns, with no query per row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from svardesk.sla.models import GOALS
from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyType, SlaStatus

GROUP = pgettext_lazy("property group", "SLA")
# Tickets with no due time sort after every due one (ascending: soonest first).
_NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

DUE_LABELS = {
    "first_response": _("First response due"),
    "next_response": _("Next response due"),
    "close": _("Close due"),
}
STATUS_LABELS = {
    "first_response": _("First response SLA status"),
    "next_response": _("Next response SLA status"),
    "close": _("Close SLA status"),
}
_STATUS_RANK = {
    SlaStatus.OVERDUE: 1,
    SlaStatus.DUE_SOON: 2,
    SlaStatus.ON_TRACK: 3,
    SlaStatus.MISSED: 4,
    SlaStatus.MET: 5,
}


def due_name(goal: str) -> str:
    return f"sla_{goal}_due"


def status_name(goal: str) -> str:
    return f"sla_{goal}_status"


NAMES = [name for goal in GOALS for name in (due_name(goal), status_name(goal))]


def specs() -> list[props.PropertySpec]:
    result = []
    for goal in GOALS:
        result.append(
            props.PropertySpec(
                due_name(goal),
                str(DUE_LABELS[goal]),
                PropertyType.DATETIME,
                True,
                str(GROUP),
                is_editable=False,
            )
        )
        result.append(
            props.PropertySpec(
                status_name(goal),
                str(STATUS_LABELS[goal]),
                PropertyType.SELECT,
                True,
                str(GROUP),
                tuple((c.value, str(c.label)) for c in SlaStatus),
                is_editable=False,
            )
        )
    return result


def _due_cell(name: str) -> Any:
    def cell(ticket: Any) -> str:
        moment = getattr(ticket, name)
        return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else ""

    return cell


# A status's badge per language: the same few strings on every row of every list page.
_BADGES: dict[tuple[str | None, str], str] = {}


def _status_cell(name: str) -> Any:
    """A coloured badge per status (`badge sla-<status>`, styled in workspace/app.css, the
    same classes as the ticket header's badges): built from the row's own column, no query."""

    def cell(ticket: Any) -> str:
        value = getattr(ticket, name)
        if not value:
            return ""
        key = (get_language(), value)
        badge = _BADGES.get(key)
        if badge is None:
            status = SlaStatus(value)
            badge = _BADGES[key] = mark_safe(  # noqa: S308 - a fixed class, the label escaped
                f'<span class="badge sla-{status.value}">{escape(str(status.label))}</span>'
            )
        return badge

    return cell


def register() -> None:
    """Called once from the app's ready()."""
    from django.db.models import Case, IntegerField, When

    from svardesk.ticket_views.columns import SortKey, register_column
    from svardesk.ticket_views.filters import register_builtin_field

    props.register_builtin_properties(NAMES, specs)
    for goal in GOALS:
        due, status = due_name(goal), status_name(goal)
        register_builtin_field(due, due)
        register_builtin_field(status, status)
        register_column(
            due,
            SortKey(None, Coalesce(F(due), Value(_NO_DUE, DateTimeField())), "datetime"),
            _due_cell(due),
        )
        register_column(
            status,
            # Most urgent first: Overdue, Due soon, On track, Completed late, on time, none.
            SortKey(
                None,
                Case(
                    *(
                        When(**{status: value}, then=Value(rank))
                        for value, rank in _STATUS_RANK.items()
                    ),
                    default=Value(9),
                    output_field=IntegerField(),
                ),
                "number",
            ),
            _status_cell(status),
        )
