"""The ticket lists (a default view, a custom view, every ticket, search results) with their
toolbar, the custom view editor, and bulk actions. Everything reads through the queries'
access scoping; the URL holds the whole list state."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_ascii_int, parse_id
from svardesk.search.queries import search_condition, search_tickets
from svardesk.teams.models import Team
from svardesk.ticket_views import labels, queries, services
from svardesk.ticket_views.columns import (
    DEFAULT_COLUMNS,
    DEFAULT_SORT,
    Column,
    Sort,
    available_columns,
    parse_columns,
    parse_sort,
    table_rows,
)
from svardesk.ticket_views.exceptions import (
    CustomViewLimitError,
    CustomViewPermissionError,
    CustomViewValidationError,
)
from svardesk.ticket_views.filters import (
    Filter,
    FilterError,
    compile_filters,
    filterable_specs,
    filters_from_data,
    kind_of,
    validate_filter,
)
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.ticket_views.queries import request_specs
from svardesk.ticket_views.rendering import column_choices_html, default_rows, options_html
from svardesk.ticket_views.sidebar import sidebar_context
from svardesk.ticket_views.state import (
    ListState,
    decode_filter,
    encode_filter,
    filter_from_form,
    parse_list_state,
)
from svardesk.tickets.models import Pipeline, Priority, Stage
from svardesk.tickets.page import assignable_users_cached


def _fragment(request: HttpRequest) -> str:
    """What an HTMX request wants back: "rows" (live refresh), "list", or "" (a page)."""
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request and not htmx.boosted:
        return "rows" if htmx.target == "ticket-rows" else "list"
    return ""


def _render_list(request: HttpRequest, context: dict[str, Any], current_view: str) -> HttpResponse:
    fragment = _fragment(request)
    if fragment == "rows":
        return render(request, "ticket_views/partials/_rows.html", context)
    if fragment == "list":
        return render(request, "ticket_views/partials/_list.html", context)
    context["current_view"] = current_view
    return render(request, "ticket_views/list.html", context)


def _list(
    request: HttpRequest,
    *,
    base: Q | None,
    title: Any,
    empty_message: Any,
    current_view: str,
    default_sort: Sort = DEFAULT_SORT,
    default_columns: list[str] | None = None,
    custom_view: CustomView | None = None,
    default_view: Any = None,
) -> HttpResponse:
    user = request_user(request)
    specs = request_specs(request)
    lookups = _Lookups()
    state = parse_list_state(request.GET)
    added = _added_filter(request.GET, state, specs)
    if isinstance(added, Filter):
        return HttpResponseRedirect(
            f"{request.path}?{state.query(filters=[*state.filters, added])}"
        )

    extra = Q()
    try:
        extra = compile_filters(state.all_filters(), viewer=user, specs=specs)
    except FilterError as exc:
        state.errors.append(str(exc))
    condition = extra if base is None else base & extra

    sort = parse_sort(state.sort, specs) if state.sort else default_sort
    columns_available = available_columns(specs)
    by_key = {column.key: column for column in columns_available}
    column_keys = (
        parse_columns(state.columns, columns_available)
        if state.columns
        else (default_columns or parse_columns(None, columns_available))
    )
    columns = [by_key[key] for key in column_keys if key in by_key]
    with_custom = any(not c.spec.is_builtin for c in columns) or not (
        specs[sort.property].is_builtin if sort.property in specs else True
    )
    cursor = request.GET.get("after")
    ranked = bool(state.q) and not state.sort
    if ranked:
        page: Any = search_tickets(user, state.q, condition=condition, cursor=cursor)
        queries.attach_related(page.tickets, known=lookups.known(pipelines=True))
    else:
        if state.q:
            condition &= search_condition(state.q)
        page = queries.list_tickets(
            user,
            condition=condition,
            cursor=cursor,
            sort=sort,
            with_custom=with_custom,
            compact=column_keys == list(DEFAULT_COLUMNS),
            known=lookups.known(pipelines=column_keys != list(DEFAULT_COLUMNS)),
        )
    if state.q:
        title = _("Search results for “%(query)s”") % {"query": state.q}
        empty_message = _("No tickets match “%(query)s”.") % {"query": state.q}
    elif state.has_filters and base is not None:
        empty_message = _("No tickets in this view match these filters.")
    elif state.has_filters:
        empty_message = _("No tickets match these filters.")

    default_layout = column_keys == list(DEFAULT_COLUMNS)
    view_key = custom_view.key if custom_view else getattr(default_view, "key", "")
    rows_context: dict[str, Any] = {
        "page": page,
        "rows_html": default_rows(page.tickets, view_key=view_key)
        if default_layout
        else table_rows(page.tickets, columns, view_key=view_key),
        "view_key": view_key,
    }
    if _fragment(request) == "rows":
        return _render_list(request, rows_context, current_view)
    query = state.query()
    context: dict[str, Any] = {
        **rows_context,
        "view": default_view or custom_view,
        "custom_view": custom_view,
        "title": title,
        "columns": columns,
        "column_choices_html": column_choices_html(
            (c.key, c.label, c.key in column_keys) for c in columns_available
        ),
        "sort": sort,
        "headers": _headers(columns, _sort_links(state, columns, sort, ranked)),
        "ranked": ranked,
        "empty_message": empty_message,
        "search_query": state.q,
        "state": state,
        "encoded_filters": [encode_filter(item) for item in state.filters],
        "base_query": f"{query}&" if query else "",
        "current_query": query,
        "conditions": [
            {"label": labels.describe(item, specs), "remove_query": state.without_filter(i)}
            for i, item in enumerate(state.filters)
        ],
        "filter_property_options": options_html((s.name, s.label) for s in specs.values()),
        "quick": _quick_options(state, lookups),
        "list_errors": state.errors,
        "may_manage_views": user.may_manage_views,
    }
    return _render_list(request, context, current_view)


def _added_filter(data: QueryDict, state: ListState, specs: dict[str, Any]) -> Filter | None:
    """The condition the advanced filters form submitted, validated; an error lands in
    state.errors and nothing is added."""
    prop = (data.get("add_property") or "").strip()
    if not prop:
        return None
    try:
        item = filter_from_form(data, specs.get(prop))
        if item is None:
            return None
        return validate_filter(item, specs)
    except FilterError as exc:
        state.errors.append(str(exc))
        return None


def _sort_links(
    state: ListState, columns: list[Column], sort: Sort, ranked: bool
) -> dict[str, dict[str, str]]:
    """For each sortable column: the link that sorts by it (ascending first, again for
    descending) and its aria-sort state."""
    links = {}
    for column in columns:
        if not column.sortable:
            continue
        active = not ranked and sort.property == column.key
        token = f"-{column.key}" if active and not sort.descending else column.key
        links[column.key] = {
            "query": state.query(sort=token),
            "aria": ("descending" if sort.descending else "ascending") if active else "none",
        }
    return links


_HEADER_CSS = {
    "contact": "col-sender",
    "name": "col-subject",
    "stage": "col-status",
    "priority": "col-prio",
    "owner": "col-owner",
    "last_activity_at": "col-time",
}


def _headers(columns: list[Column], links: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    names = {
        "contact": _("Sender"),
        "name": _("Subject"),
        "stage": _("Status"),
        "owner": _("Owner"),
        "last_activity_at": _("Last activity"),
    }
    return [
        {
            "key": column.key,
            "label": names.get(column.key, column.label),
            "css": _HEADER_CSS.get(column.key, f"col-prop col-{column.key}"),
            "link": links.get(column.key),
        }
        for column in columns
    ]


class _Lookups:
    """The small tables a list page reads twice — for its rows (status, team, pipeline of
    each ticket) and for its toolbar's choices — read once, when first needed."""

    def __init__(self) -> None:
        self._pipelines: list[Pipeline] | None = None
        self._stages: list[Stage] | None = None
        self._teams: list[Team] | None = None

    @property
    def pipelines(self) -> list[Pipeline]:
        if self._pipelines is None:
            self._pipelines = queries.all_pipelines()
        return self._pipelines

    @property
    def stages(self) -> list[Stage]:
        if self._stages is None:
            self._stages = queries.all_stages()
        return self._stages

    @property
    def teams(self) -> list[Team]:
        if self._teams is None:
            self._teams = queries.all_teams()
        return self._teams

    def known(self, *, pipelines: bool = False) -> dict[str, dict[Any, Any]]:
        """For queries.attach_related: every status and team (and pipeline) by id."""
        known: dict[str, dict[Any, Any]] = {
            "stage": {stage.pk: stage for stage in self.stages},
            "team": {team.pk: team for team in self.teams},
        }
        if pipelines:
            known["pipeline"] = {pipeline.pk: pipeline for pipeline in self.pipelines}
        return known


def _quick_options(state: ListState, lookups: _Lookups) -> dict[str, Any]:
    """The toolbar's and bulk bar's choices, each list drawn once as `<option>`s (the
    `…_options` entries), so the templates only print them."""
    pipelines = lookups.pipelines
    many_pipelines = len(pipelines) > 1
    stages = [
        (
            str(s.pk),
            f"{s.pipeline.display_name}: {s.display_name}" if many_pipelines else s.display_name,
        )
        for s in lookups.stages
    ]
    # The owner choices the ticket page keeps per process too (tickets.page).
    owners = [(str(user.pk), user.display_name) for user in assignable_users_cached()]
    teams = [(str(t.pk), t.name) for t in lookups.teams]
    priorities = [(str(value), str(label)) for value, label in Priority.choices]

    def marked(name: str, options: list[tuple[str, str]]) -> Any:
        chosen = state.quick.get(name, "")
        return options_html((value, label, value == chosen) for value, label in options)

    return {
        "owner_options": marked("owner", [("me", _("Me")), ("none", _("Unassigned")), *owners]),
        "priority_options": marked("priority", [*priorities, ("none", _("No priority"))]),
        "pipeline_options": marked("pipeline", [(str(p.pk), p.display_name) for p in pipelines]),
        "stage_options": marked("stage", stages),
        "team_options": marked("team", [("my_team", _("My team")), ("none", _("No team")), *teams]),
        "owners_options": options_html(owners),
        "stages_options": options_html(stages),
        "teams_options": options_html(teams),
        "priorities_options": options_html(priorities),
    }


@workspace_required
def view_tickets(request: HttpRequest, key: str) -> HttpResponse:
    view = queries.get_default_view(key)
    user = request_user(request)
    return _list(
        request,
        base=view.condition(user),
        title=view.label,
        empty_message=view.empty_message,
        current_view=view.key,
        default_view=view,
    )


@workspace_required
def all_tickets(request: HttpRequest) -> HttpResponse:
    return _list(
        request,
        base=None,
        title=_("All tickets"),
        empty_message=_("No tickets yet. Create one with the button at the bottom left."),
        current_view="all",
    )


@workspace_required
def custom_view_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    # The views this user may see (the sidebar's list, read once for this request): a view
    # not among them is "not found", exactly as queries.access_custom_view answers.
    view = next((v for v in queries.request_custom_views(request) if v.pk == pk), None)
    if view is None:
        raise NotFoundError("No such view")
    specs = request_specs(request)
    try:
        base = queries.custom_view_condition(view, user, specs=specs)
    except FilterError as exc:
        messages.error(
            request, _("This view's filters no longer apply: %(error)s") % {"error": exc}
        )
        base = Q(pk__in=[])
    columns = parse_columns(view.columns, available_columns(specs)) if view.columns else None
    return _list(
        request,
        base=base,
        title=view.name,
        empty_message=_("No tickets match this view's filters."),
        current_view=view.key,
        default_sort=parse_sort(view.sort, specs),
        default_columns=columns,
        custom_view=view,
    )


@workspace_required
def sidebar_counts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "ticket_views/partials/_sidebar_views.html",
        sidebar_context(request, current_view=request.GET.get("current", "")),
    )


# --- The advanced filters form's criteria for one property ------------------------------------


@workspace_required
def criteria(request: HttpRequest) -> HttpResponse:
    """Operator and value inputs fitting the chosen property (HTMX swaps them in)."""
    spec = filterable_specs().get(request.GET.get("add_property", ""))
    return render(request, "ticket_views/partials/_criteria.html", _criteria_context(spec))


def _criteria_context(spec: Any) -> dict[str, Any]:
    if spec is None:
        return {"spec": None}
    return {
        "spec": spec,
        "kind": kind_of(spec),
        "operators": labels.operator_choices(spec),
        "choices": labels.value_choices(spec),
    }


# --- Custom views: create, edit, delete --------------------------------------------------------


def _editor(request: HttpRequest, view: CustomView | None) -> HttpResponse:
    user = request_user(request)
    if not user.may_manage_views:
        raise CustomViewPermissionError(
            _("Only users with the Custom views permission can create, edit or delete views.")
        )
    specs = filterable_specs()
    data = request.POST if request.method == "POST" else request.GET
    errors: dict[str, str] = {}
    if request.method == "POST":
        filters, filter_errors = _decode_all(data.getlist("f"))
        remove = parse_ascii_int(data.get("remove"))
        if remove is not None:
            filters = [item for i, item in enumerate(filters) if i != remove]
        action = data.get("action", "")
        if action == "add":
            try:
                item = filter_from_form(data, specs.get(data.get("add_property", "")))
                if item is not None:
                    filters.append(validate_filter(item, specs))
            except FilterError as exc:
                errors["filters"] = str(exc)
        name = data.get("name", "")
        sharing = data.get("sharing", Sharing.PRIVATE)
        team_ids = [pk for pk in map(parse_id, data.getlist("teams")) if pk is not None]
        sort, columns = data.get("sort", ""), [c for c in data.get("cols", "").split(",") if c]
        if filter_errors:
            errors["filters"] = filter_errors[0]
        if action == "save" and not errors:
            teams = list(Team.objects.filter(pk__in=team_ids))
            try:
                if view is None:
                    saved = services.create_view(
                        actor=user, name=name, sharing=sharing, teams=teams,
                        filters=filters, sort=sort, columns=columns,
                    )  # fmt: skip
                    messages.success(request, _("View “%(name)s” created.") % {"name": saved.name})
                else:
                    saved = services.update_view(
                        view, actor=user, name=name, sharing=sharing, teams=teams,
                        filters=filters, sort=sort, columns=columns,
                    )  # fmt: skip
                    messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
                return HttpResponseRedirect(reverse("ticket_views:custom", args=[saved.pk]))
            except CustomViewValidationError as exc:
                errors.update(exc.errors)
            except CustomViewLimitError as exc:
                errors["limit"] = str(exc)
    elif view is not None:
        filters = filters_from_data(view.filters)
        name, sharing = view.name, view.sharing
        team_ids = [t.pk for t in view.teams.all()]
        sort, columns = view.sort, list(view.columns)
    else:
        # "Save as view" from a list carries the list's state over.
        state = parse_list_state(request.GET)
        filters = [*state.quick_filters(), *state.filters]
        name, sharing, team_ids = "", Sharing.PRIVATE, []
        sort, columns = state.sort, [c for c in state.columns.split(",") if c]
    at_limit = view is None and queries.count_custom_views() >= _limit()
    context = {
        "custom_view": view,
        "name": name,
        "sharing": sharing,
        "sharings": Sharing.choices,
        "teams": Team.objects.order_by("name"),
        "team_ids": team_ids,
        "conditions": [
            {"label": labels.describe(item, specs), "encoded": encode_filter(item)}
            for item in filters
        ],
        "sort": sort,
        "cols": ",".join(columns),
        "errors": errors,
        "at_limit": at_limit,
        "limit": _limit(),
        "filter_properties": list(specs.values()),
        "title": _("Edit view") if view else _("Create view"),
    }
    status = 422 if errors and request.method == "POST" and data.get("action") == "save" else 200
    context["current_view"] = view.key if view else ""
    return render(request, "ticket_views/view_form.html", context, status=status)


def _limit() -> int:
    from django.conf import settings

    return int(settings.CUSTOM_VIEW_LIMIT)


def _decode_all(encoded: list[str]) -> tuple[list[Filter], list[str]]:
    filters, errors = [], []
    for raw in encoded:
        try:
            filters.append(decode_filter(raw))
        except FilterError as exc:
            errors.append(str(exc))
    return filters, errors


@workspace_required
def create_view(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@workspace_required
def edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    view = queries.access_custom_view(pk, actor=request_user(request))
    return _editor(request, view)


@workspace_required
@require_POST
def delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    user = request_user(request)
    view = queries.access_custom_view(pk, actor=user)
    name = view.name
    services.delete_view(view, actor=user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": name})
    return HttpResponseRedirect(reverse("ticket_views:all"))


# --- Bulk actions ------------------------------------------------------------------------------


@workspace_required
@require_POST
def bulk_update(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    ticket_ids = request.POST.getlist("ticket")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("ticket_views:all")
    if not ticket_ids:
        messages.error(request, _("Select tickets first."))
        return HttpResponseRedirect(target)
    try:
        selection = services.parse_selection(ticket_ids)
        if request.POST.get("action") == "spam":
            result = services.bulk_mark_spam(selection, actor=user)
            messages.success(
                request,
                ngettext(
                    "Marked %(n)s ticket as spam.", "Marked %(n)s tickets as spam.", result.changed
                )
                % {"n": result.changed},
            )
            _report_stale(request, result)
            return HttpResponseRedirect(target)
        changes: dict[str, Any] = {}
        for name in services.BULK_PROPERTIES:
            value = request.POST.get(name, "")
            if value == "none" and name in ("owner", "team", "priority"):
                changes[name] = None if name != "priority" else ""
            elif value:
                changes[name] = value
        result = services.bulk_update_tickets(selection, actor=user, changes=changes)
    except CustomViewValidationError as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return HttpResponseRedirect(target)
    message = ngettext("Updated %(n)s ticket.", "Updated %(n)s tickets.", result.changed) % {
        "n": result.changed
    }
    if result.failed:
        message += " " + ngettext(
            "%(n)s ticket could not be changed.", "%(n)s tickets could not be changed.",
            len(result.failed),
        ) % {"n": len(result.failed)}  # fmt: skip
    messages.success(request, message)
    _report_stale(request, result)
    return HttpResponseRedirect(target)


def _report_stale(request: HttpRequest, result: services.BulkResult) -> None:
    """Name the tickets a bulk action left alone because they changed after listing."""
    if not result.stale:
        return
    messages.warning(
        request,
        ngettext(
            "%(n)s ticket was changed by someone else after the list was shown and was left "
            "alone: %(ids)s.",
            "%(n)s tickets were changed by someone else after the list was shown and were left "
            "alone: %(ids)s.",
            len(result.stale),
        )
        % {"n": len(result.stale), "ids": ", ".join(f"#{pk}" for pk in result.stale)},
    )
