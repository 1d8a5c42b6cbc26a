"""The "Create ticket" form: which properties it asks for, in which order, which are required."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from svardesk.core.decorators import super_admin_required
from svardesk.tickets import services
from svardesk.tickets.exceptions import PropertyDefinitionError
from svardesk.workspace.settings import queries
from svardesk.workspace.settings.common import actor, render_settings
from svardesk.workspace.settings.forms import CreateFormFieldsForm

SECTION = "create_form"


@super_admin_required
@require_http_methods(["GET", "POST"])
def create_form(request: HttpRequest) -> HttpResponse:
    candidates = queries.list_create_form_candidates()
    locked = [spec for spec in candidates if spec.name in services.ALWAYS_IN_CREATE_FORM]
    current = {
        field.property_name: (position, field.is_required)
        for position, field in enumerate(queries.list_create_form_fields())
    }
    # The form's properties in their current order, then the others in the registry's order.
    optional = sorted(
        (spec for spec in candidates if spec.name not in services.ALWAYS_IN_CREATE_FORM),
        key=lambda spec: current.get(spec.name, (len(current), False))[0],
    )
    form = (
        CreateFormFieldsForm(request.POST, specs=optional, current=current)
        if request.method == "POST"
        else CreateFormFieldsForm(specs=optional, current=current)
    )
    if form.is_bound and form.is_valid():
        try:
            services.set_create_form_fields(actor=actor(request), fields=form.chosen_fields())
        except PropertyDefinitionError as exc:  # a property was deleted meanwhile
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The create ticket form was saved."))
            return redirect("settings:create_form")
    return render_settings(
        request,
        "workspace/settings/create_form.html",
        section=SECTION,
        context={"form": form, "locked": locked},
        status=422 if form.is_bound else 200,
    )
