"""Reads for the contact, company and deal lists: a page of the records a user may see, in
a property's order with the record id as tie-breaker (keyset paging: page 500 costs what
page 1 does, no OFFSET), and a count that stops at COUNT_LIMIT.

Filters compile with the tickets' engine (`ticket_views.filters`) against each record type's
properties (`records.properties`); the cursor format is the ticket list's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, FloatField, Q, QuerySet, TextField, Value
from django.db.models.fields import CharField, DateField
from django.db.models.functions import Cast, Coalesce, Concat, Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from svardesk.accounts.models import User
from svardesk.records import properties as rp
from svardesk.search.records import MAX_LIMIT, pick
from svardesk.ticket_views.columns import Sort, SortKey, custom_sort_key
from svardesk.ticket_views.filters import MULTI, USER, kind_of
from svardesk.ticket_views.queries import _decode_cursor, _encode_cursor
from svardesk.tickets.queries import visible_companies, visible_contacts, visible_deals

# Counting stops here: "1,000+" says enough about a list of a million contacts, and an exact
# count would scan them all on every page.
COUNT_LIMIT = 1000
_NO_NUMBER = -1e300
_NO_DATE = dt.date(1, 1, 1)
_SORT_ANNOTATION = "list_sort_key"
# The quick search lists the search's best matches, as many as it answers at once.
SEARCH_LIMIT = MAX_LIMIT


@dataclass(frozen=True)
class RecordList:
    """How one record type's list reads: its title, first (linked) column, default columns
    and sort, and the quick filters its toolbar offers."""

    object_type: str
    prefix: str  # URL names: records:<prefix>, records:<prefix>_view, …
    title: Any
    empty_message: Any
    name_property: str
    default_columns: tuple[str, ...]
    default_sort: Sort
    quick_filters: tuple[str, ...]
    related: tuple[str, ...]
    create_label: Any
    search_placeholder: Any
    all_label: Any
    count_text: Any  # "%(n)s contacts", plural by "count"


LISTS: dict[str, RecordList] = {
    rp.CONTACT: RecordList(
        object_type=rp.CONTACT,
        prefix="contacts",
        title=_("Contacts"),
        empty_message=_("No contacts yet."),
        name_property="firstname",
        default_columns=(
            "firstname",
            "email",
            "phone",
            "company",
            "hubspot_owner_id",
            "createdate",
        ),
        default_sort=Sort("createdate", True),
        quick_filters=("hubspot_owner_id", "hs_language"),
        related=("owner", "company"),
        create_label=_("Create contact"),
        search_placeholder=_("Search by name or email"),
        all_label=_("All contacts"),
        count_text=ngettext_lazy("%(n)s contact", "%(n)s contacts", "count"),
    ),
    rp.COMPANY: RecordList(
        object_type=rp.COMPANY,
        prefix="companies",
        title=_("Companies"),
        empty_message=_("No companies yet."),
        name_property="name",
        default_columns=("name", "domain", "phone", "city", "hubspot_owner_id", "createdate"),
        default_sort=Sort("createdate", True),
        quick_filters=("hubspot_owner_id",),
        related=("owner",),
        create_label=_("Create company"),
        search_placeholder=_("Search by name or domain"),
        all_label=_("All companies"),
        count_text=ngettext_lazy("%(n)s company", "%(n)s companies", "count"),
    ),
    rp.DEAL: RecordList(
        object_type=rp.DEAL,
        prefix="deals",
        title=_("Deals"),
        empty_message=_("No deals yet."),
        name_property="dealname",
        default_columns=("dealname", "dealstage", "amount", "closedate", "hubspot_owner_id"),
        default_sort=Sort("createdate", True),
        quick_filters=("hubspot_owner_id", "dealstage"),
        related=("owner",),
        create_label=_("Create deal"),
        search_placeholder=_("Search by deal name"),
        all_label=_("All deals"),
        count_text=ngettext_lazy("%(n)s deal", "%(n)s deals", "count"),
    ),
}


def visible_records(user: User, object_type: str) -> QuerySet[Any]:
    """The records of `object_type` the user may see (tickets.queries decides)."""
    if object_type == rp.CONTACT:
        return visible_contacts(user)
    if object_type == rp.COMPANY:
        return visible_companies(user)
    return visible_deals(user)


def search_condition(object_type: str, query: str, *, user: User) -> Q:
    """The quick search box: the records the pickers' search (search.records.pick) finds
    for `query` among those the user may see — at most SEARCH_LIMIT, best first."""
    if not query.strip():
        return Q()
    found = pick(object_type, query, user=user, limit=SEARCH_LIMIT)
    return Q(pk__in=[record.id for record in found])


# --- Columns and sorting --------------------------------------------------------------------


def sortable(spec: rp.PropertySpec) -> bool:
    return kind_of(spec) != MULTI


def parse_sort(raw: str | None, specs: Mapping[str, rp.PropertySpec], default: Sort) -> Sort:
    text = (raw or "").strip()
    name = text.lstrip("-")
    spec = specs.get(name)
    if not text or spec is None or not sortable(spec):
        return default
    return Sort(name, text.startswith("-"))


def parse_columns(
    raw: Sequence[str] | str | None, specs: Mapping[str, rp.PropertySpec], record_list: RecordList
) -> list[str]:
    """The known property names among `raw`, in order; the record's name always shows
    first. Nothing known: the default columns."""
    if isinstance(raw, str):
        raw = raw.split(",")
    chosen = [key for key in dict.fromkeys(k.strip() for k in raw or ()) if key in specs]
    if not chosen:
        return list(record_list.default_columns)
    name = record_list.name_property
    return [name, *(key for key in chosen if key != name)]


def _person_name(prefix: str) -> Any:
    return Lower(
        Concat(
            Coalesce(F(f"{prefix}__first_name"), Value("")),
            Value(" "),
            Coalesce(F(f"{prefix}__last_name"), Value("")),
            output_field=CharField(),
        )
    )


def record_sort_key(object_type: str, spec: rp.PropertySpec) -> SortKey:
    """What `spec` sorts by. Plain columns where they hold no NULL (so the indexes on
    created_at, names and domains serve the sort); NULLs become a value before every other,
    so the keyset comparison never meets one."""
    if not spec.is_builtin:
        return custom_sort_key(spec)
    field = rp.model_field(object_type, spec.name) or "id"
    if field == "id":
        return SortKey("id", None, "number")
    if field in ("created_at", "updated_at"):
        return SortKey(field, None, "datetime")
    if field == "owner_id":
        return SortKey(None, _person_name("owner"), "text")
    if field == "company_id":
        return SortKey(None, Lower(Coalesce(F("company__name"), Value(""))), "text")
    if field == "amount":
        return SortKey(
            None,
            Coalesce(Cast("amount", FloatField()), Value(_NO_NUMBER, FloatField())),
            "number",
        )
    if field == "close_date":
        return SortKey(None, Coalesce(F("close_date"), Value(_NO_DATE, DateField())), "text")
    if field == "language":
        return SortKey(None, Coalesce(F("language"), Value("", TextField())), "text")
    return SortKey(field, None, "text")


# --- Pages ----------------------------------------------------------------------------------


@dataclass
class RecordPage:
    records: list[Any]
    next_cursor: str | None
    has_previous: bool
    count: int  # up to COUNT_LIMIT + 1


def list_records(
    user: User,
    object_type: str,
    *,
    condition: Q | None = None,
    cursor: str | None = None,
    sort: Sort,
    specs: Mapping[str, rp.PropertySpec],
    with_custom: bool = False,
    page_size: int | None = None,
) -> RecordPage:
    """A page of the records the user may see that meet `condition`, in `sort` order with
    the id as tie-breaker, after `cursor`; the owner (and a contact's company) loaded in the
    same statement."""
    page_size = page_size or settings.TICKET_LIST_PAGE_SIZE
    queryset = visible_records(user, object_type)
    if condition is not None:
        queryset = queryset.filter(condition)
    key = record_sort_key(object_type, specs[sort.property])
    if key.field:
        path = key.field
    else:
        queryset = queryset.annotate(**{_SORT_ANNOTATION: key.expression})
        path = _SORT_ANNOTATION
    position = _decode_cursor(cursor, sort, key.value_kind) if cursor else None
    paged = queryset
    if position is not None:
        value, pk = position
        after = "lt" if sort.descending else "gt"
        paged = queryset.filter(
            Q(**{f"{path}__{after}": value}) | Q(**{path: value, f"pk__{after}": pk})
        )
    direction = "-" if sort.descending else ""
    ordered = paged.order_by(f"{direction}{path}", f"{direction}id")
    ordered = ordered.select_related(*LISTS[object_type].related)
    if not with_custom:
        ordered = ordered.defer("custom")
    rows = list(ordered[: page_size + 1])
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        value = getattr(last, path)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = value.isoformat()
        next_cursor = _encode_cursor(sort, value, last.pk)
    return RecordPage(
        records=rows,
        next_cursor=next_cursor,
        has_previous=position is not None,
        count=capped_count(queryset),
    )


def capped_count(queryset: QuerySet[Any]) -> int:
    """How many rows, counted up to COUNT_LIMIT + 1 (more reads as "1,000+")."""
    return queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()


def users_by_id(records: Sequence[Any], specs: Sequence[rp.PropertySpec]) -> dict[int, Any]:
    """The users custom user-properties on these records name, in one query (none if no
    such column shows)."""
    names = [s.name for s in specs if not s.is_builtin and kind_of(s) == USER]
    ids = {
        value
        for record in records
        for name in names
        if isinstance(value := rp.custom_values(record).get(name), int)
    }
    if not ids:
        return {}
    return {user.pk: user for user in get_user_model().objects.filter(pk__in=ids)}
