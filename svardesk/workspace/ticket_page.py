"""The ticket page, composed above the domain apps: the ticket (`tickets.page`) with its
conversation (`conversations.queries.conversation_context`), as a full page in the workspace
shell or as the `#ticket-detail` fragment, and the in-place edits that redraw it. The URL names
stay in the `tickets` namespace (`tickets:detail`, …): `config/urls.py` mounts `urlpatterns`
beside `tickets.urls`."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from svardesk.accounts.queries import request_user
from svardesk.conversations.queries import conversation_context, conversations_summary
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_ascii_int
from svardesk.core.precompiled import precompiled_annotations
from svardesk.crm.models import DealStage
from svardesk.records.cards import association_cards, card_annotations
from svardesk.tickets import properties as props
from svardesk.tickets import queries, services
from svardesk.tickets.exceptions import StaleTicketError, TicketValidationError
from svardesk.tickets.forms import MAX_USERS_IN_SELECT, MISSING_VERSION, PropertyEditForm
from svardesk.tickets.merge import resolve_ticket_id
from svardesk.tickets.models import Ticket
from svardesk.tickets.page import assignable_users_cached, detail_context


def access_ticket_for_page(ticket_id: int, *, actor: Any) -> Ticket:
    """`access_ticket`, with the ticket's conversations and its association cards' records
    read in the same statement: the page's statement count stays fixed (see
    `conversations.queries.load_ticket_conversations` and `records.cards`)."""
    return queries.access_ticket(ticket_id, actor=actor, annotate=_page_annotations())


def _page_annotations() -> tuple[str, dict[str, Any]]:
    # Compiled once per process (core.precompiled): resolving and compiling these subqueries
    # on every request cost ~20 ms, more than the statement takes in the database.
    return "ticket_page", precompiled_annotations(
        Ticket,
        "ticket_page",
        lambda: {"conversations_json": conversations_summary(), **card_annotations()},
    )


def ticket_page_context(request: HttpRequest, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """Everything `tickets/partials/_detail.html` draws: the ticket, its sidebar's
    association cards (records.cards), then its conversation woven with the ticket's
    timeline, then `extra` (a toast, a conflict, errors)."""
    context = detail_context(request, ticket)
    users = {user.pk: user for user in context["owners"]}
    cards = association_cards(ticket, user=request_user(request), users=users)
    for card in context["sidebar_cards"]:
        card.association = cards.get(card.key)
    context["deal_stages"] = DealStage.choices
    context.update(
        conversation_context(ticket, actor=request_user(request), timeline=context["timeline"])
    )
    context.update(extra)
    return context


def _merged_into(request: HttpRequest, ticket_id: int) -> HttpResponse | None:
    """A redirect to the ticket a merge moved `ticket_id` into, for a user who may see it;
    None for an id that was never merged (or one merged into a ticket out of their scope)."""
    moved = resolve_ticket_id(ticket_id)
    if moved is None or moved == ticket_id:
        return None
    if not queries.visible_tickets(request_user(request)).filter(pk=moved).exists():
        return None
    url = reverse("tickets:detail", args=[moved])
    query = request.GET.urlencode()
    return redirect(f"{url}?{query}" if query else url)


@workspace_required
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        ticket = access_ticket_for_page(ticket_id, actor=request_user(request))
    except NotFoundError:
        moved = _merged_into(request, ticket_id)
        if moved is None:
            raise
        return moved
    context = ticket_page_context(request, ticket)
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
    ticket = access_ticket_for_page(ticket.pk, actor=request_user(request))
    return render(
        request,
        "tickets/partials/_detail.html",
        ticket_page_context(request, ticket, **extra),
        status=status,
    )


def _property_form_context(ticket: Ticket, spec: Any, form: PropertyEditForm) -> dict[str, Any]:
    """The editor's context; a user property (the owner, a custom one) is a search picker
    when there are more users than a select lists well: `user_picker` = (id, name)."""
    context: dict[str, Any] = {"ticket": ticket, "spec": spec, "form": form}
    owners = assignable_users_cached()
    if spec.type == props.PropertyType.USER and len(owners) > MAX_USERS_IN_SELECT:
        pk = parse_ascii_int(str(props.plain_value(ticket, spec) or ""))
        names = {user.pk: user.display_name for user in owners}
        context["user_picker"] = (pk, names.get(pk, "") if pk is not None else "")
    return context


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
            _property_form_context(ticket, spec, form),
        )
    form = PropertyEditForm(request.POST, spec=spec, actor=request_user(request), ticket=ticket)
    if not form.is_valid():
        return render(
            request,
            "tickets/partials/_property_form.html",
            _property_form_context(ticket, spec, form),
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
            _property_form_context(ticket, spec, form),
            status=422,
        )
    ticket = access_ticket_for_page(ticket.pk, actor=request_user(request))
    response = render(
        request,
        "tickets/partials/_detail.html",
        ticket_page_context(request, ticket, **extra),
        status=status,
    )
    # The form sits inside the sidebar; a saved (or stale) edit refreshes the whole ticket.
    return reswap(retarget(response, "#ticket-detail"), "outerHTML")


urlpatterns: list[URLPattern] = [
    path("<int:ticket_id>/", ticket_detail, name="detail"),
    path("<int:ticket_id>/properties/", update_properties, name="update_properties"),
    path("<int:ticket_id>/properties/<slug:name>/", edit_property, name="edit_property"),
]
