"""The record pages of contacts, companies and deals: the page, its in-place property edits,
associations added and removed, the create / edit / delete pages and merging contacts.

Every view starts with `workspace_required` (a seat or super admin) and reads the record
through `records.queries.access_record` (404 when out of the user's scope, a redirect for a
merged-away id). Creating and editing need only the seat, as editing a ticket does; deleting
is for super admins. Writes go to `crm.services` (and `records.record_services` where a
ticket's side must follow).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_id
from svardesk.crm import phones
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordNotFoundError, RecordValidationError
from svardesk.crm.models import Contact
from svardesk.records import properties as record_props
from svardesk.records import queries, record_page, record_services
from svardesk.records.forms import FORMS, DealAssociationsForm, initial_for, inline_field_names
from svardesk.records.queries import COMPANY, CONTACT, DEAL, TICKET

PAGE = "records/record/page.html"
PAGE_BODY = "records/record/partials/_page.html"


def _is_htmx(request: HttpRequest) -> bool:
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def _base(object_type: str) -> dict[str, str]:
    """What templates build the record's URL names from ("records:contact" + "_edit"), and
    the navigation entry shown as current."""
    return {
        "url_base": f"records:{object_type}",
        "current_view": record_page.LIST_KEYS[object_type],
    }


def _access(request: HttpRequest, object_type: str, pk: int) -> Any:
    return queries.access_record(object_type, pk, actor=request_user(request))


def _with_back(url: str, back: str) -> str:
    return f"{url}?{urlencode({'back': back})}" if back else url


def _moved(exc: queries.RecordMovedError, request: HttpRequest) -> HttpResponse:
    url = record_page.record_url(exc.object_type, exc.survivor_id)
    query = request.GET.urlencode()
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


def _render_page(
    request: HttpRequest, object_type: str, record: Any, *, status: int = 200, **extra: Any
) -> HttpResponse:
    context = record_page.page_context(request, object_type, record, actor=request_user(request))
    context.update(extra)
    template = PAGE_BODY if _is_htmx(request) else PAGE
    return render(request, template, context, status=status)


# --- The page ---------------------------------------------------------------------------------


@workspace_required
def record_detail(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    try:
        record = _access(request, object_type, pk)
    except queries.RecordMovedError as exc:
        return _moved(exc, request)
    return _render_page(request, object_type, record)


@workspace_required
def record_tickets(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    """The next page of the record's tickets ("More")."""
    record = _access(request, object_type, pk)
    tickets = queries.list_associated_tickets(
        object_type, record.pk, actor=request_user(request), after=request.GET.get("after")
    )
    return render(
        request,
        "records/record/partials/_ticket_rows.html",
        {
            "tickets_page": tickets,
            "object_type": object_type,
            "record": record,
            **_base(object_type),
        },
    )


@workspace_required
def record_timeline(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    """The next page of the record's timeline ("Show older")."""
    record = _access(request, object_type, pk)
    timeline = record_page.timeline(
        object_type,
        record.pk,
        actor=request_user(request),
        events_before=request.GET.get("ev"),
        messages_before=request.GET.get("msg"),
    )
    return render(
        request,
        "records/record/partials/_timeline_items.html",
        {"timeline": timeline, "object_type": object_type, "record": record, **_base(object_type)},
    )


# --- In-place edit of one property ---------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def edit_property(request: HttpRequest, object_type: str, pk: int, name: str) -> HttpResponse:
    record = _access(request, object_type, pk)
    if name not in inline_field_names(object_type):
        raise Http404("No such property")
    spec = record_props.get_spec(object_type, name)
    form_class = FORMS[object_type]
    context: dict[str, Any] = {
        "record": record,
        "object_type": object_type,
        "spec": spec,
        **_base(object_type),
    }
    if object_type == CONTACT and name == "company":
        from svardesk.records.pickers import picker_widget

        context["picker"] = picker_widget(
            COMPANY,
            name="company",
            label=str(spec.label if spec else name),
            value=record.company_id,
            value_label=str(record.company or ""),
            aria_label=str(spec.label if spec else name),
        )
    if request.method == "GET":
        form = form_class(initial=initial_for(object_type, record), only=name)
        return render(
            request, "records/record/partials/_property_form.html", {**context, "form": form}
        )
    form = form_class(request.POST, only=name)
    if form.is_valid() and name == "company" and form.cleaned_data.get("company"):
        _check_visible(
            request_user(request), COMPANY, form.cleaned_data["company"], form, "company"
        )
    if form.is_valid() and not form.errors:
        try:
            _update(object_type, record, actor=request_user(request), changes=form.changes())
        except RecordValidationError as exc:
            form.add_service_errors(exc.errors)
    if not form.is_valid() or form.errors:
        return render(
            request,
            "records/record/partials/_property_form.html",
            {**context, "form": form},
            status=422,
        )
    record = _access(request, object_type, pk)
    response = render(
        request,
        PAGE_BODY,
        {
            **record_page.page_context(request, object_type, record, actor=request_user(request)),
            "toast": _("Saved."),
        },
    )
    # The form sits inside the properties card; a saved edit redraws the whole record.
    response["HX-Retarget"] = "#record-page"
    response["HX-Reswap"] = "outerHTML"
    return response


def _update(object_type: str, record: Any, *, actor: Any, changes: dict[str, Any]) -> Any:
    if object_type == CONTACT:
        return crm_services.update_contact(record, actor=actor, **changes)
    if object_type == COMPANY:
        return crm_services.update_company(record, actor=actor, **changes)
    return crm_services.update_deal(record, actor=actor, **changes)


# --- Associations -----------------------------------------------------------------------------


def _partner(request: HttpRequest, object_type: str) -> tuple[str, int]:
    partner_type = request.POST.get("partner_type", "")
    partner_id = parse_id(request.POST.get("partner_id", ""))
    if partner_type == object_type or partner_type not in (CONTACT, COMPANY, DEAL, TICKET):
        raise Http404("No such association")
    if partner_id is None:
        raise Http404("No such record")
    return partner_type, partner_id


@workspace_required
@require_POST
def add_association(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    actor = request_user(request)
    record = _access(request, object_type, pk)
    partner_type, partner_id = _partner(request, object_type)
    error = ""
    # The partner must be one the user may see, as the record is.
    if not queries.visible_records(actor, partner_type).filter(pk=partner_id).exists():
        error = _("That record was not found.")
    else:
        try:
            record_services.associate_with_record(
                actor=actor,
                object_type=object_type,
                record=record,
                partner_type=partner_type,
                partner_id=partner_id,
            )
        except RecordNotFoundError:
            error = _("That record was not found.")
    return _after_change(request, object_type, record.pk, error=error)


@workspace_required
@require_POST
def remove_association(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    actor = request_user(request)
    record = _access(request, object_type, pk)
    partner_type, partner_id = _partner(request, object_type)
    if not queries.visible_records(actor, partner_type).filter(pk=partner_id).exists():
        raise Http404("No such record")
    record_services.dissociate_from_record(
        actor=actor,
        object_type=object_type,
        record=record,
        partner_type=partner_type,
        partner_id=partner_id,
    )
    return _after_change(request, object_type, record.pk, toast=_("Association removed."))


def _after_change(
    request: HttpRequest, object_type: str, pk: int, *, toast: str = "", error: str = ""
) -> HttpResponse:
    try:
        record = _access(request, object_type, pk)
    except NotFoundError:
        # The change took the record out of the user's scope (its last visible ticket).
        url = reverse("ticket_views:all")
        if _is_htmx(request):
            return HttpResponseClientRedirect(url)
        return redirect(url)
    if not _is_htmx(request):
        return redirect(
            _with_back(record_page.record_url(object_type, pk), record_page.safe_back(request))
        )
    return _render_page(
        request,
        object_type,
        record,
        status=422 if error else 200,
        toast=toast or ("" if error else _("Saved.")),
        error=error,
    )


# --- Create, edit, delete ---------------------------------------------------------------------


def _create(object_type: str, *, actor: Any, changes: dict[str, Any]) -> Any:
    if object_type == CONTACT:
        return crm_services.create_contact(actor=actor, **changes)
    if object_type == COMPANY:
        return crm_services.create_company(actor=actor, **changes)
    return crm_services.create_deal(actor=actor, **changes)


def _form_context(object_type: str, form: Any, **extra: Any) -> dict[str, Any]:
    from svardesk.records.pickers import picker_widget

    context: dict[str, Any] = {
        "object_type": object_type,
        **_base(object_type),
        "type_label": record_page.type_label(object_type),
        "form": form,
        "custom_fields": [form[name] for name in getattr(form, "custom_names", [])],
        "company_fields": [
            "name", "domain", "phone", "address", "city", "zip", "country", "industry",
            "hubspot_owner_id",
        ],
        "deal_fields": [
            "dealname", "amount", "deal_currency_code", "dealstage", "closedate",
            "hubspot_owner_id",
        ],
        "email_rows": [""],
        "primary_index": 0,
        "phone_rows": [""],
    }  # fmt: skip
    if object_type == CONTACT:
        company_id = parse_id(form["company"].value())
        company_label = ""
        if company_id:
            from svardesk.crm.models import Company

            company_label = (
                Company.objects.filter(pk=company_id).values_list("name", flat=True).first() or ""
            )
        context["company_picker"] = picker_widget(
            COMPANY,
            name="company",
            label=str(form["company"].label),
            value=company_id,
            value_label=company_label,
            input_id="contact-company",
        )
    links = extra.get("links")
    if object_type == DEAL and links is not None:
        for partner_type in (CONTACT, COMPANY):
            context[f"deal_{partner_type}_picker"] = picker_widget(
                partner_type,
                name=partner_type,
                label=record_page.type_label(partner_type),
                value=parse_id(links[partner_type].value()),
                input_id=f"deal-{partner_type}",
            )
    context.update(extra)
    return context


@workspace_required
@require_http_methods(["GET", "POST"])
def record_create(request: HttpRequest, object_type: str) -> HttpResponse:
    actor = request_user(request)
    form_class = FORMS[object_type]
    links = DealAssociationsForm(request.POST or None) if object_type == DEAL else None
    if request.method == "GET":
        form = form_class(initial={"deal_currency_code": "SEK"} if object_type == DEAL else None)
        return render(
            request,
            "records/record/form.html",
            _form_context(object_type, form, links=links, back=record_page.safe_back(request)),
        )
    form = form_class(request.POST)
    record = None
    if form.is_valid() and (links is None or links.is_valid()):
        changes = form.changes()
        if object_type == CONTACT and changes.get("company_id"):
            _check_visible(actor, COMPANY, changes["company_id"], form, "company")
        partners = _deal_partners(actor, links, form) if links is not None else []
        if not form.errors:
            try:
                record = _create_with_partners(object_type, actor, changes, partners)
            except RecordValidationError as exc:
                form.add_service_errors(exc.errors)
    if record is None:
        return render(
            request,
            "records/record/form.html",
            _form_context(
                object_type,
                form,
                links=links,
                back=record_page.safe_back(request),
                **_posted_rows(form),
            ),
            status=422,
        )
    if not queries.visible_records(actor, object_type).filter(pk=record.pk).exists():
        # Created, but outside what this user sees (no ticket of theirs links it).
        return render(
            request,
            "records/record/created_elsewhere.html",
            {
                "object_type": object_type,
                **_base(object_type),
                "type_label": record_page.type_label(object_type),
            },
        )
    return redirect(record_page.record_url(object_type, record.pk))


def _create_with_partners(
    object_type: str, actor: Any, changes: dict[str, Any], partners: list[tuple[str, int]]
) -> Any:
    from django.db import transaction

    with transaction.atomic():
        record = _create(object_type, actor=actor, changes=changes)
        for partner_type, partner_id in partners:
            record_services.associate_with_record(
                actor=actor,
                object_type=object_type,
                record=record,
                partner_type=partner_type,
                partner_id=partner_id,
            )
    return record


def _check_visible(actor: Any, object_type: str, pk: Any, form: Any, field: str) -> bool:
    if queries.visible_records(actor, object_type).filter(pk=pk).exists():
        return True
    form.add_error(field, _("That record was not found."))
    return False


def _deal_partners(actor: Any, links: DealAssociationsForm, form: Any) -> list[tuple[str, int]]:
    partners: list[tuple[str, int]] = []
    for partner_type in (CONTACT, COMPANY, TICKET):
        pk = links.cleaned_data.get(partner_type)
        if pk and _check_visible(actor, partner_type, pk, links, partner_type):
            partners.append((partner_type, pk))
    if links.errors:
        form.add_error(None, _("Check the associated records."))
    return partners


@workspace_required
@require_http_methods(["GET", "POST"])
def record_edit(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    actor = request_user(request)
    try:
        record = _access(request, object_type, pk)
    except queries.RecordMovedError as exc:
        return _moved(exc, request)
    form_class = FORMS[object_type]
    back = record_page.safe_back(request)
    extra = {"record": record, "back": back, **_contact_rows(object_type, record)}
    if request.method == "GET":
        form = form_class(initial=initial_for(object_type, record))
        return render(
            request, "records/record/form.html", _form_context(object_type, form, **extra)
        )
    form = form_class(request.POST, initial=initial_for(object_type, record))
    if form.is_valid():
        changes = form.changes()
        if (
            object_type == CONTACT
            and changes.get("company_id")
            and changes["company_id"] != record.company_id
        ):
            _check_visible(actor, COMPANY, changes["company_id"], form, "company")
        if not form.errors:
            try:
                _update(object_type, record, actor=actor, changes=changes)
            except RecordValidationError as exc:
                form.add_service_errors(exc.errors)
    if form.errors:
        extra.update(_posted_rows(form))
        return render(
            request,
            "records/record/form.html",
            _form_context(object_type, form, **extra),
            status=422,
        )
    return redirect(_with_back(record_page.record_url(object_type, record.pk), back))


def _contact_rows(object_type: str, record: Any) -> dict[str, Any]:
    """A contact's emails and phones as the form's repeated rows."""
    if object_type != CONTACT:
        return {}
    emails = list(record.emails.all())
    rows = [e.email for e in emails] or ([record.email] if record.email else [""])
    primary = next((i for i, e in enumerate(emails) if e.is_primary), 0)
    numbers = [p.number for p in record.phones.all() if p.kind != "mobile"]
    if not numbers and record.phone:
        numbers = [record.phone]
    return {
        "email_rows": rows,
        "primary_index": primary,
        "phone_rows": [phones.format_for_region(n) for n in numbers] or [""],
    }


def _posted_rows(form: Any) -> dict[str, Any]:
    if not hasattr(form, "email_rows"):
        return {}
    return {
        "email_rows": form.email_rows or [""],
        "primary_index": form.primary_index,
        "phone_rows": form.phone_rows or [""],
    }


@workspace_required
@require_http_methods(["GET", "POST"])
def record_delete(request: HttpRequest, object_type: str, pk: int) -> HttpResponse:
    actor = request_user(request)
    record = _access(request, object_type, pk)
    if not actor.is_superuser:
        raise PermissionDenied(_("Only super admins can delete records."))
    if request.method == "POST":
        if object_type == CONTACT:
            crm_services.delete_contact(record, actor=actor)
        elif object_type == COMPANY:
            crm_services.delete_company(record, actor=actor)
        else:
            crm_services.delete_deal(record, actor=actor)
        return redirect(_list_url(object_type))
    tickets = queries.associated_tickets(object_type, record.pk, actor=actor).count()
    return render(
        request,
        "records/record/delete.html",
        {
            "object_type": object_type,
            **_base(object_type),
            "type_label": record_page.type_label(object_type),
            "record": record,
            "name": record_page.record_name(object_type, record),
            "ticket_count": tickets,
            "contact_count": (
                Contact.objects.filter(company=record).count() if object_type == COMPANY else 0
            ),
            "back": record_page.safe_back(request),
        },
    )


def _list_url(object_type: str) -> str:
    names = {CONTACT: "records:contacts", COMPANY: "records:companies", DEAL: "records:deals"}
    return reverse(names[object_type])


# --- Merge contacts ---------------------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def merge_contacts(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the other contact, which one stays, read what happens, merge."""
    actor = request_user(request)
    try:
        contact = queries.access_contact(pk, actor=actor)
    except queries.RecordMovedError as exc:
        return _moved(exc, request)
    data = request.POST if request.method == "POST" else request.GET
    other = None
    error = ""
    other_id = parse_id(data.get("other", ""))
    if other_id is not None:
        try:
            other = queries.access_contact(other_id, actor=actor)
        except NotFoundError:
            error = _("That contact was not found.")
        if other is not None and other.pk == contact.pk:
            other, error = None, _("Choose another contact than this one.")
    keep = data.get("primary", "this")
    if request.method == "POST" and other is not None and data.get("confirm") == "1":
        primary, merged = (contact, other) if keep != "other" else (other, contact)
        crm_services.merge_contacts(actor=actor, primary=primary, other=merged)
        return redirect(record_page.record_url(CONTACT, primary.pk))
    tickets_of = {}
    if other is not None:
        for c in (contact, other):
            tickets_of[c.pk] = queries.associated_tickets(CONTACT, c.pk, actor=actor).count()
    from svardesk.records.pickers import picker_widget

    return render(
        request,
        "records/record/merge.html",
        {
            "object_type": CONTACT,
            **_base(CONTACT),
            "record": contact,
            "other": other,
            "keep": keep if keep in ("this", "other") else "this",
            "error": error,
            "tickets_of": tickets_of,
            "picker": picker_widget(
                CONTACT,
                name="other",
                label=_("Contact to merge with"),
                value=other.pk if other else None,
                value_label=other.display_name if other else "",
                required=True,
                input_id="merge-other",
            ),
        },
        status=422 if error else 200,
    )
