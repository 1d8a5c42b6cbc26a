"""Ticket pages: detail with in-place editing, and the "Create ticket" panel."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from svardesk.accounts.queries import request_user
from svardesk.conversations.queries import conversation_context
from svardesk.core.decorators import workspace_required
from svardesk.core.parsing import parse_ascii_int, parse_id
from svardesk.tickets import properties as props
from svardesk.tickets import queries, services, sidebar
from svardesk.tickets.exceptions import (
    SidebarLayoutValidationError,
    StaleTicketError,
    TicketValidationError,
)
from svardesk.tickets.forms import (
    MISSING_VERSION,
    PropertyEditForm,
    TicketCreateForm,
    assignable_users,
)
from svardesk.tickets.models import Category, Pipeline, Priority, Ticket

HEADER_PROPERTIES = ("owner", "priority", "category", "stage")


def _property_rows(ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for spec in sidebar.sidebar_specs():
        value = props.plain_value(ticket, spec)
        rows.append({"spec": spec, "value": value, "display": props.display_value(spec, value)})
    return rows


def _detail_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    timeline = list(queries.list_timeline(ticket))
    user = request_user(request)
    rows = _property_rows(ticket)
    order, hidden = sidebar.layout_of(user)
    return {
        "ticket": ticket,
        "sidebar_cards": sidebar.arrange(
            rows, order=order, hidden=hidden, has_contact=ticket.contact_id is not None
        ),
        "sidebar_choices": [(row["spec"], row["spec"].name not in hidden) for row in rows],
        "timeline": timeline,
        **conversation_context(ticket, actor=user, timeline=timeline),
        "owners": list(assignable_users()),
        "priorities": Priority.choices,
        "categories": Category.choices,
        "stages": list(queries.list_stages(ticket.pipeline)),
        **extra,
    }


@workspace_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = queries.access_ticket(ticket_id, actor=request_user(request))
    context = _detail_context(request, ticket)
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request and not htmx.boosted:
        return render(request, "tickets/partials/_detail.html", context)
    context["current_view"] = request.GET.get("view", "")
    return render(request, "tickets/detail.html", context)


@workspace_required
@require_POST
def update_properties(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """In-place edit of header fields (and any property posted by name): returns the detail
    fragment; a stale edit returns it with the latest values and a conflict notice (409)."""
    ticket = queries.access_ticket(ticket_id, actor=request_user(request))
    # Every edit says which version of the ticket it was made on; without one it could
    # silently overwrite someone else's change.
    version = parse_ascii_int(request.POST.get("version", ""))
    if version is None:
        return HttpResponseBadRequest(MISSING_VERSION)
    specs = props.property_specs_by_name()
    changes: dict[str, Any] = {}
    for name in request.POST:
        spec = specs.get(name)
        if spec is not None and spec.is_editable:
            values = request.POST.getlist(name)
            changes[name] = values if spec.is_multiple else values[-1]
    status = 200
    extra: dict[str, Any] = {}
    try:
        ticket = services.update_ticket(
            ticket.pk,
            actor=request_user(request),
            changes=changes,
            expected_version=version,
        )
        extra["toast"] = _("Ticket updated.")
    except StaleTicketError:
        status = 409
        extra["conflict"] = _(
            "Someone else changed this ticket while you were looking at it. Your change was not "
            "saved; the latest values are shown — check them and make your change again."
        )
    except TicketValidationError as exc:
        status = 422
        extra["errors"] = exc.errors
    ticket = queries.access_ticket(ticket.pk, actor=request_user(request))
    return render(
        request,
        "tickets/partials/_detail.html",
        _detail_context(request, ticket, **extra),
        status=status,
    )


@workspace_required
@require_POST
def save_sidebar_layout(request: HttpRequest) -> HttpResponse:
    """The right sidebar as the user arranges it: `order` (card keys, posted by dragging a
    card) and/or `shown` (the property chooser; `choosing` marks that form, so showing no
    property at all is possible). A form post returns to `next`; a script's post gets 204."""
    order = request.POST.getlist("order") if "order" in request.POST else None
    shown = request.POST.getlist("shown") if "choosing" in request.POST else None
    try:
        services.save_sidebar_layout(request_user(request), order=order, shown=shown)
    except SidebarLayoutValidationError as exc:
        return HttpResponseBadRequest(str(exc))
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return HttpResponse(status=204)


@workspace_required
@require_http_methods(["GET", "POST"])
def edit_property(request: HttpRequest, ticket_id: int, name: str) -> HttpResponse:
    """The right sidebar's in-place editor for one property."""
    ticket = queries.access_ticket(ticket_id, actor=request_user(request))
    spec = props.get_spec(name)
    if spec is None or not spec.is_editable:
        raise Http404("No such property")
    if request.method == "GET":
        form = PropertyEditForm(
            spec=spec,
            actor=request_user(request),
            ticket=ticket,
            initial={
                "value": props.form_initial(spec, props.plain_value(ticket, spec)),
                "version": ticket.version,
            },
        )
        return render(
            request,
            "tickets/partials/_property_form.html",
            {"ticket": ticket, "spec": spec, "form": form},
        )
    form = PropertyEditForm(request.POST, spec=spec, actor=request_user(request), ticket=ticket)
    if not form.is_valid():
        return render(
            request,
            "tickets/partials/_property_form.html",
            {"ticket": ticket, "spec": spec, "form": form},
            status=422,
        )
    status = 200
    extra: dict[str, Any] = {}
    try:
        ticket = services.update_ticket(
            ticket.pk,
            actor=request_user(request),
            changes={name: form.plain_value()},
            expected_version=form.cleaned_data["version"],
        )
        extra["toast"] = _("Ticket updated.")
    except StaleTicketError:
        status = 409
        extra["conflict"] = _(
            "Someone else changed this ticket while you were editing. Your change was not saved; "
            "the latest values are shown."
        )
    except TicketValidationError as exc:
        form.add_error("value", exc.errors.get(name, str(exc)))
        return render(
            request,
            "tickets/partials/_property_form.html",
            {"ticket": ticket, "spec": spec, "form": form},
            status=422,
        )
    ticket = queries.access_ticket(ticket.pk, actor=request_user(request))
    response = render(
        request,
        "tickets/partials/_detail.html",
        _detail_context(request, ticket, **extra),
        status=status,
    )
    # The form sits inside the sidebar; a saved (or stale) edit refreshes the whole ticket.
    return reswap(retarget(response, "#ticket-detail"), "outerHTML")


@workspace_required
@require_http_methods(["GET", "POST"])
def create_ticket(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        form = TicketCreateForm(actor=request_user(request))
        return render(request, "tickets/partials/_create_panel.html", {"form": form})
    form = TicketCreateForm(request.POST, actor=request_user(request))
    if form.is_valid():
        data = form.cleaned_data
        try:
            ticket = services.create_ticket(
                actor=request_user(request),
                name=data["name"],
                pipeline=data["pipeline"],
                stage=data["stage"],
                description=data.get("description") or "",
                priority=data.get("priority") or "",
                category=data.get("category") or "",
                owner=data.get("owner"),
                team=data.get("team"),
                contact=data.get("contact"),
                custom={k: v for k, v in form.custom_values().items() if v not in (None, "", [])},
            )
        except TicketValidationError as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            url = reverse("tickets:detail", args=[ticket.pk])
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(url)
            from django.shortcuts import redirect

            return redirect(url)
    return render(request, "tickets/partials/_create_panel.html", {"form": form}, status=422)


@workspace_required
def stage_options(request: HttpRequest) -> HttpResponse:
    """The status choices of the pipeline picked in the create panel."""
    pipeline_id = parse_id(request.GET.get("pipeline"))  # ASCII digits, or no pipeline
    pipeline = Pipeline.objects.filter(pk=pipeline_id).first() if pipeline_id else None
    if pipeline is None:
        raise Http404("No such pipeline")
    return render(
        request, "tickets/partials/_stage_options.html", {"stages": queries.list_stages(pipeline)}
    )
