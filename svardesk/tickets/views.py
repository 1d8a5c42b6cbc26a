"""Ticket actions that stand alone: the "Create ticket" panel, its status choices, and the
right sidebar's layout. The ticket page and the edits that redraw it (with the conversation
beside the ticket) are composed above the domain apps, in `workspace/ticket_page.py`."""

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
from svardesk.tickets.forms import TicketCreateForm
from svardesk.tickets.models import Pipeline


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
