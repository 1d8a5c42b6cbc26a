"""One description of every ticket property, built-in or custom.

The create form, the sidebar, in-place editing, the timeline (and later filters and the API)
all read properties through `PropertySpec`, so a custom property works wherever a built-in one
does. Values cross this module in their *plain* form: strings for text and option values,
numbers, booleans, ISO dates, lists for multi-select, primary keys for users, teams, stages.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from svardesk.core.local_cache import cached
from svardesk.core.parsing import parse_id
from svardesk.tickets.models import (
    Category,
    Pipeline,
    Priority,
    PropertyDefinition,
    PropertyType,
    Source,
    Stage,
)

if TYPE_CHECKING:
    from svardesk.tickets.models import Ticket

# PropertyDefinition.object_type of ticket properties.
TICKET_OBJECT = "ticket"

# Built-in kinds beyond the custom property types: references to other records.
PIPELINE = "pipeline"
STAGE = "stage"
TEAM = "team"
CONTACT = "contact"


@dataclass(frozen=True)
class PropertySpec:
    name: str
    label: str
    type: str
    is_builtin: bool
    group: str = ""
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    is_editable: bool = True
    description: str = ""

    @property
    def is_multiple(self) -> bool:
        return self.type == PropertyType.MULTISELECT


BUILTIN_GROUP = _("Ticket information")


# Built-in properties other apps contribute at start-up (the sla app's due times and
# statuses): model fields on Ticket, read like the other built-ins. Each factory returns its
# specs in the active language.
_contributed: list[Callable[[], list[PropertySpec]]] = []


def register_builtin_properties(
    names: Iterable[str], factory: Callable[[], list[PropertySpec]]
) -> None:
    """Add built-in properties (not editable, fields of Ticket named as the properties) from
    an app's `ready()`. Registering the same factory again does nothing."""
    global BUILTIN_NAMES  # extended once per app, at start-up
    if factory in _contributed:
        return
    _contributed.append(factory)
    BUILTIN_NAMES = BUILTIN_NAMES | frozenset(names)


def _builtin_specs() -> list[PropertySpec]:
    specs = _own_builtin_specs()
    for factory in _contributed:
        specs.extend(factory())
    return specs


def _own_builtin_specs() -> list[PropertySpec]:
    return [
        PropertySpec("name", str(_("Ticket name")), PropertyType.TEXT, True, str(BUILTIN_GROUP)),
        PropertySpec(
            "description",
            str(_("Ticket description")),
            PropertyType.TEXTAREA,
            True,
            str(BUILTIN_GROUP),
        ),
        PropertySpec("pipeline", str(_("Pipeline")), PIPELINE, True, str(BUILTIN_GROUP)),
        PropertySpec("stage", str(_("Ticket status")), STAGE, True, str(BUILTIN_GROUP)),
        PropertySpec(
            "priority",
            str(_("Priority")),
            PropertyType.SELECT,
            True,
            str(BUILTIN_GROUP),
            tuple((c.value, str(c.label)) for c in Priority),
        ),
        PropertySpec(
            "category",
            str(_("Category")),
            PropertyType.SELECT,
            True,
            str(BUILTIN_GROUP),
            tuple((c.value, str(c.label)) for c in Category),
        ),
        PropertySpec("owner", str(_("Ticket owner")), PropertyType.USER, True, str(BUILTIN_GROUP)),
        PropertySpec("team", str(_("Team")), TEAM, True, str(BUILTIN_GROUP)),
        PropertySpec("contact", str(_("Contact")), CONTACT, True, str(BUILTIN_GROUP)),
        PropertySpec(
            "source",
            str(_("Source")),
            PropertyType.SELECT,
            True,
            str(BUILTIN_GROUP),
            tuple((c.value, str(c.label)) for c in Source),
            is_editable=False,
        ),
        PropertySpec(
            "created_at",
            str(_("Create date")),
            PropertyType.DATETIME,
            True,
            str(BUILTIN_GROUP),
            is_editable=False,
        ),
        PropertySpec(
            "updated_at",
            str(_("Last modified date")),
            PropertyType.DATETIME,
            True,
            str(BUILTIN_GROUP),
            is_editable=False,
        ),
        PropertySpec(
            "closed_at",
            str(_("Close date")),
            PropertyType.DATETIME,
            True,
            str(BUILTIN_GROUP),
            is_editable=False,
        ),
        PropertySpec(
            "last_activity_at",
            str(_("Last activity date")),
            PropertyType.DATETIME,
            True,
            str(BUILTIN_GROUP),
            is_editable=False,
        ),
    ]


BUILTIN_NAMES = frozenset(
    ["name", "description", "pipeline", "stage", "priority", "category", "owner", "team",
     "contact", "source", "created_at", "updated_at", "closed_at", "last_activity_at", "id"]
)  # fmt: skip


def spec_for_definition(definition: PropertyDefinition) -> PropertySpec:
    return PropertySpec(
        name=definition.name,
        label=definition.label,
        type=definition.type,
        is_builtin=False,
        group=definition.group.label if definition.group else "",
        options=tuple((o["value"], o["label"]) for o in definition.options or []),
        description=definition.description,
    )


def all_property_specs() -> list[PropertySpec]:
    """Built-in properties first, then custom ones in their groups' order."""
    return list(builtin_specs()) + _custom_specs()


@functools.lru_cache(maxsize=64)
def _builtin_specs_in(language: str | None, _names: int) -> tuple[PropertySpec, ...]:
    # Every page reads all specs, and the built-in ones are the product's own: built once per
    # language (`_names` tells a later registration of built-in properties apart).
    with translation.override(language):
        return tuple(_builtin_specs())


def builtin_specs() -> tuple[PropertySpec, ...]:
    """The built-in properties' specs in the active language (built once per language)."""
    return _builtin_specs_in(translation.get_language(), len(BUILTIN_NAMES))


def _custom_specs() -> list[PropertySpec]:
    # Read by every list page and filter: kept per process for a few seconds
    # (core.local_cache, cleared when a definition or group is saved or deleted).
    return cached(
        "tickets:custom-property-specs",
        lambda: [
            spec_for_definition(d) for d in ticket_property_definitions().select_related("group")
        ],
    )


def ticket_property_definitions() -> QuerySet[PropertyDefinition]:
    """Custom properties of tickets (contacts', companies' and deals' share the table)."""
    return PropertyDefinition.objects.filter(object_type=TICKET_OBJECT)


def property_specs_by_name() -> dict[str, PropertySpec]:
    return {spec.name: spec for spec in all_property_specs()}


def specs_for_names(names: Iterable[str]) -> dict[str, PropertySpec]:
    """The specs of just these properties: built-in ones cost no query, custom ones one."""
    wanted = set(names)
    found = {spec.name: spec for spec in builtin_specs() if spec.name in wanted}
    custom = [name for name in wanted if name not in found]
    if custom:
        definitions = ticket_property_definitions().select_related("group").filter(name__in=custom)
        found.update((d.name, spec_for_definition(d)) for d in definitions)
    return found


def get_spec(name: str) -> PropertySpec | None:
    for spec in builtin_specs():
        if spec.name == name:
            return spec
    definition = ticket_property_definitions().select_related("group").filter(name=name).first()
    return spec_for_definition(definition) if definition else None


# --- Reading values -----------------------------------------------------------------------------


def plain_value(ticket: Ticket, spec: PropertySpec) -> Any:
    """The value in plain form: ids for references, option values, ISO strings for dates."""
    if not spec.is_builtin:
        return ticket.custom.get(spec.name)
    if spec.name in {"pipeline", "stage", "owner", "team", "contact"}:
        return getattr(ticket, f"{spec.name}_id")
    value = getattr(ticket, spec.name)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def display_value(spec: PropertySpec, value: Any) -> str:
    """How a plain value reads to a person, in the active language and time zone."""
    if value in (None, "", []):
        return ""
    if spec.type in (PropertyType.SELECT, PropertyType.MULTISELECT):
        labels = dict(spec.options)
        values = value if isinstance(value, list) else [value]
        return ", ".join(str(labels.get(v, v)) for v in values)
    if spec.type == PropertyType.CHECKBOX:
        return str(_("Yes")) if value else str(_("No"))
    # A custom value is JSON kept from when it was written: it can be of another type now,
    # or an impossible date. It then reads as it was stored.
    if spec.type == PropertyType.DATE:
        try:
            parsed_date = parse_date(str(value))
        except ValueError:
            parsed_date = None
        return date_format(parsed_date, "SHORT_DATE_FORMAT") if parsed_date else str(value)
    if spec.type == PropertyType.DATETIME:
        try:
            parsed = parse_datetime(str(value))
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            return str(value)
        return date_format(timezone.localtime(parsed), "SHORT_DATETIME_FORMAT")
    if spec.type in (PropertyType.USER, PIPELINE, STAGE, TEAM, CONTACT) and parse_id(value) is None:
        return str(_("Unknown user")) if spec.type == PropertyType.USER else str(value)
    if spec.type == PropertyType.USER:
        user = get_user_model().objects.filter(pk=value).first()
        return user.display_name if user else str(_("Unknown user"))
    if spec.type == PIPELINE:
        pipeline = Pipeline.objects.filter(pk=value).first()
        return pipeline.display_name if pipeline else str(value)
    if spec.type == STAGE:
        stage = Stage.objects.filter(pk=value).first()
        return stage.display_name if stage else str(value)
    if spec.type == TEAM:
        from svardesk.teams.models import Team

        team = Team.objects.filter(pk=value).first()
        return team.name if team else str(value)
    if spec.type == CONTACT:
        from svardesk.crm.models import Contact

        contact = Contact.objects.filter(pk=value).first()
        return contact.display_name if contact else str(value)
    return str(value)


# --- Turning form input into plain values -------------------------------------------------------


class PropertyValueError(ValueError):
    """A value does not fit its property's type; the message is shown next to the field."""


def clean_custom_value(spec: PropertySpec, raw: Any) -> Any:
    """Validate and normalise one custom value (from a form or, later, the API)."""
    if raw in (None, "", []):
        return None
    kind = spec.type
    if kind in (PropertyType.TEXT, PropertyType.TEXTAREA):
        return str(raw)
    if kind == PropertyType.NUMBER:
        try:
            number = Decimal(str(raw))
        except InvalidOperation as exc:
            raise PropertyValueError(_("Enter a number.")) from exc
        if not number.is_finite():
            raise PropertyValueError(_("Enter a number."))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == PropertyType.DATE:
        if isinstance(raw, dt.date):
            return raw.isoformat()
        parsed_date = parse_date(str(raw))
        if parsed_date is None:
            raise PropertyValueError(_("Enter a valid date."))
        return parsed_date.isoformat()
    if kind == PropertyType.DATETIME:
        parsed = raw if isinstance(raw, dt.datetime) else parse_datetime(str(raw))
        if parsed is None:
            raise PropertyValueError(_("Enter a valid date and time."))
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed.astimezone(dt.UTC).isoformat()
    if kind == PropertyType.CHECKBOX:
        if isinstance(raw, bool):
            return raw
        return str(raw).lower() in {"true", "1", "on", "yes"}
    allowed = {value for value, _label in spec.options}
    if kind == PropertyType.SELECT:
        if str(raw) not in allowed:
            raise PropertyValueError(_("Choose one of the listed options."))
        return str(raw)
    if kind == PropertyType.MULTISELECT:
        values = raw if isinstance(raw, list | tuple) else str(raw).split(";")
        chosen = [str(v) for v in values if str(v)]
        unknown = [v for v in chosen if v not in allowed]
        if unknown:
            raise PropertyValueError(_("Choose one of the listed options."))
        return [value for value, _label in spec.options if value in chosen]  # option order
    if kind == PropertyType.USER:
        user_id = getattr(raw, "pk", raw)
        if not get_user_model().objects.filter(pk=user_id, is_active=True).exists():
            raise PropertyValueError(_("Choose an existing user."))
        return int(user_id)
    raise PropertyValueError(_("Unknown property type."))


def custom_form_field(spec: PropertySpec, *, required: bool = False) -> forms.Field:
    """A Django form field for a custom property; its cleaned value goes to clean_custom_value."""
    common: dict[str, Any] = {
        "label": spec.label,
        "required": required,
        "help_text": spec.description,
    }
    kind = spec.type
    if kind == PropertyType.TEXT:
        return forms.CharField(max_length=1000, **common)
    if kind == PropertyType.TEXTAREA:
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == PropertyType.NUMBER:
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if kind == PropertyType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == PropertyType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), **common
        )
    if kind == PropertyType.CHECKBOX:
        return forms.BooleanField(**common)
    if kind == PropertyType.SELECT:
        return forms.ChoiceField(choices=[("", "—"), *spec.options], **common)
    if kind == PropertyType.MULTISELECT:
        return forms.MultipleChoiceField(
            choices=spec.options, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == PropertyType.USER:
        return forms.ModelChoiceField(
            queryset=get_user_model().objects.filter(is_active=True), **common
        )
    raise ValueError(f"No form field for property type {kind!r}")


def form_initial(spec: PropertySpec, value: Any) -> Any:
    """A plain value as a form field's initial value."""
    if value is None:
        return None
    if spec.type == PropertyType.DATETIME:
        parsed = parse_datetime(str(value))
        return timezone.localtime(parsed).strftime("%Y-%m-%dT%H:%M") if parsed else None
    return value
