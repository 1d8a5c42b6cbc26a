"""The one filter engine: a filter is data — (property, operator, value) — and a list of them
compiles to one `Q` on tickets, or on contacts, companies and deals given their property specs
and `FilterSchema` (records.properties builds those).

Sidebar views, the list's quick and advanced filters, and later the API's search endpoint and
SLA conditions all go through `compile_filters`; nothing else interprets filters.

Operators are HubSpot's search operators (EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN,
HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN). Values may be relative
and resolve for whoever looks: `me` (a user property), `my_team` (the team property),
`last_N_days` / `next_N_days` (a date range, BETWEEN only, in the viewer's time zone).

Semantics, the same on every database:
- A property is *unknown* when it has no value: NULL, "", an empty list, or a custom value of
  the wrong type. EQ, IN, LT…, BETWEEN and CONTAINS_TOKEN never match an unknown value;
  NEQ, NOT_IN and NOT_CONTAINS_TOKEN do ("priority is none of High" lists tickets without a
  priority too). HAS_PROPERTY / NOT_HAS_PROPERTY test exactly that.
- Text comparisons ignore case (ASCII letters on SQLite); option values (select, multi-select)
  are compared exactly, as HubSpot does. CONTAINS_TOKEN is a substring match; `*` is allowed
  and means "anything", as in HubSpot's `*@hubspot.com`.
- A date value on a date-and-time property means that whole day in the viewer's time zone:
  EQ 2024-05-01 is 00:00 to 24:00 that day, LT is before it starts, LTE before it ends.
  `last_N_days` is from the start of the day N days ago to the end of today; `next_N_days`
  from the start of today to the end of the day N days ahead.
- Multi-select: IN is "any of", NOT_IN "none of", CONTAINS_TOKEN with values is "all of".
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import BooleanField, F, FloatField, Func, Q, TextField
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IContains,
    IExact,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.core.parsing import is_ascii_digits, parse_id
from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyType
from svardesk.tickets.queries import user_team_ids

# --- Operators and values -------------------------------------------------------------------

EQ, NEQ = "EQ", "NEQ"
LT, LTE, GT, GTE = "LT", "LTE", "GT", "GTE"
BETWEEN = "BETWEEN"
IN, NOT_IN = "IN", "NOT_IN"
HAS_PROPERTY, NOT_HAS_PROPERTY = "HAS_PROPERTY", "NOT_HAS_PROPERTY"
CONTAINS_TOKEN, NOT_CONTAINS_TOKEN = "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"
OPERATORS = (
    EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN,
    HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN, NOT_CONTAINS_TOKEN,
)  # fmt: skip
NO_VALUE = frozenset({HAS_PROPERTY, NOT_HAS_PROPERTY})
LIST_VALUE = frozenset({IN, NOT_IN})

ME = "me"
MY_TEAM = "my_team"
# Dates a filter may name: their day's bounds and any time zone's offset stay in range.
_FIRST_YEAR, _LAST_YEAR = 2, 9998
_RELATIVE_DAYS = re.compile(r"^(last|next)_([0-9]{1,4})_days$")  # ASCII digits only

# Kinds of property, as far as filtering goes.
TEXT, NUMBER, DATE, DATETIME = "text", "number", "date", "datetime"
ENUM, MULTI, CHECKBOX = "enum", "multi", "checkbox"
USER, TEAM, REF = "user", "team", "ref"

KIND_OPERATORS: dict[str, tuple[str, ...]] = {
    TEXT: (CONTAINS_TOKEN, NOT_CONTAINS_TOKEN, EQ, NEQ, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY),
    NUMBER: (EQ, NEQ, LT, LTE, GT, GTE, BETWEEN, IN, NOT_IN, HAS_PROPERTY, NOT_HAS_PROPERTY),
    DATE: (EQ, LT, LTE, GT, GTE, BETWEEN, HAS_PROPERTY, NOT_HAS_PROPERTY),
    DATETIME: (EQ, LT, LTE, GT, GTE, BETWEEN, HAS_PROPERTY, NOT_HAS_PROPERTY),
    ENUM: (IN, NOT_IN, EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY),
    MULTI: (
        IN,
        NOT_IN,
        CONTAINS_TOKEN,
        NOT_CONTAINS_TOKEN,
        EQ,
        NEQ,
        HAS_PROPERTY,
        NOT_HAS_PROPERTY,
    ),
    CHECKBOX: (EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY),
    USER: (IN, NOT_IN, EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY),
    TEAM: (IN, NOT_IN, EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY),
    REF: (IN, NOT_IN, EQ, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY),
}

_SPEC_KINDS = {
    PropertyType.TEXT: TEXT,
    PropertyType.TEXTAREA: TEXT,
    PropertyType.NUMBER: NUMBER,
    PropertyType.DATE: DATE,
    PropertyType.DATETIME: DATETIME,
    PropertyType.SELECT: ENUM,
    PropertyType.MULTISELECT: MULTI,
    PropertyType.CHECKBOX: CHECKBOX,
    PropertyType.USER: USER,
    props.TEAM: TEAM,
    props.PIPELINE: REF,
    props.STAGE: REF,
    props.CONTACT: REF,
    "company_ref": REF,  # a contact's primary company (records.properties.COMPANY_REF)
}

# Built-in properties: the model field each one filters on.
_BUILTIN_FIELDS = {
    "id": "id",
    "name": "name",
    "description": "description",
    "pipeline": "pipeline_id",
    "stage": "stage_id",
    "priority": "priority",
    "category": "category",
    "owner": "owner_id",
    "team": "team_id",
    "contact": "contact_id",
    "source": "source",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "closed_at": "closed_at",
    "last_activity_at": "last_activity_at",
}


@dataclass(frozen=True)
class FilterSchema:
    """What a record type's filters compile against: each built-in property's model field,
    the JSON column of custom values, and how the built-in columns hold "no value".

    `kinds` adds property types beyond the ticket registry's (a contact's company, say) and
    the filter kind each one filters as. `always_known` names fields that always hold a
    value; `nullable` names text fields where NULL, like "", means no value."""

    fields: Mapping[str, str]
    custom_column: str = "custom"
    kinds: Mapping[str, str] = field(default_factory=dict)
    always_known: frozenset[str] = frozenset()
    nullable: frozenset[str] = frozenset()

    def kind_of(self, spec: props.PropertySpec) -> str:
        return self.kinds.get(spec.type) or _SPEC_KINDS.get(spec.type, TEXT)


# Tickets' schema; `_BUILTIN_FIELDS` stays one live dict, so fields registered later count.
TICKETS = FilterSchema(
    fields=_BUILTIN_FIELDS,
    always_known=frozenset(
        [
            "id",
            "name",
            "description",
            "source",
            "created_at",
            "updated_at",
            "pipeline_id",
            "stage_id",
            "last_activity_at",
        ]
    ),
)


def register_builtin_field(name: str, field_name: str) -> None:
    """Filter the built-in property `name` (registered with
    `tickets.properties.register_builtin_properties` by another app) on Ticket's `field_name`."""
    _BUILTIN_FIELDS[name] = field_name


ID_SPEC = props.PropertySpec("id", "Ticket ID", PropertyType.NUMBER, True, is_editable=False)


class FilterError(ValueError):
    """A filter that cannot be applied; the message says why, in the user's language."""


@dataclass(frozen=True)
class Filter:
    """One condition. `value` for single-value operators, `values` for IN / NOT_IN (and the
    multi-select "all of"), `value` + `high_value` for BETWEEN. Values are plain: strings,
    numbers, ids, ISO dates, or the relative words `me`, `my_team`, `last_N_days`."""

    property: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = field(default_factory=tuple)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"property": self.property, "operator": self.operator}
        if self.value is not None:
            data["value"] = self.value
        if self.high_value is not None:
            data["high_value"] = self.high_value
        if self.values:
            data["values"] = list(self.values)
        return data

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Filter:
        if not isinstance(data, Mapping):
            raise FilterError(_("A filter must name a property and an operator."))
        prop, operator = data.get("property"), data.get("operator")
        if not isinstance(prop, str) or not isinstance(operator, str):
            raise FilterError(_("A filter must name a property and an operator."))
        values = data.get("values") or ()
        if isinstance(values, str | bytes) or not isinstance(values, Iterable):
            raise FilterError(_("Give a list of values."))
        return cls(
            property=prop,
            operator=operator.upper(),
            value=data.get("value"),
            high_value=data.get("high_value"),
            values=tuple(values),
        )


def filters_from_data(items: Any) -> list[Filter]:
    if not items:
        return []
    if not isinstance(items, list):
        raise FilterError(_("Filters must be a list."))
    return [Filter.from_data(item) for item in items]


def filters_to_data(filters: Iterable[Filter]) -> list[dict[str, Any]]:
    return [f.to_data() for f in filters]


# --- Properties -----------------------------------------------------------------------------


def kind_of(spec: props.PropertySpec, schema: FilterSchema | None = None) -> str:
    return (schema or TICKETS).kind_of(spec)


def filterable_specs() -> dict[str, props.PropertySpec]:
    """Every property a filter may use: the registry's, and the ticket ID."""
    specs = {"id": ID_SPEC}
    specs.update(props.property_specs_by_name())
    return specs


def operators_for(spec: props.PropertySpec, schema: FilterSchema | None = None) -> tuple[str, ...]:
    return KIND_OPERATORS[kind_of(spec, schema)]


# --- Context: who is looking, and when ------------------------------------------------------


@dataclass(frozen=True)
class FilterContext:
    viewer: User | None
    now: dt.datetime
    tz: dt.tzinfo

    @classmethod
    def for_viewer(cls, viewer: User | None, now: dt.datetime | None = None) -> FilterContext:
        return cls(viewer=viewer, now=now or timezone.now(), tz=viewer_time_zone(viewer))

    @property
    def today(self) -> dt.date:
        return self.now.astimezone(self.tz).date()

    def start_of(self, day: dt.date) -> dt.datetime:
        """Midnight at the start of `day` in the viewer's time zone, as an aware datetime."""
        return dt.datetime.combine(day, dt.time.min).replace(tzinfo=self.tz)


def viewer_time_zone(viewer: User | None) -> dt.tzinfo:
    name = getattr(viewer, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


# --- Validation: from raw filter data to clean values ----------------------------------------


@dataclass(frozen=True)
class _Clean:
    """A validated filter with its values parsed for its property kind."""

    filter: Filter
    spec: props.PropertySpec
    kind: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = ()


def validate_filter(
    item: Filter,
    specs: Mapping[str, props.PropertySpec] | None = None,
    schema: FilterSchema | None = None,
) -> Filter:
    """The filter with its values normalised (numbers as numbers, ids as ints, dates as ISO
    strings); FilterError if it cannot be applied. `specs` and `schema` default to tickets'."""
    clean = _clean(item, specs if specs is not None else filterable_specs(), schema or TICKETS)
    return Filter(
        property=item.property,
        operator=item.operator,
        value=_plain(clean.value),
        high_value=_plain(clean.high_value),
        values=tuple(_plain(v) for v in clean.values),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, RelativeDays | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _clean(item: Filter, specs: Mapping[str, props.PropertySpec], schema: FilterSchema) -> _Clean:
    spec = specs.get(item.property)
    if spec is None:
        raise FilterError(_("There is no property called “%(name)s”.") % {"name": item.property})
    kind = schema.kind_of(spec)
    operator = item.operator
    if operator not in OPERATORS:
        raise FilterError(_("Unknown operator “%(op)s”.") % {"op": operator})
    if operator not in KIND_OPERATORS[kind]:
        raise FilterError(
            _("“%(op)s” does not apply to %(label)s.") % {"op": operator, "label": spec.label}
        )
    if operator in NO_VALUE:
        return _Clean(item, spec, kind)
    if operator in LIST_VALUE or (
        kind == MULTI and operator in (CONTAINS_TOKEN, NOT_CONTAINS_TOKEN)
    ):
        raw_values = list(item.values)
        if not raw_values and item.value not in (None, ""):
            raw_values = [item.value]
        if not raw_values:
            raise FilterError(_("Choose at least one value for %(label)s.") % {"label": spec.label})
        if len(raw_values) > 500:
            raise FilterError(_("Too many values in one filter."))
        values = tuple(dict.fromkeys(_parse_value(kind, spec, v) for v in raw_values))
        return _Clean(item, spec, kind, values=values)
    if operator == BETWEEN:
        low = _parse_value(kind, spec, item.value, allow_relative_days=True)
        if isinstance(low, RelativeDays):
            return _Clean(item, spec, kind, value=low)
        if item.high_value in (None, ""):
            raise FilterError(_("Give both ends of the range."))
        high = _parse_value(kind, spec, item.high_value)
        return _Clean(item, spec, kind, value=low, high_value=high)
    return _Clean(item, spec, kind, value=_parse_value(kind, spec, item.value))


@dataclass(frozen=True)
class RelativeDays:
    """`last_N_days` or `next_N_days`."""

    direction: str
    days: int

    def isoformat(self) -> str:  # its plain form, like the dates it stands for
        return f"{self.direction}_{self.days}_days"


def _parse_value(
    kind: str, spec: props.PropertySpec, raw: Any, *, allow_relative_days: bool = False
) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise FilterError(_("Give a value for %(label)s.") % {"label": spec.label})
    if kind in (TEXT, ENUM, MULTI):
        if isinstance(raw, bool | dict | list):
            raise FilterError(_("Give a text value for %(label)s.") % {"label": spec.label})
        text = str(raw)
        if len(text) > 1000:
            raise FilterError(_("That value is too long."))
        if "\x00" in text:  # PostgreSQL cannot compare text holding a NUL character
            raise FilterError(_("That filter is not understood."))
        return text
    if kind == NUMBER:
        return _parse_number(raw, spec)
    if kind == CHECKBOX:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"true", "1", "yes", "on"}:
            return True
        if text in {"false", "0", "no", "off"}:
            return False
        raise FilterError(_("Choose yes or no for %(label)s.") % {"label": spec.label})
    if kind in (DATE, DATETIME):
        if isinstance(raw, str):
            match = _RELATIVE_DAYS.match(raw.strip())
            if match:
                if not allow_relative_days:
                    raise FilterError(_("“In the last / next days” needs the range operator."))
                return RelativeDays(match.group(1), int(match.group(2)))
        return _parse_moment(raw, spec)
    if kind == USER and str(raw).strip().lower() == ME:
        return ME
    if kind == TEAM and str(raw).strip().lower() == MY_TEAM:
        return MY_TEAM
    # USER, TEAM, REF: an id, in ASCII digits.
    number = parse_id(raw.strip() if isinstance(raw, str) else raw)
    if number is None:
        raise FilterError(_("Choose one of the listed options."))
    return number


def _parse_number(raw: Any, spec: props.PropertySpec) -> int | float:
    # Decimal() reads other scripts' digits ("٣") too: numbers are ASCII here.
    if isinstance(raw, bool) or not str(raw).isascii():
        raise FilterError(_("Enter a number for %(label)s.") % {"label": spec.label})
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation as exc:
        raise FilterError(_("Enter a number for %(label)s.") % {"label": spec.label}) from exc
    if not number.is_finite() or abs(number) > Decimal("1e15"):
        raise FilterError(_("Enter a number for %(label)s.") % {"label": spec.label})
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _parse_moment(raw: Any, spec: props.PropertySpec) -> dt.date | dt.datetime:
    """A date (a whole day) or an instant. Epoch milliseconds (HubSpot's form) are instants;
    a datetime without an offset is in the viewer's time zone (made aware when compiled)."""
    invalid = FilterError(_("Enter a valid date for %(label)s.") % {"label": spec.label})
    moment: dt.date | dt.datetime | None = None
    if isinstance(raw, dt.date):  # a datetime too
        moment = raw
    else:
        text = str(raw).strip()
        if not text.isascii():  # Django's date parsing reads any script's digits
            raise invalid
        try:
            if is_ascii_digits(text) and len(text) >= 9:
                moment = dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.UTC)
            else:
                # A well-formed impossible date ("2024-02-30") raises ValueError.
                moment = parse_date(text) or parse_datetime(text)
        except (OverflowError, OSError, ValueError) as exc:
            raise invalid from exc
    # Years 1 and 9999 leave no room for a day's bounds or a time zone's offset.
    if moment is None or not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
        raise invalid
    return moment


# --- Compiling ------------------------------------------------------------------------------


def compile_filters(
    filters: Sequence[Filter],
    *,
    viewer: User | None,
    now: dt.datetime | None = None,
    specs: Mapping[str, props.PropertySpec] | None = None,
    schema: FilterSchema | None = None,
) -> Q:
    """All filters joined with AND, as one condition on tickets (or, given another record
    type's `specs` and `schema`, on those records). FilterError if any filter cannot be
    applied (unknown property, wrong operator, bad value)."""
    if not filters:
        return Q()
    context = FilterContext.for_viewer(viewer, now)
    specs = specs if specs is not None else filterable_specs()
    condition = Q()
    for item in filters:
        condition &= compile_filter(item, context=context, specs=specs, schema=schema)
    return condition


def compile_filter_groups(
    groups: Sequence[Sequence[Filter]],
    *,
    viewer: User | None,
    now: dt.datetime | None = None,
    specs: Mapping[str, props.PropertySpec] | None = None,
    schema: FilterSchema | None = None,
) -> Q:
    """HubSpot's filterGroups: filters inside a group AND, groups OR."""
    specs = specs if specs is not None else filterable_specs()
    groups = [g for g in groups if g]
    if not groups:
        return Q()
    compiled = [
        compile_filters(group, viewer=viewer, now=now, specs=specs, schema=schema)
        for group in groups
    ]
    # A group every record meets compiles to an empty Q (HAS_PROPERTY on a property that
    # always has a value), which `|` would drop instead of matching everything.
    if not all(compiled):
        return Q()
    condition = Q(pk__in=[])
    for group_condition in compiled:
        condition |= group_condition
    return condition


def compile_filter(
    item: Filter,
    *,
    context: FilterContext,
    specs: Mapping[str, props.PropertySpec],
    schema: FilterSchema | None = None,
) -> Q:
    schema = schema or TICKETS
    clean = _clean(item, specs, schema)
    target: _Target = (
        _BuiltinTarget(schema.fields[clean.spec.name], clean.kind, schema)
        if clean.spec.is_builtin
        else _CustomTarget(clean.spec.name, clean.kind, schema.custom_column)
    )
    operator = item.operator
    if operator == HAS_PROPERTY:
        return target.known()
    if operator == NOT_HAS_PROPERTY:
        known = target.known()
        return ~known if known else Q(pk__in=[])  # ~Q() would match every ticket
    if operator in (NEQ, NOT_IN, NOT_CONTAINS_TOKEN):
        positive = {NEQ: EQ, NOT_IN: IN, NOT_CONTAINS_TOKEN: CONTAINS_TOKEN}[operator]
        return ~(target.known() & _positive(target, clean, positive, context))
    return target.known() & _positive(target, clean, operator, context)


def _positive(target: _Target, clean: _Clean, operator: str, context: FilterContext) -> Q:
    kind = clean.kind
    if kind in (DATE, DATETIME):
        return _compile_moment(target, clean, operator, context)
    if kind == MULTI:
        if operator == EQ:
            return target.array_match([clean.value], every=False)
        return target.array_match(list(clean.values), every=operator == CONTAINS_TOKEN)
    if operator == CONTAINS_TOKEN:
        return target.contains(_token_text(clean.value))
    if operator in (EQ, IN):
        values = [clean.value] if operator == EQ else list(clean.values)
        return target.one_of(_resolve_relatives(values, kind, context))
    comparisons = {LT: LessThan, LTE: LessThanOrEqual, GT: GreaterThan, GTE: GreaterThanOrEqual}
    if operator in comparisons:
        return target.compare(comparisons[operator], clean.value)
    if operator == BETWEEN:
        low, high = sorted((clean.value, clean.high_value))
        return target.compare(GreaterThanOrEqual, low) & target.compare(LessThanOrEqual, high)
    raise FilterError(_("Unknown operator “%(op)s”.") % {"op": operator})


def _token_text(value: str) -> str:
    """CONTAINS_TOKEN's value as the substring to look for: HubSpot's `*` wildcards add
    nothing to a substring match, so they are dropped (inner ones split the match)."""
    return value.strip("*").strip()


def _resolve_relatives(values: list[Any], kind: str, context: FilterContext) -> list[Any]:
    resolved: list[Any] = []
    for value in values:
        if value == ME:
            resolved.append(context.viewer.pk if context.viewer else None)
        elif value == MY_TEAM:
            resolved.extend(user_team_ids(context.viewer) if context.viewer else [])
        else:
            resolved.append(value)
    return [v for v in dict.fromkeys(resolved) if v is not None]


def _compile_moment(target: _Target, clean: _Clean, operator: str, context: FilterContext) -> Q:
    """Dates and datetimes: each value becomes a half-open range [start, end)."""
    date_only = clean.kind == DATE
    if operator == BETWEEN:
        if isinstance(clean.value, RelativeDays):
            today = context.today
            if clean.value.direction == "last":
                first, last = today - dt.timedelta(days=clean.value.days), today
            else:
                first, last = today, today + dt.timedelta(days=clean.value.days)
            start, _unused = _day_bounds(first, context, date_only)
            _unused, end = _day_bounds(last, context, date_only)
        else:
            low_start, low_end = _bounds(clean.value, context, date_only)
            high_start, high_end = _bounds(clean.high_value, context, date_only)
            if high_start < low_start:
                low_start, high_end = high_start, low_end
            start, end = low_start, high_end
        return target.range(start, end)
    start, end = _bounds(clean.value, context, date_only)
    if operator == EQ:
        return target.range(start, end)
    if operator == LT:
        return target.range(None, start)
    if operator == LTE:
        return target.range(None, end)
    if operator == GT:
        return target.range(end, None)
    if operator == GTE:
        return target.range(start, None)
    raise FilterError(_("Unknown operator “%(op)s”.") % {"op": operator})


Bound = dt.datetime | dt.date


def _bounds(value: Any, context: FilterContext, date_only: bool) -> tuple[Bound, Bound]:
    """[start, end) of a value: a whole day for a date, a single instant for a datetime
    (end is then the instant plus one microsecond, the smallest step stored)."""
    if isinstance(value, dt.datetime):
        moment = value if timezone.is_aware(value) else value.replace(tzinfo=context.tz)
        if date_only:
            return _day_bounds(moment.astimezone(context.tz).date(), context, True)
        return moment, moment + dt.timedelta(microseconds=1)
    return _day_bounds(value, context, date_only)


def _day_bounds(day: dt.date, context: FilterContext, date_only: bool) -> tuple[Bound, Bound]:
    if date_only:
        return day, day + dt.timedelta(days=1)
    return context.start_of(day), context.start_of(day + dt.timedelta(days=1))


# --- Targets: where a property's value lives -------------------------------------------------


class _Target:
    kind: str

    def known(self) -> Q:
        raise NotImplementedError

    def one_of(self, values: list[Any]) -> Q:
        raise NotImplementedError

    def contains(self, text: str) -> Q:
        raise NotImplementedError

    def compare(self, lookup: type, value: Any) -> Q:
        raise NotImplementedError

    def range(self, start: Bound | None, end: Bound | None) -> Q:
        """start <= value < end; either end may be open."""
        raise NotImplementedError

    def array_match(self, values: list[Any], *, every: bool) -> Q:
        raise FilterError(_("Only multiple-checkbox properties hold several values."))


class _BuiltinTarget(_Target):
    def __init__(self, field_name: str, kind: str, schema: FilterSchema = TICKETS) -> None:
        self.field = field_name
        self.kind = kind
        self.schema = schema

    def known(self) -> Q:
        if self.kind in (TEXT, ENUM):
            if self.field in self.schema.nullable:
                return Q(**{f"{self.field}__isnull": False}) & ~Q(**{self.field: ""})
            return ~Q(**{self.field: ""})
        if self.field in self.schema.always_known:
            return Q()
        return Q(**{f"{self.field}__isnull": False})

    def one_of(self, values: list[Any]) -> Q:
        if self.kind == TEXT:
            condition = Q(pk__in=[])
            for value in values:
                condition |= Q(**{f"{self.field}__iexact": value})
            return condition
        if len(values) == 1:
            return Q(**{self.field: values[0]})
        return Q(**{f"{self.field}__in": values})

    def contains(self, text: str) -> Q:
        return Q(**{f"{self.field}__icontains": text})

    def compare(self, lookup: type, value: Any) -> Q:
        suffixes: dict[type, str] = {LessThan: "lt", LessThanOrEqual: "lte", GreaterThan: "gt"}
        suffix = suffixes.get(lookup, "gte")
        return Q(**{f"{self.field}__{suffix}": value})

    def range(self, start: Bound | None, end: Bound | None) -> Q:
        condition = Q()
        if start is not None:
            condition &= Q(**{f"{self.field}__gte": start})
        if end is not None:
            condition &= Q(**{f"{self.field}__lt": end})
        return condition


class _CustomTarget(_Target):
    """A custom property: a value in `Ticket.custom` (JSON), read with the type its
    definition promises; a value of another type counts as unknown."""

    def __init__(self, name: str, kind: str, column: str = "custom") -> None:
        self.name = name
        self.kind = kind
        self.column = column

    def _value(self, json_type: str | None = None, *, binary: bool = False) -> CustomValue:
        json_type = json_type or {NUMBER: "number", USER: "number", CHECKBOX: "boolean"}.get(
            self.kind, "text"
        )
        return CustomValue(self.name, json_type, binary=binary, column=self.column)

    def known(self) -> Q:
        if self.kind == MULTI:
            return Q(
                CustomArrayMatch(self.name, (), every=False, known_only=True, column=self.column)
            )
        value = self._value()
        condition = Q(IsNull(value, False))
        if value.json_type == "text":
            condition &= ~Q(Exact(self._value("text"), ""))
        return condition

    def one_of(self, values: list[Any]) -> Q:
        if not values:
            return Q(pk__in=[])
        value = self._value()
        if self.kind == TEXT:
            condition = Q(pk__in=[])
            for item in values:
                condition |= Q(IExact(self._value("text"), item))
            return condition
        if self.kind == NUMBER:
            values = [float(v) for v in values]
        if len(values) == 1:
            return Q(Exact(value, values[0]))
        return Q(In(value, values))

    def contains(self, text: str) -> Q:
        return Q(IContains(self._value(), text))

    def compare(self, lookup: type, value: Any) -> Q:
        if self.kind == NUMBER:
            value = float(value)
        return Q(lookup(self._value(), value))

    def range(self, start: Bound | None, end: Bound | None) -> Q:
        # Stored as ISO text: dates 'YYYY-MM-DD', datetimes in UTC as isoformat() writes
        # them. Both sort as text in time order when compared byte by byte.
        condition = Q()
        text = self._value("text", binary=True)
        if start is not None:
            condition &= Q(GreaterThanOrEqual(text, _iso(start)))
        if end is not None:
            condition &= Q(LessThan(text, _iso(end)))
        return condition

    def array_match(self, values: list[Any], *, every: bool) -> Q:
        return Q(
            CustomArrayMatch(
                self.name, tuple(str(v) for v in values), every=every, column=self.column
            )
        )


def _iso(bound: Bound) -> str:
    if isinstance(bound, dt.datetime):
        return bound.astimezone(dt.UTC).isoformat()
    return bound.isoformat()


# --- SQL for custom (JSON) values, the same meaning on PostgreSQL and SQLite ------------------


class CustomValue(Func):
    """`Ticket.custom[name]` as a typed SQL value, NULL when missing or of another JSON type.

    json_type "text" gives strings, "number" gives floats, "boolean" booleans. `binary`
    compares text byte by byte on PostgreSQL as SQLite always does (ISO dates sort right
    whatever the database's collation)."""

    _output = {"text": TextField, "number": FloatField, "boolean": BooleanField}

    def __init__(
        self, name: str, json_type: str = "text", *, binary: bool = False, column: str = "custom"
    ) -> None:
        super().__init__(F(column), output_field=self._output[json_type]())
        self.name = name
        self.json_type = json_type
        self.binary = binary

    # The stubs type params as str | int; ours include floats and lists (PostgreSQL arrays).
    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            return self._postgresql(column, list(params))
        return self._sqlite(column, list(params))

    def _postgresql(self, column: str, params: list[Any]) -> tuple[str, list[Any]]:
        kind = {"text": "string", "number": "number", "boolean": "boolean"}[self.json_type]
        cast = {"text": "", "number": "::double precision", "boolean": "::boolean"}[self.json_type]
        sql = (
            f"(CASE WHEN jsonb_typeof({column} -> %s) = '{kind}' THEN ({column} ->> %s){cast} END)"
        )
        if self.binary:
            sql = f'({sql} COLLATE "C")'
        return sql, [*params, self.name, *params, self.name]

    def _sqlite(self, column: str, params: list[Any]) -> tuple[str, list[Any]]:
        kinds = {"text": "'text'", "number": "'integer', 'real'", "boolean": "'true', 'false'"}
        path = _json_path(self.name)
        sql = (
            f"(CASE WHEN json_type({column}, %s) IN ({kinds[self.json_type]}) "
            f"THEN json_extract({column}, %s) END)"
        )
        return sql, [*params, path, *params, path]


class CustomArrayMatch(Func):
    """True when the multi-select `Ticket.custom[name]` (a JSON list) holds any (or, with
    `every`, all) of `values`; with `known_only`, when it holds anything at all."""

    output_field = BooleanField()

    def __init__(
        self,
        name: str,
        values: tuple[str, ...],
        *,
        every: bool,
        known_only: bool = False,
        column: str = "custom",
    ) -> None:
        super().__init__(F(column), output_field=BooleanField())
        self.name = name
        self.values = values
        self.every = every
        self.known_only = known_only

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        column, col_params = compiler.compile(self.source_expressions[0])
        p = list(col_params)
        if connection.vendor == "postgresql":
            is_array = f"jsonb_typeof({column} -> %s) = 'array'"
            if self.known_only:
                sql = f"{is_array} AND jsonb_array_length({column} -> %s) > 0"
                return f"COALESCE(({sql}), false)", [*p, self.name, *p, self.name]
            operator = "?&" if self.every else "?|"
            sql = f"{is_array} AND ({column} -> %s) {operator} %s"
            return f"COALESCE(({sql}), false)", [*p, self.name, *p, self.name, list(self.values)]
        path = _json_path(self.name)
        is_array = f"json_type({column}, %s) = 'array'"
        if self.known_only:
            sql = f"{is_array} AND json_array_length({column}, %s) > 0"
            return f"COALESCE(({sql}), 0)", [*p, path, *p, path]
        marks = ", ".join(["%s"] * len(self.values))
        if self.every:
            test = (
                f"(SELECT COUNT(DISTINCT j.value) FROM json_each({column}, %s) AS j "  # noqa: S608
                f"WHERE j.type = 'text' AND j.value IN ({marks})) = {len(self.values)}"
            )
        else:
            test = (
                f"EXISTS (SELECT 1 FROM json_each({column}, %s) AS j "  # noqa: S608
                f"WHERE j.type = 'text' AND j.value IN ({marks}))"
            )
        sql = f"{is_array} AND {test}"
        return f"COALESCE(({sql}), 0)", [*p, path, *p, path, *self.values]


def _json_path(name: str) -> str:
    # Property names are [a-z][a-z0-9_]*, so quoting them is enough.
    return f'$."{name}"'
