"""The ticket list's columns and sort orders: which properties can show, and how each one
sorts so that keyset pagination stays stable (every sort ends with the ticket id)."""

from __future__ import annotations

import builtins
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import Combinable, RawSQL
from django.db.models.fields import CharField, DateTimeField, FloatField, IntegerField, TextField
from django.db.models.functions import Coalesce, Concat, Lower
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.safestring import SafeString

from svardesk.core.parsing import MAX_ID, parse_aware_datetime
from svardesk.ticket_views.filters import (
    CHECKBOX,
    MULTI,
    NUMBER,
    USER,
    CustomValue,
    filterable_specs,
    kind_of,
)
from svardesk.ticket_views.rendering import ticket_rows
from svardesk.tickets import properties as props
from svardesk.tickets.models import PRIORITY_RANK

# The list as it always looked: sender, subject with preview, status, priority, owner, time.
DEFAULT_COLUMNS = ("contact", "name", "stage", "priority", "owner", "last_activity_at")
# Too long to show in a one-line table.
_NOT_COLUMNS = frozenset({"description"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NO_NUMBER = -1e300


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    spec: props.PropertySpec
    sortable: bool


def available_columns(specs: Mapping[str, props.PropertySpec] | None = None) -> list[Column]:
    specs = specs if specs is not None else filterable_specs()
    return [
        Column(name, spec.label, spec, kind_of(spec) != MULTI)
        for name, spec in specs.items()
        if name not in _NOT_COLUMNS
    ]


def parse_columns(raw: Iterable[str] | str | None, available: Iterable[Column]) -> list[str]:
    """The known column keys among `raw` (a list, or one comma-separated string), in order;
    the ticket name always shows. Empty or nothing known: the default columns."""
    if isinstance(raw, str):
        raw = raw.split(",")
    keys = {column.key for column in available}
    chosen = [key for key in dict.fromkeys(k.strip() for k in raw or ()) if key in keys]
    if not chosen:
        return list(DEFAULT_COLUMNS)
    if "name" not in chosen:
        chosen.insert(0, "name")
    return chosen


@dataclass(frozen=True)
class Sort:
    property: str
    descending: bool

    @builtins.property  # the field above shadows the builtin in this class body
    def token(self) -> str:
        return f"-{self.property}" if self.descending else self.property

    def toggled(self) -> Sort:
        return Sort(self.property, not self.descending)


DEFAULT_SORT = Sort("last_activity_at", True)


def parse_sort(raw: str | None, specs: Mapping[str, props.PropertySpec] | None = None) -> Sort:
    """`priority` (ascending) or `-priority` (descending); anything unknown or unsortable
    gives the default, newest activity first."""
    text = (raw or "").strip()
    if not text:
        return DEFAULT_SORT
    descending = text.startswith("-")
    name = text.lstrip("-")
    specs = specs if specs is not None else filterable_specs()
    spec = specs.get(name)
    if spec is None or name in _NOT_COLUMNS or kind_of(spec) == MULTI:
        return DEFAULT_SORT
    return Sort(name, descending)


# The priority rank with its constants written out, not bound as parameters: only then can
# SQLite (as PostgreSQL) match it to the ticket_sort_priority expression index
# (ticket_views/0002). The values are the code's own constants, never input.
_PRIORITY_RANK_SQL = RawSQL(  # noqa: S611
    "CASE "
    + " ".join(
        f'WHEN "tickets_ticket"."priority" = \'{value}\' THEN {rank}'
        for value, rank in PRIORITY_RANK.items()
    )
    + " ELSE 0 END",
    (),
    output_field=IntegerField(),
)


@dataclass(frozen=True)
class SortKey:
    """What a sort orders by: a field path (plain column, possibly across a join) or an
    expression; `value_kind` says how its values travel in a cursor."""

    field: str | None
    expression: Combinable | None
    value_kind: str  # "datetime", "number" or "text"


# Sorts and cells of built-in properties other apps register (the sla app's due times and
# statuses), read from the ticket's own columns: no query per row.
_REGISTERED_SORTS: dict[str, SortKey] = {}
_REGISTERED_CELLS: dict[str, Callable[[Any], str]] = {}


def register_column(name: str, sort: SortKey, cell: Callable[[Any], str]) -> None:
    """How the registered built-in property `name` sorts and reads in a list cell."""
    _REGISTERED_SORTS[name] = sort
    _REGISTERED_CELLS[name] = cell


def sort_key(sort: Sort, specs: Mapping[str, props.PropertySpec] | None = None) -> SortKey:
    name = sort.property
    if name in _REGISTERED_SORTS:
        return _REGISTERED_SORTS[name]
    if name in ("last_activity_at", "created_at", "updated_at"):
        return SortKey(name, None, "datetime")
    if name == "closed_at":
        return SortKey(None, Coalesce(F("closed_at"), Value(_EPOCH, DateTimeField())), "datetime")
    if name == "id":
        return SortKey("id", None, "number")
    if name == "name":
        return SortKey(None, Lower("name"), "text")
    if name in ("category", "source"):
        return SortKey(name, None, "text")
    if name == "priority":
        return SortKey(None, _PRIORITY_RANK_SQL, "number")
    if name == "stage":
        return SortKey("stage__display_order", None, "number")
    if name == "pipeline":
        return SortKey("pipeline__display_order", None, "number")
    if name == "team":
        return SortKey(None, Lower(Coalesce(F("team__name"), Value(""))), "text")
    if name in ("owner", "contact"):
        return SortKey(
            None,
            Lower(
                Concat(
                    Coalesce(F(f"{name}__first_name"), Value("")),
                    Value(" "),
                    Coalesce(F(f"{name}__last_name"), Value("")),
                    output_field=CharField(),
                )
            ),
            "text",
        )
    specs = specs if specs is not None else filterable_specs()
    return custom_sort_key(specs[name])


def custom_sort_key(spec: props.PropertySpec) -> SortKey:
    """How a custom property sorts (any record type's): its JSON value, typed, with "no
    value" first in ascending order."""
    name = spec.name
    kind = kind_of(spec)
    if kind in (NUMBER, USER):
        return SortKey(
            None,
            Coalesce(CustomValue(name, "number"), Value(_NO_NUMBER, FloatField())),
            "number",
        )
    if kind == CHECKBOX:
        return SortKey(
            None,
            Case(
                When(Q(Exact(CustomValue(name, "boolean"), True)), then=Value(2)),
                When(Q(Exact(CustomValue(name, "boolean"), False)), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            "number",
        )
    return SortKey(
        None,
        Coalesce(CustomValue(name, "text", binary=True), Value("", TextField())),
        "text",
    )


def encode_sort_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def decode_sort_value(raw: Any, value_kind: str) -> Any:
    """A cursor's sort value back in the type the database compares; None if malformed."""
    if value_kind == "datetime":
        return parse_aware_datetime(raw)  # a naive or impossible one is not one we wrote
    if value_kind == "number":
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return None
        # Sort values are ids, ranks and stored numbers: a 64-bit integer or a finite float
        # (the database cannot bind a bigger int).
        if isinstance(raw, int) and abs(raw) > MAX_ID:
            return None
        return raw if math.isfinite(raw) else None
    return raw if isinstance(raw, str) and "\x00" not in raw else None


# --- Cells ----------------------------------------------------------------------------------


def table_rows(tickets: list[Any], columns: list[Column], *, view_key: str = "") -> SafeString:
    """The `<tr>`s of a list showing `columns` (rendering.ticket_rows draws the default
    columns — sender, subject, status, priority, owner, time — the others as their text)."""
    from django.contrib.auth import get_user_model

    user_columns = [c.key for c in columns if not c.spec.is_builtin and kind_of(c.spec) == USER]
    user_ids = {
        ticket.custom.get(key)
        for ticket in tickets
        for key in user_columns
        if isinstance(ticket.custom.get(key), int)
    }
    names = (
        {user.pk: user.display_name for user in get_user_model().objects.filter(pk__in=user_ids)}
        if user_ids
        else {}
    )
    by_key = {column.key: column for column in columns}
    return ticket_rows(
        tickets,
        [column.key for column in columns],
        view_key=view_key,
        cell_text=lambda ticket, key: _cell_text(ticket, by_key[key], names),
    )


def _cell_text(ticket: Any, column: Column, user_names: Mapping[int, str]) -> str:
    from django.utils.formats import date_format

    key = column.key
    if key in _REGISTERED_CELLS:
        return _REGISTERED_CELLS[key](ticket)
    if key in ("contact", "name", "stage", "priority", "owner", "last_activity_at"):
        return ""  # drawn by the template
    if key == "id":
        return f"#{ticket.pk}"
    if key == "team":
        return ticket.team.name if ticket.team_id else ""
    if key == "pipeline":
        return ticket.pipeline.display_name
    if key in ("category", "source"):
        return str(getattr(ticket, f"get_{key}_display")()) if getattr(ticket, key) else ""
    if key in ("created_at", "updated_at", "closed_at"):
        moment = getattr(ticket, key)
        return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else ""
    value = ticket.custom.get(key)
    if kind_of(column.spec) == USER:
        return user_names.get(value, "") if isinstance(value, int) else ""
    return props.display_value(column.spec, value)
