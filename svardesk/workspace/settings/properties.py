"""Properties of tickets, contacts, companies and deals (a record-type switch): the built-in
ones (read-only) and custom ones by group."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.core.decorators import super_admin_required
from svardesk.records import properties as record_props
from svardesk.tickets import properties as props
from svardesk.tickets import services
from svardesk.tickets.exceptions import PropertyDefinitionError
from svardesk.tickets.models import PropertyGroup, PropertyType
from svardesk.workspace.settings import queries
from svardesk.workspace.settings.common import actor, found, render_settings
from svardesk.workspace.settings.forms import (
    SELECT_TYPES,
    PropertyBaseForm,
    PropertyCreateForm,
    PropertyEditForm,
)

SECTION = "properties"

# How the built-in reference kinds read in the "Field type" column.
REFERENCE_TYPE_LABELS = {
    props.PIPELINE: gettext_lazy("Pipeline"),
    props.STAGE: gettext_lazy("Ticket status"),
    props.TEAM: gettext_lazy("Team"),
    props.CONTACT: gettext_lazy("Contact"),
    record_props.COMPANY_REF: gettext_lazy("Company"),
}

# The record-type switch: each type's object_type and its tab's label.
OBJECT_TYPES = {
    props.TICKET_OBJECT: gettext_lazy("Tickets"),
    record_props.CONTACT: gettext_lazy("Contacts"),
    record_props.COMPANY: gettext_lazy("Companies"),
    record_props.DEAL: gettext_lazy("Deals"),
}


def chosen_object_type(request: HttpRequest) -> str:
    """The record type the page is about (`?type=`), tickets unless another is named."""
    chosen = request.GET.get("type", "")
    return chosen if chosen in OBJECT_TYPES else props.TICKET_OBJECT


def _properties_url(object_type: str) -> str:
    url = reverse("settings:properties")
    return url if object_type == props.TICKET_OBJECT else f"{url}?type={object_type}"


def _builtin_specs(object_type: str) -> list[props.PropertySpec]:
    if object_type == props.TICKET_OBJECT:
        return queries.list_builtin_properties()
    return [spec for spec in record_props.specs_for(object_type) if spec.is_builtin]


def type_label(type_: str) -> str:
    if type_ in PropertyType.values:
        return str(PropertyType(type_).label)
    return str(REFERENCE_TYPE_LABELS.get(type_, type_))


@super_admin_required
@require_GET
def property_list(request: HttpRequest) -> HttpResponse:
    object_type = chosen_object_type(request)
    builtin = [
        {"spec": spec, "type_label": type_label(spec.type)} for spec in _builtin_specs(object_type)
    ]
    groups = [
        {
            "label": listing.label,
            "rows": [
                {"definition": d, "type_label": type_label(d.type)} for d in listing.definitions
            ],
        }
        for listing in queries.list_custom_properties_by_group(object_type)
    ]
    return render_settings(
        request,
        "workspace/settings/properties.html",
        section=SECTION,
        context={
            "builtin": builtin,
            "groups": groups,
            **_type_context(object_type),
        },
    )


def _type_context(object_type: str) -> dict[str, object]:
    """The record-type switch's tabs and the chosen type, for the properties pages."""
    return {
        "object_type": object_type,
        "object_type_label": OBJECT_TYPES[object_type],
        "type_query": "" if object_type == props.TICKET_OBJECT else f"?type={object_type}",
        "object_types": [
            {"value": value, "label": label, "url": _properties_url(value)}
            for value, label in OBJECT_TYPES.items()
        ],
        "type_properties_url": _properties_url(object_type),
    }


def _chosen_group(request: HttpRequest, form: PropertyBaseForm) -> PropertyGroup | None:
    """The group picked in the form, creating it first when a new group label is given.

    Runs inside the caller's transaction, so a property that fails later leaves no group.
    """
    label = form.cleaned_data.get("new_group", "").strip()
    if label:
        try:
            return services.create_property_group(actor=actor(request), label=label)
        except PropertyDefinitionError as exc:
            form.add_error("new_group", str(exc))
            raise
    group: PropertyGroup | None = form.cleaned_data.get("group")
    return group


@super_admin_required
@require_http_methods(["GET", "POST"])
def property_create(request: HttpRequest) -> HttpResponse:
    object_type = chosen_object_type(request)
    form = PropertyCreateForm(request.POST) if request.method == "POST" else PropertyCreateForm()
    if (
        form.is_bound
        and object_type != props.TICKET_OBJECT
        and form.data.get("name", "") in record_props.builtin_names(object_type)
    ):
        # A contact's "email", say: the record's own property already has that name.
        form.add_error("name", _("A property with this internal name already exists."))
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                definition = services.create_property_definition(
                    actor=actor(request),
                    name=data["name"],
                    label=data["label"],
                    type=data["type"],
                    group=_chosen_group(request, form),
                    description=data["description"],
                    options=form.option_list(),
                    object_type=object_type,
                )
        except PropertyDefinitionError as exc:
            if not form.has_error("new_group"):
                form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Property %(label)s was created.") % {"label": definition.label}
            )
            return redirect(_properties_url(object_type))
    return render_settings(
        request,
        "workspace/settings/property_form.html",
        section=SECTION,
        context={
            "form": form,
            "definition": None,
            "select_types": SELECT_TYPES,
            **_type_context(object_type),
        },
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def property_edit(request: HttpRequest, pk: int) -> HttpResponse:
    definition = found(queries.get_property_definition(pk))
    form = (
        PropertyEditForm(request.POST, definition=definition)
        if request.method == "POST"
        else PropertyEditForm(definition=definition)
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.update_property_definition(
                    definition,
                    actor=actor(request),
                    label=data["label"],
                    group=_chosen_group(request, form),
                    description=data["description"],
                    options=form.option_list() if definition.type in SELECT_TYPES else None,
                )
        except PropertyDefinitionError as exc:
            if not form.has_error("new_group"):
                form.add_error(None, str(exc))
            # The definition object may hold unsaved changes; show the stored one's name.
            definition.refresh_from_db()
        else:
            messages.success(
                request, _("Property %(label)s was saved.") % {"label": definition.label}
            )
            return redirect(_properties_url(definition.object_type))
    return render_settings(
        request,
        "workspace/settings/property_form.html",
        section=SECTION,
        context={
            "form": form,
            "definition": definition,
            "type_label": type_label(definition.type),
            "select_types": SELECT_TYPES,
            **_type_context(_known_type(definition.object_type)),
        },
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def property_delete(request: HttpRequest, pk: int) -> HttpResponse:
    definition = found(queries.get_property_definition(pk))
    if request.method == "POST":
        label = definition.label
        services.delete_property_definition(definition, actor=actor(request))
        messages.success(request, _("Property %(label)s was deleted.") % {"label": label})
        return redirect(_properties_url(definition.object_type))
    return render_settings(
        request,
        "workspace/settings/property_delete.html",
        section=SECTION,
        context={"definition": definition, **_type_context(_known_type(definition.object_type))},
    )


def _known_type(object_type: str) -> str:
    return object_type if object_type in OBJECT_TYPES else props.TICKET_OBJECT
