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
from svardesk.tickets.queries import visible_companies, visible_contacts

# Owner fields keep a plain select up to this many users (a short list is quicker to scan
# than to search); above it they are a user search picker.
MAX_USERS_IN_SELECT = 30


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
        # Drawn as a search picker (records/picker), whatever the number of contacts; the
        # id it posts is checked against the contacts the user may see.
        return ContactField(queryset=Contact.objects.none(), **common)
    if name == "pipeline":
        return forms.ModelChoiceField(queryset=Pipeline.objects.all(), empty_label=None, **common)
    if name == "stage":
        return forms.ModelChoiceField(queryset=Stage.objects.all(), empty_label=None, **common)
    raise ValueError(f"No form field for built-in property {name!r}")


def form_field_for(spec: props.PropertySpec, *, required: bool = False) -> forms.Field:
    if spec.is_builtin:
        return builtin_form_field(spec, required=required)
    return props.custom_form_field(spec, required=required)


class ContactField(forms.ModelChoiceField):
    """A contact chosen with the search picker: an id among `queryset` (the contacts the
    user may see). Never rendered as a select: the template draws the picker."""

    widget = forms.HiddenInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": _("Choose an existing contact.")})
        super().__init__(*args, **kwargs)


class ContactCompanyField(ContactField):
    """A company chosen with the search picker beside the contact."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": _("Choose an existing company.")})
        super().__init__(*args, **kwargs)


class NewContactForm(forms.Form):
    """A contact created with the ticket (the Create ticket panel): a name and an email."""

    name = SingleLineField(label=_("Name"), required=False, max_length=300)
    email = forms.EmailField(label=_("Email"), required=False)

    def is_filled(self) -> bool:
        return bool(self.data.get(self.add_prefix("name"), "").strip()) or bool(
            self.data.get(self.add_prefix("email"), "").strip()
        )


class NewCompanyForm(forms.Form):
    """A company created with the ticket: a name and a domain."""

    name = SingleLineField(label=_("Company name"), required=False, max_length=200)
    domain = forms.CharField(label=_("Company domain name"), required=False, max_length=253)

    def is_filled(self) -> bool:
        return bool(self.data.get(self.add_prefix("name"), "").strip()) or bool(
            self.data.get(self.add_prefix("domain"), "").strip()
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_filled() and not data.get("name"):
            self.add_error("name", _("Give the company a name."))
        return data


class TicketCreateForm(forms.Form):
    """Name, pipeline and status always; then the fields the "Edit this form" setting lists.
    The contact field takes only contacts `actor` may see (`visible_contacts`); beside it,
    a company may be picked, and either may be created with the ticket (`new_contact`,
    `new_company`: a name and an email, a name and a domain)."""

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
            # A required contact may also be a new one: checked in is_valid.
            required = configured.is_required and spec.name != "contact"
            self.fields[spec.name] = form_field_for(spec, required=required)
            if spec.name == "contact":
                self.fields["contact"].queryset = contacts  # type: ignore[attr-defined]
                self.contact_required = configured.is_required
                self.fields["company"] = ContactCompanyField(
                    queryset=visible_companies(actor), required=False, label=_("Company")
                )
            self.optional_names.append(spec.name)
        self.specs = specs
        # The owner and user properties: a search picker when there are many users.
        self.user_fields = [
            name for name in self.optional_names if specs[name].type == props.PropertyType.USER
        ]
        data = self.data if self.is_bound else None
        self.new_contact = NewContactForm(data, prefix="new_contact")
        self.new_company = NewCompanyForm(data, prefix="new_company")

    contact_required = False

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if "contact" not in self.fields:
            return valid
        new_valid = all([self.new_contact.is_valid(), self.new_company.is_valid()])
        picked = self.cleaned_data.get("contact") if valid else None
        if valid and self.contact_required and picked is None and not self.new_contact.is_filled():
            self.add_error("contact", _("Choose a contact or create one."))
            return False
        return valid and new_valid

    def creates_contact(self) -> bool:
        """A new contact is made with the ticket: none was picked and its fields were filled."""
        return (
            "contact" in self.fields
            and not self.cleaned_data.get("contact")
            and self.new_contact.is_filled()
        )

    def creates_company(self) -> bool:
        return (
            "contact" in self.fields
            and not self.cleaned_data.get("company")
            and self.new_company.is_filled()
        )

    def custom_values(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data.get(name)
            for name in self.optional_names
            if not self.specs[name].is_builtin
        }

    def add_panel_error(self, field: str, message: str) -> None:
        """A service's field error, on the field it names (`new_contact-email`, …)."""
        prefix, _sep, name = field.partition("-")
        subform = {"new_contact": self.new_contact, "new_company": self.new_company}.get(prefix)
        if subform is not None and name in subform.fields:
            subform.add_error(name, message)
        else:
            self.add_error(field if field in self.fields else None, message)

    def picker_state(self) -> dict[str, Any]:
        """What the contact and company pickers show again when the form comes back with
        errors: the picked record's id and name, and whether the new-record fields open."""
        state: dict[str, Any] = {}
        cleaned = getattr(self, "cleaned_data", {})
        for name in ("contact", "company"):
            record = cleaned.get(name)
            state[f"{name}_value"] = record.pk if record is not None else None
            state[f"{name}_label"] = str(record) if record is not None else ""
        for name in self.user_fields:  # read by the template as field.field.picked
            user = cleaned.get(name)
            self.fields[name].picked = (user.pk, user.display_name) if user else (None, "")  # type: ignore[attr-defined]
        state["new_contact_open"] = self.is_bound and self.new_contact.is_filled()
        state["new_company_open"] = self.is_bound and self.new_company.is_filled()
        return state


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
            field.queryset = visible_contacts(actor)  # type: ignore[attr-defined]
        self.fields["value"] = field

    def plain_value(self) -> Any:
        value = self.cleaned_data.get("value")
        if self.spec.type == props.PropertyType.CHECKBOX:
            return bool(value)
        return getattr(value, "pk", value)
