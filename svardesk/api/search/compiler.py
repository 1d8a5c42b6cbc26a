"""A search request as a query: HubSpot's property names and values translated, each filter
compiled by the one filter engine (`ticket_views.filters`, which also drives the workspace's
views), on the records the token's user may see, in one sort order, one page of them.

Tickets' names and values go through `api.names` (`hs_pipeline` "0" is the built-in
pipeline, `source_type` PHONE is a call, SLA status "1" is overdue, …); contacts', companies'
and deals' registries already speak HubSpot's names (`records.properties`). The association
pseudo-properties (`associations.contact` EQ 123: the objects associated with contact 123)
are the one kind of filter the engine does not know; they become a condition on the id
through `crm.associations` and join their group's other filters with AND.

Counting: `total` is exact up to COUNT_LIMIT (10,000, the most any search can page through)
and says 10,000 beyond it, so a search matching half a million tickets reads at most 10,000
index entries or rows to count them (see `count_matches`)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import translation

from svardesk.accounts.models import User
from svardesk.api.errors import ApiError, property_doesnt_exist, validation_error
from svardesk.api.names import TICKET_NAMES, builtin_pipeline_id, from_api
from svardesk.api.search.request import MAX_REACHABLE, RawFilter, RawSort, SearchRequest
from svardesk.core.parsing import parse_id
from svardesk.crm import associations
from svardesk.records import properties as rp
from svardesk.records.list_queries import record_sort_key
from svardesk.search.backends import get_backend
from svardesk.search.normalise import parse_query
from svardesk.search.queries import search_condition
from svardesk.ticket_views.columns import Sort, SortKey, sort_key
from svardesk.ticket_views.filters import (
    CONTAINS_TOKEN,
    EQ,
    IN,
    MULTI,
    NEQ,
    NOT_IN,
    TICKETS,
    Filter,
    FilterError,
    FilterSchema,
    compile_filter_groups,
    compile_filters,
    filterable_specs,
    kind_of,
)
from svardesk.tickets import properties as ticket_props
from svardesk.tickets.properties import PropertySpec
from svardesk.tickets.queries import (
    visible_companies,
    visible_contacts,
    visible_deals,
    visible_tickets,
)

# `total` counts matches up to this many exactly; past it, it says COUNT_LIMIT. No search
# reaches further, and counting every one of 500,000 matching tickets costs far more than
# the page does (a second and more at 1M tickets when the count cannot be read from an index).
COUNT_LIMIT = MAX_REACHABLE

ASSOCIATION_PREFIX = "associations."
_ASSOCIATION_OPERATORS = (EQ, NEQ, IN, NOT_IN)
# Free text (`query`) over companies' and deals' searchable properties (hubspot-api.md §3.4;
# tickets and contacts use the search app's indexes instead).
_QUERY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "companies": ("name", "domain", "phone"),
    "deals": ("dealname",),
}
_MAX_QUERY_WORDS = 10


@dataclass(frozen=True)
class ObjectKind:
    """What a search reads for one object type: its record type (crm.associations' name)
    and the records a user may see."""

    api_type: str  # tickets, contacts, companies, deals
    record_type: str  # ticket, contact, company, deal
    visible: Callable[[User], QuerySet[Any]]


OBJECT_KINDS: dict[str, ObjectKind] = {
    "tickets": ObjectKind("tickets", associations.TICKET, visible_tickets),
    "contacts": ObjectKind("contacts", associations.CONTACT, visible_contacts),
    "companies": ObjectKind("companies", associations.COMPANY, visible_companies),
    "deals": ObjectKind("deals", associations.DEAL, visible_deals),
}


@dataclass(frozen=True)
class SearchPage:
    records: list[Model]
    total: int
    next_after: int | None  # the offset of the next page; None on the last


def run_search(object_type: str, request: SearchRequest, *, user: User) -> SearchPage:
    """One page of the objects of `object_type` that `user` may see and that match
    `request`, in its sort order (creation date, oldest first, by default; ties by id).
    ApiError 400 for an unknown property or a filter the engine cannot apply."""
    kind = OBJECT_KINDS[object_type]
    matching = kind.visible(user).filter(compile_search(object_type, request, user=user))
    ordered = order(object_type, matching, request.sort)
    records = list(ordered[request.after : request.after + request.limit])
    # On the last page the total is known without counting.
    last_page = 0 < len(records) < request.limit or (request.after == 0 and not records)
    total = request.after + len(records) if request.limit and last_page else count_matches(matching)
    following = request.after + request.limit
    has_more = request.limit > 0 and following < min(total, MAX_REACHABLE)
    return SearchPage(records=records, total=total, next_after=following if has_more else None)


def count_matches(queryset: QuerySet[Any]) -> int:
    """How many objects match, counted up to COUNT_LIMIT (more reads as COUNT_LIMIT)."""
    return queryset.order_by().values("pk")[:COUNT_LIMIT].count()


# --- Filters --------------------------------------------------------------------------------


def compile_search(object_type: str, request: SearchRequest, *, user: User) -> Q:
    """The request's filter groups (OR of ANDs) and free text as one condition."""
    user = in_utc(user)
    # The engine's messages (and the property labels in them) become the API's, in English.
    with translation.override("en"):
        resolver = _resolver(object_type)
        try:
            condition = _compile_groups(resolver, request.groups, user=user)
            if request.query:
                condition &= _compile_query(object_type, request.query, user=user)
        except FilterError as exc:
            raise validation_error(str(exc)) from None
    return condition


def in_utc(user: User) -> User:
    """The user as the engine's viewer, in UTC: the API reads a date (`2024-05-01`) or a time
    without an offset in UTC, as HubSpot does, whatever the token's user chose for the
    workspace. `me` and `my_team` still mean that user."""
    viewer = copy.copy(user)
    viewer.time_zone = "UTC"
    return viewer


def _compile_groups(resolver: _Resolver, groups: Sequence[Sequence[RawFilter]], *, user: User) -> Q:
    engine_groups: list[list[Filter]] = []
    linked: list[Q] = []
    for group in groups:
        filters: list[Filter] = []
        links = Q()
        for raw in group:
            if raw.property_name.startswith(ASSOCIATION_PREFIX):
                links &= resolver.association(raw)
            else:
                filters.append(resolver.filter(raw))
        engine_groups.append(filters)
        linked.append(links)
    if not any(linked):
        return compile_filter_groups(
            engine_groups, viewer=user, specs=resolver.specs, schema=resolver.schema
        )
    # A group with an association filter: the engine compiles its other filters (as
    # compile_filter_groups would, one group at a time), the association joins with AND.
    compiled = [
        compile_filters(filters, viewer=user, specs=resolver.specs, schema=resolver.schema) & links
        for filters, links in zip(engine_groups, linked, strict=True)
    ]
    if not all(compiled):  # a group every object meets (`|` would drop its empty Q)
        return Q()
    condition = Q(pk__in=[])
    for group_condition in compiled:
        condition |= group_condition
    return condition


def _compile_query(object_type: str, text: str, *, user: User) -> Q:
    if object_type == "tickets":
        # The workspace's ticket search: words begin words of the name and description, an
        # ID, the contact's name, address or number (search.queries).
        return search_condition(text)
    if object_type == "contacts":
        # The contacts the ticket search matches by text (every word begins a word of the
        # name, company or address; part of an address or a number), from its indexes.
        found = get_backend().text_contacts(parse_query(text))
        if found.sql:
            return Q(pk__in=RawSQL(found.sql, found.params))  # noqa: S611 (search's own SQL)
        return Q(pk__in=list(found.ids))
    # Every word appears in one of the searchable properties (case-insensitive), compiled
    # by the engine as CONTAINS_TOKEN filters: OR over the properties, AND over the words.
    resolver = _resolver(object_type)
    condition = Q()
    for word in text.split()[:_MAX_QUERY_WORDS]:
        groups = [[Filter(name, CONTAINS_TOKEN, word)] for name in _QUERY_PROPERTIES[object_type]]
        condition &= compile_filter_groups(
            groups, viewer=user, specs=resolver.specs, schema=resolver.schema
        )
    return condition


class _Resolver:
    """One object type's property names and values, from HubSpot's to the engine's."""

    def __init__(
        self,
        object_type: str,
        specs: Mapping[str, PropertySpec],
        schema: FilterSchema,
        names: Callable[[str], str | None],
    ) -> None:
        self.object_type = object_type
        self.record_type = OBJECT_KINDS[object_type].record_type
        self.specs = specs
        self.schema = schema
        self._names = names
        self._builtin_pipeline: int | None = None
        self._pipeline_read = False

    def spec(self, api_name: str) -> PropertySpec:
        own = self._names(api_name)
        spec = self.specs.get(own) if own else None
        if spec is None:
            raise property_doesnt_exist(api_name)
        return spec

    def filter(self, raw: RawFilter) -> Filter:
        spec = self.spec(raw.property_name)
        return Filter(
            property=spec.name,
            operator=raw.operator,
            value=self._value(spec, raw.value),
            high_value=self._value(spec, raw.high_value),
            values=tuple(self._value(spec, v) for v in raw.values),
        )

    def _value(self, spec: PropertySpec, raw: Any) -> Any:
        """The values HubSpot names differently (tickets' pipeline "0", source PHONE, SLA
        statuses "0"…"4"), in Svardesk's terms; the engine parses the rest."""
        if raw is None or self.object_type != "tickets" or not spec.is_builtin:
            return raw
        name = spec.name
        translated = name in ("pipeline", "source") or (
            name.startswith("sla_") and name.endswith("_status")
        )
        if not translated:
            return raw
        if name == "pipeline" and not self._pipeline_read:
            self._builtin_pipeline, self._pipeline_read = builtin_pipeline_id(), True
        try:
            return from_api(spec.type, raw, name=name, builtin_pipeline=self._builtin_pipeline)
        except ValueError:
            raise validation_error(
                f"{raw!r} is not a valid value for the property {TICKET_API_NAMES[name]}."
            ) from None

    def association(self, raw: RawFilter) -> Q:
        """`associations.contact` EQ 123 (or NEQ, IN, NOT_IN): objects associated with
        contact 123, read through crm.associations."""
        other = raw.property_name[len(ASSOCIATION_PREFIX) :].strip().lower()
        other = _SINGULAR.get(other, other)
        if other not in _SINGULAR.values() or other == self.record_type:
            raise property_doesnt_exist(raw.property_name)
        if raw.operator not in _ASSOCIATION_OPERATORS:
            raise validation_error(
                f"{raw.operator} does not apply to {raw.property_name}: use EQ, NEQ, IN or "
                "NOT_IN with record ids."
            )
        values = list(raw.values) if raw.operator in (IN, NOT_IN) else [raw.value]
        if raw.operator in (IN, NOT_IN) and not values and raw.value is not None:
            values = [raw.value]
        parsed = [parse_id(str(v).strip()) if v is not None else None for v in values]
        ids = [pk for pk in parsed if pk is not None]
        if not ids or len(ids) < len(parsed):
            raise validation_error(f"{raw.property_name} takes record ids (digits).")
        found = associations.ids_associated_with_any(self.record_type, other, ids)
        condition = Q(pk__in=found)
        return ~condition if raw.operator in (NEQ, NOT_IN) else condition


_SINGULAR = {
    "tickets": associations.TICKET,
    "contacts": associations.CONTACT,
    "companies": associations.COMPANY,
    "deals": associations.DEAL,
}
# Svardesk's ticket property name → the HubSpot name errors mention.
TICKET_API_NAMES = {own: api for api, own in reversed(TICKET_NAMES.items())}


def _ticket_name(api_name: str) -> str | None:
    """A HubSpot ticket property's Svardesk name: a built-in one through TICKET_NAMES, a
    custom one as it is. Svardesk's own built-in names (`name`, `stage`) are not the API's."""
    own = TICKET_NAMES.get(api_name)
    if own is not None:
        return own
    if api_name in ticket_props.BUILTIN_NAMES:
        return None
    return api_name


def _resolver(object_type: str) -> _Resolver:
    if object_type == "tickets":
        specs = filterable_specs()

        def ticket_name(api_name: str) -> str | None:
            own = _ticket_name(api_name)
            spec = specs.get(own) if own else None
            # A custom property never takes a built-in's place under its own name.
            if spec is not None and spec.is_builtin and api_name not in TICKET_NAMES:
                return None
            return own

        return _Resolver(object_type, specs, TICKETS, ticket_name)
    record_type = OBJECT_KINDS[object_type].record_type
    return _Resolver(
        object_type, rp.specs_by_name(record_type), rp.filter_schema(record_type), lambda n: n
    )


# --- Sorting --------------------------------------------------------------------------------

_ANNOTATION = "api_search_sort"
# Ticket properties the workspace's list does not sort by (sort_key would misread them).
_UNSORTABLE_TICKET = frozenset({"description"})


def order(object_type: str, queryset: QuerySet[Any], sort: RawSort | None) -> QuerySet[Any]:
    """The queryset in the requested order, the id breaking ties in the same direction;
    creation date, oldest first, when no sort is given. The workspace's sort keys
    (ticket_views.columns, records.list_queries) decide how each property orders."""
    descending = sort.descending if sort else False
    key = _sort_key(object_type, sort.property_name if sort else "createdate")
    direction = "-" if descending else ""
    if key.field:
        path = key.field
    else:
        queryset = queryset.annotate(**{_ANNOTATION: key.expression})
        path = _ANNOTATION
    return queryset.order_by(f"{direction}{path}", f"{direction}id")


def _sort_key(object_type: str, api_name: str) -> SortKey:
    resolver = _resolver(object_type)
    try:
        spec = resolver.spec(api_name)
    except ApiError:
        raise property_doesnt_exist(api_name) from None
    if kind_of(spec, resolver.schema) == MULTI or (
        object_type == "tickets" and spec.name in _UNSORTABLE_TICKET
    ):
        raise validation_error(f"Search results cannot be sorted by {api_name}.")
    if object_type == "tickets":
        return sort_key(Sort(spec.name, False), resolver.specs)
    return record_sort_key(resolver.record_type, spec)
