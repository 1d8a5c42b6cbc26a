"""Forms for creating and editing tickets, built from the property registry so custom
properties appear wherever built-in ones do."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from svardesk.accounts.models import User
from svardesk.core.text import single_line
from svardesk.crm.models import Contact
from svardesk.teams.models import Team
from svardesk.tickets import properties as props
from svardesk.tickets.models import Category, CreateFormField, Pipeline, Priority, Stage
from svardesk.tickets.queries import visible_contacts

# Without the CRM's search picker a select of more contacts than this is unusable.
MAX_LISTED_CONTACTS = 500


def assignable_users() -> Any:
    return get_user_model().objects.filter(Q(has_seat=True) | Q(is_superuser=True), is_active=True)


class SingleLineField(forms.CharField):
    """Text on one line: line breaks and other control characters become a space (a ticket
    name is the subject of every reply, where a line break would fail the sending)."""

    def to_python(self, value: Any) -> str:
        return single_line(super().to_python(value) or "")


def builtin_form_field(spec: props.PropertySpec, *, required: bool = False) -> forms.Field:
    common: dict[str, Any] = {"label": spec.label, "required": required}
    name = spec.name
    if name == "name":
        return SingleLineField(max_length=255, **common)
    if name == "description":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if name == "priority":
        return forms.ChoiceField(choices=[("", "—"), *Priority.choices], **common)
    if name == "category":
        return forms.ChoiceField(choices=[("", "—"), *Category.choices], **common)
    if name == "owner":
        return forms.ModelChoiceField(
            queryset=assignable_users(), empty_label=_("Unassigned"), **common
        )
    if name == "team":
        return forms.ModelChoiceField(queryset=Team.objects.all(), **common)
    if name == "contact":
        # A number input keeps the form light with 200,000 contacts; a search picker comes
        # with the CRM.
        return forms.ModelChoiceField(
            queryset=Contact.objects.all(),
            widget=forms.Select(),
            **common,
        )
    if name == "pipeline":
        return forms.ModelChoiceField(queryset=Pipeline.objects.all(), empty_label=None, **common)
    if name == "stage":
        return forms.ModelChoiceField(queryset=Stage.objects.all(), empty_label=None, **common)
    raise ValueError(f"No form field for built-in property {name!r}")


def form_field_for(spec: props.PropertySpec, *, required: bool = False) -> forms.Field:
    if spec.is_builtin:
        return builtin_form_field(spec, required=required)
    return props.custom_form_field(spec, required=required)


def _too_many_to_list(contacts: Any) -> bool:
    # Unordered, the database stops at the first rows found (sorted by name, a team-scoped
    # agent's count joined all their tickets first: 154 -> 4 ms at 300,000 tickets).
    return bool(contacts.order_by()[: MAX_LISTED_CONTACTS + 1].count() > MAX_LISTED_CONTACTS)


class TicketCreateForm(forms.Form):
    """Name, pipeline and status always; then the fields the "Edit this form" setting lists.
    The contact field offers only contacts `actor` may see (`visible_contacts`)."""

    def __init__(
        self, *args: Any, actor: User, pipeline: Pipeline | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        contacts = visible_contacts(actor)
        specs = props.property_specs_by_name()
        self.fields["name"] = builtin_form_field(specs["name"], required=True)
        self.fields["pipeline"] = builtin_form_field(specs["pipeline"], required=True)
        stage_field = builtin_form_field(specs["stage"], required=True)
        chosen_pipeline = pipeline or Pipeline.objects.first()
        if self.is_bound and self.data.get("pipeline"):
            chosen_pipeline = (
                Pipeline.objects.filter(pk=str(self.data.get("pipeline"))).first()
                or chosen_pipeline
            )
        stage_field.queryset = Stage.objects.filter(pipeline=chosen_pipeline)  # type: ignore[attr-defined]
        self.fields["stage"] = stage_field
        self.fields["pipeline"].initial = chosen_pipeline
        self.optional_names: list[str] = []
        for configured in CreateFormField.objects.order_by("display_order", "id"):
            spec = specs.get(configured.property_name)
            if spec is None or not spec.is_editable or configured.property_name in self.fields:
                continue
            if configured.property_name == "contact" and _too_many_to_list(contacts):
                continue  # Without the CRM's picker a 200,000-row select is unusable.
            self.fields[spec.name] = form_field_for(spec, required=configured.is_required)
            if spec.name == "contact":
                self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
            self.optional_names.append(spec.name)
        self.specs = specs

    def custom_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in self.optional_names
            if not self.specs[name].is_builtin
        }


MISSING_VERSION = _(
    "This edit does not say which version of the ticket it was made on, so it was not saved. "
    "Reload the ticket and make the change again."
)


class PropertyEditForm(forms.Form):
    """One property of one ticket, edited in place; `version` detects stale edits. A contact
    is chosen among those `actor` may see (the service checks a typed-in id the same way)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={"required": MISSING_VERSION, "invalid": MISSING_VERSION},
    )

    def __init__(
        self,
        *args: Any,
        spec: props.PropertySpec,
        actor: User,
        ticket: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        field = form_field_for(spec, required=spec.name == "name")
        if spec.name == "stage" and ticket is not None:
            field.queryset = Stage.objects.filter(pipeline_id=ticket.pipeline_id)  # type: ignore[attr-defined]
        if spec.name == "contact":
            contacts = visible_contacts(actor)
            if _too_many_to_list(contacts):
                field = forms.IntegerField(label=spec.label, required=False, min_value=1)
            else:
                field.queryset = contacts  # type: ignore[attr-defined]
        self.fields["value"] = field

    def plain_value(self) -> Any:
        value = self.cleaned_data.get("value")
        if self.spec.type == props.PropertyType.CHECKBOX:
            return bool(value)
        return getattr(value, "pk", value)
