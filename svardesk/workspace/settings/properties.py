"""Ticket properties: the built-in ones (read-only) and custom ones by group."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from svardesk.core.decorators import super_admin_required
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
}


def type_label(type_: str) -> str:
    if type_ in PropertyType.values:
        return str(PropertyType(type_).label)
    return str(REFERENCE_TYPE_LABELS.get(type_, type_))


@super_admin_required
@require_GET
def property_list(request: HttpRequest) -> HttpResponse:
    builtin = [
        {"spec": spec, "type_label": type_label(spec.type)}
        for spec in queries.list_builtin_properties()
    ]
    groups = [
        {
            "label": listing.label,
            "rows": [
                {"definition": d, "type_label": type_label(d.type)} for d in listing.definitions
            ],
        }
        for listing in queries.list_custom_properties_by_group()
    ]
    return render_settings(
        request,
        "workspace/settings/properties.html",
        section=SECTION,
        context={"builtin": builtin, "groups": groups},
    )


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
    form = PropertyCreateForm(request.POST) if request.method == "POST" else PropertyCreateForm()
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
                )
        except PropertyDefinitionError as exc:
            if not form.has_error("new_group"):
                form.add_error(None, str(exc))
        else:
            messages.success(
                request, _("Property %(label)s was created.") % {"label": definition.label}
            )
            return redirect("settings:properties")
    return render_settings(
        request,
        "workspace/settings/property_form.html",
        section=SECTION,
        context={"form": form, "definition": None, "select_types": SELECT_TYPES},
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
            return redirect("settings:properties")
    return render_settings(
        request,
        "workspace/settings/property_form.html",
        section=SECTION,
        context={
            "form": form,
            "definition": definition,
            "type_label": type_label(definition.type),
            "select_types": SELECT_TYPES,
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
        return redirect("settings:properties")
    return render_settings(
        request,
        "workspace/settings/property_delete.html",
        section=SECTION,
        context={"definition": definition},
    )
