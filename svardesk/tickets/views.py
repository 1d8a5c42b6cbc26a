"""Ticket actions that stand alone: the "Create ticket" panel, its status choices, and the
right sidebar's layout. The ticket page and the edits that redraw it (with the conversation
beside the ticket) are composed above the domain apps, in `workspace/ticket_page.py`."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.parsing import parse_id
from svardesk.tickets import queries, services
from svardesk.tickets.exceptions import SidebarLayoutValidationError, TicketValidationError
from svardesk.tickets.forms import MAX_USERS_IN_SELECT, TicketCreateForm
from svardesk.tickets.models import Pipeline
from svardesk.tickets.page import assignable_users_cached
from svardesk.tickets.panel_services import (
    NewCompany,
    NewContact,
    create_ticket_with_records,
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
def create_ticket(request: HttpRequest) -> HttpResponse:
    """The Create ticket panel: the ticket's fields, and its contact and company picked or
    created in place (`panel_services.create_ticket_with_records`)."""
    actor = request_user(request)
    if request.method == "GET":
        form = TicketCreateForm(actor=actor)
        return render(request, "tickets/partials/_create_panel.html", panel_context(form))
    form = TicketCreateForm(request.POST, actor=actor)
    if form.is_valid():
        data = form.cleaned_data
        new_contact = new_company = None
        if form.creates_contact():
            values = form.new_contact.cleaned_data
            new_contact = NewContact(name=values["name"], email=values["email"])
        if form.creates_company():
            values = form.new_company.cleaned_data
            new_company = NewCompany(name=values["name"], domain=values["domain"])
        try:
            ticket = create_ticket_with_records(
                actor=actor,
                ticket_fields={
                    "name": data["name"],
                    "pipeline": data["pipeline"],
                    "stage": data["stage"],
                    "description": data.get("description") or "",
                    "priority": data.get("priority") or "",
                    "category": data.get("category") or "",
                    "owner": data.get("owner"),
                    "team": data.get("team"),
                    "custom": {
                        k: v for k, v in form.custom_values().items() if v not in (None, "", [])
                    },
                },
                contact=data.get("contact"),
                company=data.get("company"),
                new_contact=new_contact,
                new_company=new_company,
            )
        except TicketValidationError as exc:
            for field, message in exc.errors.items():
                form.add_panel_error(field, message)
        else:
            url = reverse("tickets:detail", args=[ticket.pk])
            if request.htmx:  # type: ignore[attr-defined]
                return HttpResponseClientRedirect(url)
            return redirect(url)
    return render(request, "tickets/partials/_create_panel.html", panel_context(form), status=422)


def panel_context(form: TicketCreateForm) -> dict[str, Any]:
    """The panel's form, with its pickers' state; the owner is a user picker when there are
    more users than a select lists well."""
    owner_picker = len(assignable_users_cached()) > MAX_USERS_IN_SELECT
    return {"form": form, "owner_picker": owner_picker, **form.picker_state()}


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
