"""What a form can ask for, and the Django form a visitor fills in, built from a form's fields.

Every field has a limit on its length, so an oversized answer is a clear field error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from django.utils.translation import override

from svardesk.channels.forms.models import FieldKind, FormField
from svardesk.tickets import properties as props
from svardesk.tickets.models import Category, Priority, PropertyType

CUSTOM_PREFIX = "property_"
HONEYPOT = "homepage"  # hidden from people by CSS; a bot that fills every input fills it
TOKEN = "form_token"  # noqa: S105 (a field name)
LANG = "lang"
RESERVED = frozenset({HONEYPOT, TOKEN, LANG, "csrfmiddlewaretoken"})

TEXT_LIMIT = 1000
LONG_TEXT_LIMIT = 10_000
# Custom property types a public form may ask for ("user" would list the team's agents).
PUBLIC_TYPES = frozenset(
    {
        PropertyType.TEXT,
        PropertyType.TEXTAREA,
        PropertyType.NUMBER,
        PropertyType.DATE,
        PropertyType.DATETIME,
        PropertyType.SELECT,
        PropertyType.MULTISELECT,
        PropertyType.CHECKBOX,
    }
)


@dataclass(frozen=True)
class AvailableField:
    """A property the builder can add to a form."""

    key: str
    kind: str
    label: str
    property_name: str = ""
    group: str = ""


BUILTIN_KINDS = [
    FieldKind.EMAIL,
    FieldKind.NAME,
    FieldKind.FIRST_NAME,
    FieldKind.LAST_NAME,
    FieldKind.PHONE,
    FieldKind.COMPANY,
    FieldKind.SUBJECT,
    FieldKind.DESCRIPTION,
    FieldKind.CATEGORY,
    FieldKind.PRIORITY,
]


def custom_key(property_name: str) -> str:
    return f"{CUSTOM_PREFIX}{property_name}"


def available_fields() -> list[AvailableField]:
    """Contact properties, then the built-in ticket properties, then the custom ones."""
    contact_group, ticket_group = _("Contact"), _("Ticket")
    result = [
        AvailableField(
            key=str(kind),
            kind=str(kind),
            label=str(kind.label),
            group=contact_group if kind in _CONTACT else ticket_group,
        )
        for kind in BUILTIN_KINDS
    ]
    for spec in props.all_property_specs():
        if spec.is_builtin or spec.type not in PUBLIC_TYPES:
            continue
        result.append(
            AvailableField(
                key=custom_key(spec.name),
                kind=FieldKind.CUSTOM,
                label=spec.label,
                property_name=spec.name,
                group=spec.group or ticket_group,
            )
        )
    return result


_CONTACT = {
    FieldKind.EMAIL,
    FieldKind.NAME,
    FieldKind.FIRST_NAME,
    FieldKind.LAST_NAME,
    FieldKind.PHONE,
    FieldKind.COMPANY,
}


def default_label(field: FormField, language: str, spec: props.PropertySpec | None = None) -> str:
    """The field's label in `language`: the one typed in the builder, else the property's."""
    typed = field.label_sv if language == "sv" else field.label_en
    if typed:
        return typed
    other = field.label_en if language == "sv" else field.label_sv
    if field.kind == FieldKind.CUSTOM:
        return spec.label if spec else (other or field.property_name)
    with override(language):
        return str(FieldKind(field.kind).label)


def help_text(field: FormField, language: str) -> str:
    return (field.help_text_sv if language == "sv" else field.help_text_en) or ""


def _builtin_field(kind: str, **common: Any) -> forms.Field:
    if kind == FieldKind.EMAIL:
        return forms.EmailField(max_length=254, **common)
    if kind in (FieldKind.NAME, FieldKind.COMPANY):
        return forms.CharField(max_length=200, **common)
    if kind in (FieldKind.FIRST_NAME, FieldKind.LAST_NAME):
        return forms.CharField(max_length=150, **common)
    if kind == FieldKind.PHONE:
        return forms.CharField(max_length=50, **common)
    if kind == FieldKind.SUBJECT:
        return forms.CharField(max_length=255, **common)
    if kind == FieldKind.DESCRIPTION:
        return forms.CharField(
            max_length=LONG_TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 6}), **common
        )
    choices = Category.choices if kind == FieldKind.CATEGORY else Priority.choices
    return forms.ChoiceField(choices=[("", "—"), *choices], **common)


class SubmissionForm(forms.Form):
    """The visitor's form: one Django field per FormField, in the form's order."""

    def __init__(
        self,
        *args: Any,
        form_fields: Iterable[FormField],
        specs: dict[str, props.PropertySpec],
        language: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.form_fields = list(form_fields)
        self.specs = specs
        with override(language):
            for field in self.form_fields:
                built = self._build(field, specs.get(field.property_name), language)
                if built is not None:
                    self.fields[field.key] = built

    def _build(
        self, field: FormField, spec: props.PropertySpec | None, language: str
    ) -> forms.Field | None:
        common: dict[str, Any] = {
            "label": default_label(field, language, spec),
            "required": field.is_required,
            "help_text": help_text(field, language),
        }
        if field.kind != FieldKind.CUSTOM:
            built = _builtin_field(field.kind, **common)
        else:
            if spec is None or spec.type not in PUBLIC_TYPES:
                return None  # the property was deleted or changed type: the form skips it
            built = props.custom_form_field(spec, required=field.is_required)
            built.label = common["label"]
            built.help_text = common["help_text"] or spec.description
            if spec.type == PropertyType.TEXTAREA:
                built.validators.append(MaxLengthValidator(LONG_TEXT_LIMIT))
                built.widget.attrs["maxlength"] = str(LONG_TEXT_LIMIT)
            elif spec.type == PropertyType.TEXT:
                built.validators.append(MaxLengthValidator(TEXT_LIMIT))
        autocomplete = _AUTOCOMPLETE.get(field.kind)
        if autocomplete:
            built.widget.attrs["autocomplete"] = autocomplete
        if built.help_text:
            built.widget.attrs["aria-describedby"] = f"id_{field.key}_helptext"
        return built

    def full_clean(self) -> None:
        super().full_clean()
        self.describe_errors()

    def describe_errors(self) -> None:
        """Link each field with errors to its error text (aria-describedby)."""
        for name in self.errors:
            field = self.fields.get(name)
            if field is None:
                continue
            described = field.widget.attrs.get("aria-describedby", "")
            if "_error" not in described:
                field.widget.attrs["aria-describedby"] = f"{described} id_{name}_error".strip()

    def custom_values(self) -> dict[str, Any]:
        """The custom properties' answers in their plain form (errors added to the form)."""
        values: dict[str, Any] = {}
        for field in self.form_fields:
            if field.kind != FieldKind.CUSTOM or field.key not in self.cleaned_data:
                continue
            spec = self.specs.get(field.property_name)
            if spec is None:
                continue
            try:
                value = props.clean_custom_value(spec, self.cleaned_data[field.key])
            except props.PropertyValueError as exc:
                self.add_error(field.key, str(exc))
                continue
            if value is not None:
                values[spec.name] = value
        self.describe_errors()
        return values


_AUTOCOMPLETE: dict[str, str] = {
    FieldKind.EMAIL: "email",
    FieldKind.NAME: "name",
    FieldKind.FIRST_NAME: "given-name",
    FieldKind.LAST_NAME: "family-name",
    FieldKind.PHONE: "tel",
    FieldKind.COMPANY: "organization",
}


def specs_for(form_fields: Iterable[FormField]) -> dict[str, props.PropertySpec]:
    names = [f.property_name for f in form_fields if f.kind == FieldKind.CUSTOM]
    return props.specs_for_names(names) if names else {}
