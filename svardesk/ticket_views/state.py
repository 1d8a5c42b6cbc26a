"""The ticket list's state in its URL: quick filters, advanced filters, sort, columns, search.

Everything a list shows follows from its query string, so links are shareable and the back
button works. Advanced filters travel as `f=property:OPERATOR:value[,value…]` (commas and
backslashes in values escaped with a backslash); quick filters as `owner=`, `priority=`,
`pipeline=`, `stage=`, `team=` (a value, `me` / `my_team`, or `none` for "no value").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.http import QueryDict
from django.utils.translation import gettext as _

from svardesk.core.parsing import parse_ascii_int
from svardesk.ticket_views.filters import (
    BETWEEN,
    CONTAINS_TOKEN,
    EQ,
    IN,
    MULTI,
    NO_VALUE,
    NOT_CONTAINS_TOKEN,
    NOT_HAS_PROPERTY,
    NOT_IN,
    Filter,
    FilterError,
    kind_of,
)
from svardesk.tickets import properties as props

QUICK_FILTERS = ("owner", "priority", "pipeline", "stage", "team")
NONE = "none"
MAX_URL_FILTERS = 18

# The advanced filters form: a pseudo-operator for relative days, turned into BETWEEN.
LAST_DAYS, NEXT_DAYS = "LAST_DAYS", "NEXT_DAYS"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,")


def _split(payload: str) -> list[str]:
    items, current, escaped = [], [], False
    for ch in payload:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    items.append("".join(current))
    return items


def encode_filter(item: Filter) -> str:
    head = f"{item.property}:{item.operator}"
    if item.operator in NO_VALUE:
        return head
    if item.values:
        values = list(item.values)
    elif item.high_value not in (None, ""):
        values = [item.value, item.high_value]
    else:
        values = [item.value]
    return f"{head}:" + ",".join(_escape("" if v is None else str(v)) for v in values)


def decode_filter(text: str) -> Filter:
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise FilterError(_("That filter is not understood."))
    prop, operator = parts[0].strip(), parts[1].strip().upper()
    values = _split(parts[2]) if len(parts) == 3 else []
    if operator in NO_VALUE:
        return Filter(prop, operator)
    if operator == BETWEEN:
        return Filter(prop, operator, value=values[0] if values else None,
                      high_value=values[1] if len(values) > 1 else None)  # fmt: skip
    if operator in (IN, NOT_IN, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN) and len(values) > 1:
        return Filter(prop, operator, values=tuple(values))
    if operator in (IN, NOT_IN):
        return Filter(prop, operator, values=tuple(values))
    return Filter(prop, operator, value=values[0] if values else None)


@dataclass
class ListState:
    q: str = ""
    quick: dict[str, str] = field(default_factory=dict)
    filters: list[Filter] = field(default_factory=list)
    sort: str = ""
    columns: str = ""
    errors: list[str] = field(default_factory=list)
    # The quick filters this list offers (tickets': QUICK_FILTERS; the CRM lists' their own).
    quick_names: tuple[str, ...] = QUICK_FILTERS

    def query(self, **overrides: Any) -> str:
        """This state's query string (without the cursor), with some parts replaced."""
        state = replace(self, **overrides) if overrides else self
        pairs: list[tuple[str, str]] = []
        if state.q:
            pairs.append(("q", state.q))
        pairs.extend(
            (name, state.quick[name]) for name in state.quick_names if state.quick.get(name)
        )
        pairs.extend(("f", encode_filter(item)) for item in state.filters)
        if state.sort:
            pairs.append(("sort", state.sort))
        if state.columns:
            pairs.append(("cols", state.columns))
        return urlencode(pairs)

    def without_filter(self, index: int) -> str:
        return self.query(filters=[f for i, f in enumerate(self.filters) if i != index])

    @property
    def has_filters(self) -> bool:
        return bool(self.filters or any(self.quick.values()))

    def quick_filters(self) -> list[Filter]:
        filters = []
        for name in self.quick_names:
            value = self.quick.get(name, "")
            if not value:
                continue
            if value == NONE:
                filters.append(Filter(name, NOT_HAS_PROPERTY))
            else:
                filters.append(Filter(name, EQ, value=value))
        return filters

    def all_filters(self) -> list[Filter]:
        return self.quick_filters() + self.filters


def parse_list_state(
    params: QueryDict | Mapping[str, Any], quick_names: tuple[str, ...] = QUICK_FILTERS
) -> ListState:
    get_list = params.getlist if isinstance(params, QueryDict) else (lambda k: [params.get(k)])
    columns = str(params.get("cols") or "").strip()[:1000]
    chosen = [str(c) for c in get_list("col") if c]
    if chosen:  # the column chooser's checkboxes
        columns = ",".join(chosen)[:1000]
    state = ListState(
        q=str(params.get("q") or "").strip()[:200],
        sort=str(params.get("sort") or "").strip()[:70],
        columns=columns,
        quick_names=quick_names,
    )
    for name in quick_names:
        value = str(params.get(name) or "").strip()[:40]
        if value:
            state.quick[name] = value
    for raw in get_list("f")[:MAX_URL_FILTERS]:
        if not raw:
            continue
        try:
            state.filters.append(decode_filter(str(raw)))
        except FilterError as exc:
            state.errors.append(str(exc))
    return state


def filter_from_form(data: QueryDict, spec: props.PropertySpec | None) -> Filter | None:
    """The condition the advanced filters form describes (`add_property`, `add_operator`,
    `add_value` (repeatable), `add_high`), or None when no property was chosen."""
    prop = (data.get("add_property") or "").strip()
    if not prop:
        return None
    if spec is None:
        raise FilterError(_("There is no property called “%(name)s”.") % {"name": prop})
    operator = (data.get("add_operator") or "").strip().upper()
    values = [v for v in data.getlist("add_value") if str(v).strip()]
    if operator in (LAST_DAYS, NEXT_DAYS):
        days = parse_ascii_int(str(data.get("add_days") or (values[0] if values else "")).strip())
        if days is None or not 0 < days <= 3650:
            raise FilterError(_("Give a number of days."))
        direction = "last" if operator == LAST_DAYS else "next"
        return Filter(prop, BETWEEN, value=f"{direction}_{days}_days")
    if operator in NO_VALUE:
        return Filter(prop, operator)
    if operator == BETWEEN:
        return Filter(prop, operator, value=values[0] if values else None,
                      high_value=data.get("add_high") or None)  # fmt: skip
    many = operator in (IN, NOT_IN) or (
        kind_of(spec) == MULTI and operator in (CONTAINS_TOKEN, NOT_CONTAINS_TOKEN)
    )
    if many:
        return Filter(prop, operator, values=tuple(values))
    return Filter(prop, operator, value=values[0] if values else None)
