"""The contact, company and deal lists: the ticket list's toolbar (quick search, quick and
advanced filters through the one filter engine, column chooser), sort by column, keyset
paging and saved views (CustomView with the record's object type). Rows come from
`tickets.queries.visible_contacts / visible_companies / visible_deals` only."""

from __future__ import annotations

from html import escape
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_id
from svardesk.records import list_queries as lq
from svardesk.records import properties as rp
from svardesk.records.list_rendering import record_rows
from svardesk.teams.models import Team
from svardesk.ticket_views import labels, services
from svardesk.ticket_views.exceptions import (
    CustomViewLimitError,
    CustomViewPermissionError,
    CustomViewValidationError,
)
from svardesk.ticket_views.filters import (
    Filter,
    FilterError,
    compile_filters,
    filters_from_data,
    kind_of,
    validate_filter,
)
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.ticket_views.queries import access_custom_view, visible_views_q
from svardesk.ticket_views.rendering import options_html
from svardesk.ticket_views.state import (
    NONE,
    ListState,
    encode_filter,
    filter_from_form,
    parse_list_state,
)
from svardesk.tickets.page import assignable_users_cached


def _record_list(object_type: str) -> lq.RecordList:
    record_list = lq.LISTS.get(object_type)
    if record_list is None:
        raise Http404
    return record_list


def _specs(request: HttpRequest, object_type: str) -> dict[str, rp.PropertySpec]:
    """The record type's properties, read once per request."""
    cache: dict[str, dict[str, rp.PropertySpec]] = request.__dict__.setdefault(
        "_svardesk_record_specs", {}
    )
    if object_type not in cache:
        cache[object_type] = rp.specs_by_name(object_type)
    return cache[object_type]


def _records(object_type: str, specs: dict[str, rp.PropertySpec]) -> services.RecordSchema:
    return services.RecordSchema(object_type, specs, rp.filter_schema(object_type))


def _saved_views(user: Any, object_type: str) -> list[CustomView]:
    views = CustomView.objects.filter(visible_views_q(user, object_type))
    return list(views.defer("created_at", "updated_at").order_by("name", "id"))


def _fragment(request: HttpRequest) -> str:
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and not htmx.boosted:
        return "list"
    return ""


@workspace_required
def record_list(request: HttpRequest, object_type: str, view_pk: int | None = None) -> HttpResponse:
    record_list = _record_list(object_type)
    user = request_user(request)
    specs = _specs(request, object_type)
    schema = rp.filter_schema(object_type)
    saved_views = _saved_views(user, object_type)
    custom_view = None
    if view_pk is not None:
        custom_view = next((v for v in saved_views if v.pk == view_pk), None)
        if custom_view is None:
            raise NotFoundError("No such view")

    state = parse_list_state(request.GET, record_list.quick_filters)
    added = _added_filter(request.GET, state, specs, schema)
    if added is not None:
        return HttpResponseRedirect(
            f"{request.path}?{state.query(filters=[*state.filters, added])}"
        )

    condition = Q()
    if custom_view is not None:
        try:
            condition &= compile_filters(
                filters_from_data(custom_view.filters), viewer=user, specs=specs, schema=schema
            )
        except FilterError as exc:
            messages.error(
                request, _("This view's filters no longer apply: %(error)s") % {"error": exc}
            )
            condition = Q(pk__in=[])
    try:
        condition &= compile_filters(state.all_filters(), viewer=user, specs=specs, schema=schema)
    except FilterError as exc:
        state.errors.append(str(exc))
    searched = bool(state.q)
    if searched:
        # The pickers' search (search.records): names, any email, phones in any format,
        # domains, accent-tolerant and index-served; its best matches, then filtered.
        condition &= lq.search_condition(object_type, state.q, user=user)

    default_sort = (
        lq.parse_sort(custom_view.sort, specs, record_list.default_sort)
        if custom_view
        else record_list.default_sort
    )
    sort = lq.parse_sort(state.sort, specs, default_sort) if state.sort else default_sort
    default_columns = (
        lq.parse_columns(custom_view.columns, specs, record_list)
        if custom_view and custom_view.columns
        else list(record_list.default_columns)
    )
    column_keys = (
        lq.parse_columns(state.columns, specs, record_list) if state.columns else default_columns
    )
    columns = [specs[key] for key in column_keys if key in specs]
    with_custom = (
        any(not spec.is_builtin for spec in columns) or not specs[sort.property].is_builtin
    )
    page = lq.list_records(
        user,
        object_type,
        condition=condition,
        cursor=request.GET.get("after"),
        sort=sort,
        specs=specs,
        with_custom=with_custom,
    )
    users = lq.users_by_id(page.records, columns) if with_custom else {}

    title = custom_view.name if custom_view else record_list.title
    empty_message = record_list.empty_message
    search_note = ""
    if searched and page.count >= lq.SEARCH_LIMIT:
        search_note = _(
            "The %(n)s best matches for “%(query)s”. Type more to narrow the search."
        ) % {"n": lq.SEARCH_LIMIT, "query": state.q}
    if state.q:
        empty_message = _("Nothing matches “%(query)s”.") % {"query": state.q}
    elif state.has_filters or custom_view:
        empty_message = _("No records match these filters.")
    query = state.query()
    context: dict[str, Any] = {
        "record_list": record_list,
        "object_type": object_type,
        "title": title,
        "page": page,
        "count_label": _count_label(page.count, record_list),
        "rows_html": record_rows(page.records, columns, object_type=object_type, users=users),
        "headers": _headers(columns, state, sort),
        "state": state,
        "search_query": "",
        "list_search": state.q,
        "custom_view": custom_view,
        "saved_views": saved_views,
        "empty_message": empty_message,
        "search_note": search_note,
        "encoded_filters": [encode_filter(item) for item in state.filters],
        "base_query": f"{query}&" if query else "",
        "current_query": query,
        "conditions": [
            {"label": labels.describe(item, specs), "remove_query": state.without_filter(i)}
            for i, item in enumerate(state.filters)
        ],
        "filter_property_options": options_html((s.name, s.label) for s in specs.values()),
        "column_choices_html": _column_choices(specs, column_keys, record_list),
        "quick": _quick(state, specs, record_list),
        "list_errors": state.errors,
        "may_manage_views": user.may_manage_views,
        "current_view": record_list.prefix,
        "list_url": reverse(f"records:{record_list.prefix}"),
        "create_url": _create_url(object_type),
    }
    if _fragment(request) == "list":
        return render(request, "records/list/_list.html", context)
    return render(request, "records/list/list.html", context)


def _create_url(object_type: str) -> str:
    return reverse(f"records:{object_type}_create")


def _count_label(count: int, record_list: lq.RecordList) -> str:
    """ "12 contacts", or "1,000+ contacts" beyond the counted limit."""
    if count > lq.COUNT_LIMIT:
        shown = number_format(lq.COUNT_LIMIT, force_grouping=True) + "+"
    else:
        shown = number_format(count, force_grouping=True)
    return str(record_list.count_text % {"n": shown, "count": count})


def _added_filter(
    data: QueryDict, state: ListState, specs: dict[str, rp.PropertySpec], schema: Any
) -> Filter | None:
    """The condition the advanced filters form submitted, validated; an error lands in
    state.errors and nothing is added."""
    prop = (data.get("add_property") or "").strip()
    if not prop:
        return None
    try:
        item = filter_from_form(data, specs.get(prop))
        if item is None:
            return None
        return validate_filter(item, specs, schema)
    except FilterError as exc:
        state.errors.append(str(exc))
        return None


def _headers(
    columns: list[rp.PropertySpec], state: ListState, sort: lq.Sort
) -> list[dict[str, Any]]:
    headers: list[dict[str, Any]] = []
    for spec in columns:
        link = None
        if lq.sortable(spec):
            active = sort.property == spec.name
            token = f"-{spec.name}" if active and not sort.descending else spec.name
            link = {
                "query": state.query(sort=token),
                "aria": ("descending" if sort.descending else "ascending") if active else "none",
            }
        label = spec.label
        if not headers and spec.name == "firstname":
            label = _("Name")  # the first column shows the contact's whole name
        headers.append(
            {
                "key": spec.name,
                "label": label,
                "css": f"col-prop col-{spec.name}",
                "link": link,
            }
        )
    return headers


def _column_choices(
    specs: dict[str, rp.PropertySpec], chosen: list[str], record_list: lq.RecordList
) -> SafeString:
    """The column chooser's checkboxes; the record's name always shows (its checkbox is
    disabled and a hidden input carries it)."""
    parts = []
    for key, spec in specs.items():
        checked = " checked" if key in chosen else ""
        disabled = " disabled" if key == record_list.name_property else ""
        parts.append(
            f'<label class="check"><input type="checkbox" name="col" value="{escape(key)}"'
            f"{checked}{disabled}> {escape(str(spec.label))}</label>"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value went through escape()


def _quick(
    state: ListState, specs: dict[str, rp.PropertySpec], record_list: lq.RecordList
) -> list[dict[str, Any]]:
    """The toolbar's quick filters: each a select of the property's values."""
    quick = []
    for name in record_list.quick_filters:
        spec = specs[name]
        chosen = state.quick.get(name, "")
        if name == "hubspot_owner_id":
            users = [(str(u.pk), u.display_name) for u in assignable_users_cached()]
            options = [("me", _("Me")), (NONE, _("No owner")), *users]
        else:
            options = [*((value, label) for value, label in spec.options), (NONE, _("No value"))]
        quick.append(
            {
                "name": name,
                "label": spec.label,
                "options_html": options_html(
                    (value, label, value == chosen) for value, label in options
                ),
            }
        )
    return quick


# --- The advanced filters form's criteria for one property ------------------------------------


@workspace_required
def criteria(request: HttpRequest, object_type: str) -> HttpResponse:
    """Operator and value inputs fitting the chosen property (HTMX swaps them in)."""
    _record_list(object_type)
    spec = _specs(request, object_type).get(request.GET.get("add_property", ""))
    context: dict[str, Any] = {"spec": None}
    if spec is not None:
        context = {
            "spec": spec,
            "kind": kind_of(spec, rp.filter_schema(object_type)),
            "operators": labels.operator_choices(spec),
            "choices": labels.value_choices(spec),
        }
    return render(request, "ticket_views/partials/_criteria.html", context)


# --- Saved views: save the list as a view, edit (rename, share), delete -----------------------


def _view_form(request: HttpRequest, object_type: str, view: CustomView | None) -> HttpResponse:
    record_list = _record_list(object_type)
    user = request_user(request)
    if not user.may_manage_views:
        raise CustomViewPermissionError(
            _("Only users with the Custom views permission can create, edit or delete views.")
        )
    specs = _specs(request, object_type)
    data = request.POST if request.method == "POST" else request.GET
    state = parse_list_state(data, record_list.quick_filters)
    # The view's filters (when editing one) and the list's current ones, which the form
    # carries along as hidden inputs: "Save changes to view" adds them.
    base = filters_from_data(view.filters) if view is not None else []
    filters = [*base, *state.quick_filters(), *state.filters]
    sort = state.sort or (view.sort if view else "")
    columns = [c for c in state.columns.split(",") if c] or (list(view.columns) if view else [])
    if view is not None and request.method != "POST":
        name, sharing = view.name, view.sharing
        team_ids = [t.pk for t in view.teams.all()]
    else:
        name = data.get("name", "")
        sharing = data.get("sharing", Sharing.PRIVATE)
        team_ids = [pk for pk in map(parse_id, data.getlist("teams")) if pk is not None]
    errors: dict[str, str] = {}
    if request.method == "POST":
        teams = list(Team.objects.filter(pk__in=team_ids))
        records = _records(object_type, specs)
        try:
            if view is None:
                saved = services.create_view(
                    actor=user, name=name, sharing=sharing, teams=teams, filters=filters,
                    sort=sort, columns=columns, records=records,
                )  # fmt: skip
                messages.success(request, _("View “%(name)s” created.") % {"name": saved.name})
            else:
                saved = services.update_view(
                    view, actor=user, name=name, sharing=sharing, teams=teams, filters=filters,
                    sort=sort, columns=columns, records=records,
                )  # fmt: skip
                messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
            return HttpResponseRedirect(
                reverse(f"records:{record_list.prefix}_view", args=[saved.pk])
            )
        except CustomViewValidationError as exc:
            errors.update(exc.errors)
        except CustomViewLimitError as exc:
            errors["limit"] = str(exc)
    context = {
        "record_list": record_list,
        "custom_view": view,
        "name": name,
        "sharing": sharing,
        "sharings": Sharing.choices,
        "teams": Team.objects.order_by("name"),
        "team_ids": team_ids,
        "conditions": [labels.describe(item, specs) for item in filters],
        "state": state,
        "encoded_filters": [encode_filter(item) for item in state.filters],
        "errors": errors,
        "title": _("Edit view") if view else _("Save as view"),
        "current_view": record_list.prefix,
        "list_url": reverse(f"records:{record_list.prefix}"),
    }
    return render(request, "records/list/view_form.html", context, status=422 if errors else 200)


@workspace_required
def create_view(request: HttpRequest, object_type: str) -> HttpResponse:
    return _view_form(request, object_type, None)


@workspace_required
def edit_view(request: HttpRequest, object_type: str, view_pk: int) -> HttpResponse:
    _record_list(object_type)
    view = access_custom_view(view_pk, actor=request_user(request), object_type=object_type)
    return _view_form(request, object_type, view)


@workspace_required
@require_POST
def delete_view(request: HttpRequest, object_type: str, view_pk: int) -> HttpResponse:
    record_list = _record_list(object_type)
    user = request_user(request)
    view = access_custom_view(view_pk, actor=user, object_type=object_type)
    name = view.name
    services.delete_view(view, actor=user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
    return HttpResponseRedirect(reverse(f"records:{record_list.prefix}"))
