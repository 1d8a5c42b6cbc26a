"""HubSpot's `PublicObjectSearchRequest` read from a request body and checked against the
search API's limits (hubspot-api.md §3.4), before anything touches the database.

Property names and values stay as the client sent them: `compiler` resolves them per object
type. Limits and malformed input answer 400 VALIDATION_ERROR, as HubSpot does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from svardesk.api.errors import validation_error
from svardesk.api.http import json_object

MAX_BODY_CHARACTERS = 3000
MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
DEFAULT_LIMIT = 10
MAX_LIMIT = 200
# No result past this position is reachable, however the client pages.
MAX_REACHABLE = 10_000


@dataclass(frozen=True)
class RawFilter:
    """One filter as sent: HubSpot's property name, operator (upper-cased) and values."""

    property_name: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple[Any, ...] = ()


@dataclass(frozen=True)
class RawSort:
    property_name: str
    descending: bool


@dataclass(frozen=True)
class SearchRequest:
    groups: tuple[tuple[RawFilter, ...], ...] = ()
    sort: RawSort | None = None
    query: str = ""
    properties: tuple[str, ...] | None = None  # None: the object's default properties
    limit: int = DEFAULT_LIMIT
    after: int = 0


def parse_search_request(body: bytes) -> SearchRequest:
    """The search request in `body` (JSON); ApiError 400 VALIDATION_ERROR when it breaks a
    rule of HubSpot's search: body over 3,000 characters, more than 5 groups, 6 filters in a
    group or 18 in all, limit over 200, after + limit past 10,000, or a malformed field.
    An empty body is an empty search (every object, first page)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise validation_error("Invalid input JSON: the body is not UTF-8.") from None
    if len(text) > MAX_BODY_CHARACTERS:
        raise validation_error(
            f"The search request is {len(text)} characters long; the limit is "
            f"{MAX_BODY_CHARACTERS}."
        )
    if not text.strip():
        return SearchRequest()
    try:
        data = json_object(json.loads(text))
    except json.JSONDecodeError as exc:
        raise validation_error(f"Invalid input JSON on line {exc.lineno}") from None
    except RecursionError:  # "[[[[…" nested deeper than the parser goes
        raise validation_error("Invalid input JSON: nested too deeply.") from None
    groups = _groups(data)
    limit = _whole_number(data.get("limit"), "limit", default=DEFAULT_LIMIT)
    if limit > MAX_LIMIT:
        raise validation_error(f"limit must be at most {MAX_LIMIT}, got {limit}")
    after = _whole_number(data.get("after"), "after", default=0)
    if after + limit > MAX_REACHABLE:
        raise validation_error(
            f"after + limit may not exceed {MAX_REACHABLE} (got {after} + {limit}): "
            f"search reaches the first {MAX_REACHABLE} results only."
        )
    return SearchRequest(
        groups=groups,
        sort=_sort(data.get("sorts")),
        query=_query(data.get("query")),
        properties=_properties(data.get("properties")),
        limit=limit,
        after=after,
    )


def _groups(data: dict[str, Any]) -> tuple[tuple[RawFilter, ...], ...]:
    raw_groups = data.get("filterGroups")
    if raw_groups is None:
        raw_groups = []
    if not isinstance(raw_groups, list):
        raise validation_error("filterGroups must be a list.")
    groups: list[list[Any]] = []
    for raw in raw_groups:
        filters = json_object(raw, "Each filter group").get("filters")
        if filters is None:
            filters = []
        if not isinstance(filters, list):
            raise validation_error("A filter group's filters must be a list.")
        groups.append(filters)
    # The docs' association example sends a top-level `filters` array: one more AND group.
    top_level = data.get("filters")
    if top_level is not None:
        if not isinstance(top_level, list):
            raise validation_error("filters must be a list.")
        groups.append(top_level)
    groups = [group for group in groups if group]
    if len(groups) > MAX_GROUPS:
        raise validation_error(f"Too many filter groups: {len(groups)}; the limit is {MAX_GROUPS}.")
    for group in groups:
        if len(group) > MAX_FILTERS_PER_GROUP:
            raise validation_error(
                f"Too many filters in a group: {len(group)}; the limit is {MAX_FILTERS_PER_GROUP}."
            )
    total = sum(len(group) for group in groups)
    if total > MAX_FILTERS:
        raise validation_error(f"Too many filters: {total}; the limit is {MAX_FILTERS}.")
    return tuple(tuple(_filter(item) for item in group) for group in groups)


def _filter(raw: Any) -> RawFilter:
    item = json_object(raw, "Each filter")
    name = item.get("propertyName")
    operator = item.get("operator")
    if not isinstance(name, str) or not name.strip():
        raise validation_error("Each filter needs a propertyName.")
    if not isinstance(operator, str) or not operator.strip():
        raise validation_error(f"The filter on {name} needs an operator.")
    values = item.get("values")
    if values is None:
        values = []
    if not isinstance(values, list):
        raise validation_error(f"The values of the filter on {name} must be a list.")
    return RawFilter(
        property_name=name.strip(),
        operator=operator.strip().upper(),
        value=_scalar(item.get("value"), name),
        high_value=_scalar(item.get("highValue"), name),
        values=tuple(_scalar(v, name) for v in values),
    )


def _scalar(value: Any, name: str) -> Any:
    """A filter value as the engine reads it: strings and numbers as sent, booleans as
    HubSpot's `true` / `false`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, str | int | float):
        return value
    raise validation_error(f"A value of the filter on {name} must be a string or a number.")


def _sort(raw: Any) -> RawSort | None:
    """The first sort rule (HubSpot honours one): `{"propertyName", "direction"}`, or the
    strings `"createdate"` / `"-createdate"` (the SDK types sorts as strings, so a JSON
    object arriving as a string is read too)."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise validation_error("sorts must be a list.")
    if not raw:
        return None
    first = raw[0]
    if isinstance(first, str):
        text = first.strip()
        if text.startswith("{"):
            try:
                first = json.loads(text)
            except json.JSONDecodeError:
                raise validation_error(f"Invalid sort: {text!r}") from None
        else:
            bare = text.lstrip("-").strip()
            if not bare:
                raise validation_error("A sort must name a property.")
            return RawSort(bare, text.startswith("-"))
    sort = json_object(first, "Each sort")
    name = sort.get("propertyName")
    if not isinstance(name, str) or not name.strip():
        raise validation_error("A sort must name a property.")
    direction = sort.get("direction", "ASCENDING")
    if not isinstance(direction, str) or direction.upper() not in ("ASCENDING", "DESCENDING"):
        raise validation_error(
            f"Invalid sort direction {direction!r}: use ASCENDING or DESCENDING."
        )
    return RawSort(name.strip(), direction.upper() == "DESCENDING")


def _query(raw: Any) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise validation_error("query must be a string.")
    if "\x00" in raw:  # PostgreSQL cannot compare text holding a NUL character
        raise validation_error("query may not contain NUL characters.")
    return raw.strip()


def _properties(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise validation_error("properties must be a list of property names.")
    names = tuple(dict.fromkeys(name.strip() for name in raw if name.strip()))
    return names or None


def _whole_number(raw: Any, name: str, *, default: int) -> int:
    """A limit or offset: a non-negative integer, as a JSON number or a string of digits."""
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise validation_error(f"Invalid {name}: {raw!r}")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        if len(raw.strip()) > 9:
            raise validation_error(f"Invalid {name}: {raw!r}")
        number = int(raw.strip())
    else:
        raise validation_error(f"Invalid {name}: {raw!r}")
    if number < 0:
        raise validation_error(f"{name} may not be negative, got {number}")
    return number
