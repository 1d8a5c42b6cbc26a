"""The properties a CSV column can fill, per record type, and how a header finds its property.

A header names a property by its internal name (HubSpot's: `email`, `firstname`, `subject`,
`hs_pipeline_stage`, …, or one of a few common spellings such as `first name`), or by its
label in English or Swedish; custom properties by their internal name or label. Values are
checked here, cell by cell, into the plain form the writers store; a bad value raises
`CellError` with a message for the error CSV.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from svardesk.tickets import properties as ticket_props
from svardesk.tickets.models import Category, Priority, PropertyDefinition, PropertyType

# Object types as PropertyDefinition.object_type spells them.
OBJECT_OF = {"contacts": "contact", "companies": "company", "tickets": "ticket"}

# Field kinds beyond the custom property types.
EMAIL, EMAILS, PHONE, DOMAIN, LANGUAGE, OWNER, PIPELINE, STAGE, EXTERNAL_ID = (
    "email",
    "emails",
    "phone",
    "domain",
    "language",
    "owner",
    "pipeline",
    "stage",
    "external_id",
)
TEXT = PropertyType.TEXT.value


class CellError(ValueError):
    """A cell's value does not fit its property; the message goes to the error CSV."""


@dataclass(frozen=True)
class ImportField:
    """A property a column can fill. `name` is the internal name; `kind` says how a cell is
    read; custom properties carry their spec."""

    name: str
    label: Promise | str
    kind: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int | None = None
    spec: ticket_props.PropertySpec | None = None

    @property
    def is_custom(self) -> bool:
        return self.spec is not None


def _contact_fields() -> list[ImportField]:
    return [
        ImportField("email", gettext_lazy("Email"), EMAIL, aliases=("e-mail", "email address")),
        ImportField(
            "hs_additional_emails",
            gettext_lazy("Additional email addresses"),
            EMAILS,
            aliases=("additional emails",),
        ),
        ImportField(
            "firstname", gettext_lazy("First name"), TEXT, aliases=("first name",), max_length=150
        ),
        ImportField(
            "lastname", gettext_lazy("Last name"), TEXT, aliases=("last name",), max_length=150
        ),
        ImportField("phone", gettext_lazy("Phone number"), PHONE, aliases=("phone number",)),
        ImportField(
            "mobilephone",
            gettext_lazy("Mobile phone number"),
            PHONE,
            aliases=("mobile", "mobile phone", "mobile phone number"),
        ),
        ImportField(
            "company", gettext_lazy("Company name"), TEXT, aliases=("company name",), max_length=200
        ),
        ImportField("hs_language", gettext_lazy("Preferred language"), LANGUAGE),
        ImportField("hubspot_owner_id", gettext_lazy("Contact owner"), OWNER, aliases=("owner",)),
        ImportField(
            "external_id",
            gettext_lazy("External ID"),
            EXTERNAL_ID,
            aliases=("hs_object_id", "record id", "id"),
        ),
    ]


def _company_fields() -> list[ImportField]:
    return [
        ImportField(
            "name",
            gettext_lazy("Company name"),
            TEXT,
            required=True,
            aliases=("company", "company name"),
            max_length=200,
        ),
        ImportField(
            "domain",
            gettext_lazy("Company domain name"),
            DOMAIN,
            aliases=("website", "website url", "company domain"),
        ),
        ImportField("phone", gettext_lazy("Phone number"), PHONE, aliases=("phone number",)),
        ImportField(
            "address",
            gettext_lazy("Street address"),
            TEXT,
            aliases=("street address",),
            max_length=200,
        ),
        ImportField("city", gettext_lazy("City"), TEXT, max_length=100),
        ImportField(
            "zip", gettext_lazy("Postal code"), TEXT, aliases=("postal code",), max_length=20
        ),
        ImportField(
            "country", gettext_lazy("Country/Region"), TEXT, aliases=("country",), max_length=100
        ),
        ImportField("industry", gettext_lazy("Industry"), TEXT, max_length=100),
        ImportField("hubspot_owner_id", gettext_lazy("Company owner"), OWNER, aliases=("owner",)),
        ImportField(
            "external_id",
            gettext_lazy("External ID"),
            EXTERNAL_ID,
            aliases=("hs_object_id", "record id", "id"),
        ),
    ]


def _ticket_fields() -> list[ImportField]:
    return [
        ImportField(
            "subject",
            gettext_lazy("Ticket name"),
            TEXT,
            required=True,
            aliases=("name", "ticket name"),
            max_length=255,
        ),
        ImportField(
            "content",
            gettext_lazy("Ticket description"),
            PropertyType.TEXTAREA.value,
            aliases=("description", "ticket description"),
        ),
        ImportField("hs_pipeline", gettext_lazy("Pipeline"), PIPELINE, aliases=("pipeline",)),
        ImportField(
            "hs_pipeline_stage",
            gettext_lazy("Ticket status"),
            STAGE,
            aliases=("status", "stage", "ticket status"),
        ),
        ImportField(
            "hs_ticket_priority",
            gettext_lazy("Priority"),
            PropertyType.SELECT.value,
            aliases=("priority",),
        ),
        ImportField(
            "hs_ticket_category",
            gettext_lazy("Category"),
            PropertyType.SELECT.value,
            aliases=("category",),
        ),
        ImportField("hubspot_owner_id", gettext_lazy("Ticket owner"), OWNER, aliases=("owner",)),
        ImportField(
            "contact_email",
            gettext_lazy("Contact email"),
            EMAIL,
            aliases=("email", "contact e-mail"),
        ),
        ImportField(
            "external_id",
            gettext_lazy("External ID"),
            EXTERNAL_ID,
            aliases=("hs_object_id", "ticket id", "record id", "id"),
        ),
    ]


BUILTIN_FIELDS: dict[str, Callable[[], list[ImportField]]] = {
    "contacts": _contact_fields,
    "companies": _company_fields,
    "tickets": _ticket_fields,
}

# Built-in select options a cell may give by value or by label.
SELECT_CHOICES: dict[str, type[Any]] = {
    "hs_ticket_priority": Priority,
    "hs_ticket_category": Category,
}


def fields_for(object_type: str) -> list[ImportField]:
    """The built-in fields of the record type, then its custom properties."""
    fields = BUILTIN_FIELDS[object_type]()
    taken = {f.name for f in fields}
    definitions = PropertyDefinition.objects.filter(
        object_type=OBJECT_OF[object_type]
    ).select_related("group")
    for definition in definitions:
        if definition.name in taken:
            continue
        spec = ticket_props.spec_for_definition(definition)
        fields.append(ImportField(definition.name, definition.label, spec.type, spec=spec))
    return fields


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())


def header_index(fields: Iterable[ImportField]) -> dict[str, str]:
    """Every spelling of a header that names a field → the field's internal name: internal
    names first, then aliases, then labels in English and Swedish (an earlier spelling wins)."""
    fields = list(fields)
    index: dict[str, str] = {}

    def add(text: str, name: str) -> None:
        index.setdefault(_key(text), name)

    for field in fields:
        add(field.name, field.name)
    for field in fields:
        for alias in field.aliases:
            add(alias, field.name)
    for language in ("en", "sv"):
        with translation.override(language):
            for field in fields:
                add(str(field.label), field.name)
    return index


def match_headers(headers: list[str], fields: Iterable[ImportField]) -> list[str]:
    """The property each header names ("" for none), each property at most once."""
    index = header_index(fields)
    used: set[str] = set()
    mapping: list[str] = []
    for header in headers:
        name = index.get(_key(header), "")
        if name in used:
            name = ""
        if name:
            used.add(name)
        mapping.append(name)
    return mapping


# --- Reading cells ---------------------------------------------------------------------------


@dataclass
class CellContext:
    """What reading a cell needs beyond the cell: looked up once per job."""

    phone_region: str
    users: dict[str, int]  # str(id) and lower-case email of every active user → id
    pipelines: dict[str, Any]  # str(id) and lower-case name → Pipeline
    stages: dict[int, dict[str, Any]]  # pipeline id → (str(id) / lower-case name → Stage)
    default_pipeline: Any = None


def clean_cell(field: ImportField, raw: str, context: CellContext) -> Any:
    """The plain value of one non-empty cell, or CellError."""
    value = raw.strip()
    kind = field.kind
    if field.spec is not None:
        return _clean_custom(field.spec, value)
    if kind == TEXT or kind == PropertyType.TEXTAREA:
        if field.max_length and len(value) > field.max_length:
            raise CellError(_("Use at most %(count)d characters.") % {"count": field.max_length})
        return value
    if kind == EMAIL:
        return _clean_email(value)
    if kind == EMAILS:
        return [_clean_email(part) for part in re.split(r"[;,\s]+", value) if part]
    if kind == PHONE:
        is_valid, result = _phone(value, context.phone_region, translation.get_language())
        if not is_valid:
            raise CellError(result)
        return result
    if kind == DOMAIN:
        return _clean_domain(value)
    if kind == LANGUAGE:
        if not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,6})?", value):
            raise CellError(_("Enter a language code such as “sv” or “en-GB”."))
        return value.replace("_", "-").lower()
    if kind == OWNER:
        user_id = context.users.get(value.lower())
        if user_id is None:
            raise CellError(_("No active user has this id or email address."))
        return user_id
    if kind == EXTERNAL_ID:
        if len(value) > 100:
            raise CellError(_("Use at most %(count)d characters.") % {"count": 100})
        return value
    if kind == PIPELINE:
        pipeline = context.pipelines.get(value.lower())
        if pipeline is None:
            raise CellError(_("No pipeline has this id or name."))
        return pipeline
    if kind == STAGE:
        return value  # read with the row's pipeline (see tickets writer)
    if kind == PropertyType.SELECT and field.name in SELECT_CHOICES:
        return _clean_choice(SELECT_CHOICES[field.name], value)
    raise CellError(_("Unknown property type."))


@functools.lru_cache(maxsize=4096)
def _phone(value: str, region: str, _language: str | None) -> tuple[bool, str]:
    """(True, E.164) or (False, why): a file repeats numbers (a switchboard's for every
    contact of a company), and parsing one is the dearest check of a row."""
    from svardesk.crm.phones import PhoneNumberError, normalise

    try:
        return True, normalise(value, region)
    except PhoneNumberError as error:
        return False, str(error)


def _clean_email(value: str) -> str:
    try:
        validate_email(value)
    except ValidationError as error:
        raise CellError(
            _("“%(value)s” is not a valid email address.") % {"value": value}
        ) from error
    return value


def _clean_domain(value: str) -> str:
    from svardesk.crm.services import normalise_domain  # the crm's own rule

    try:
        return normalise_domain(value)
    except ValueError as error:
        raise CellError(str(error)) from error


def _clean_choice(choices: Any, value: str) -> str:
    wanted = value.strip()
    for choice in choices:
        if wanted.upper() == choice.value or _key(wanted) == _key(str(choice.label)):
            return str(choice.value)
        with translation.override("sv"):
            if _key(wanted) == _key(str(choice.label)):
                return str(choice.value)
    raise CellError(_("Choose one of the listed options."))


def _clean_custom(spec: ticket_props.PropertySpec, value: str) -> Any:
    kind = spec.type
    try:
        if kind == PropertyType.NUMBER:
            return ticket_props.clean_custom_value(spec, _number_text(value))
        if kind == PropertyType.DATE:
            return ticket_props.clean_custom_value(spec, _date_text(value))
        if kind == PropertyType.DATETIME:
            parsed = parse_datetime(value) or _date_as_datetime(value)
            if parsed is None:
                raise CellError(_("Enter a valid date and time."))
            return ticket_props.clean_custom_value(spec, parsed)
        if kind == PropertyType.CHECKBOX:
            return _checkbox(value)
        if kind in (PropertyType.SELECT, PropertyType.MULTISELECT):
            return ticket_props.clean_custom_value(spec, _options_by_label(spec, value))
        if kind == PropertyType.USER:
            return ticket_props.clean_custom_value(spec, value)
        return ticket_props.clean_custom_value(spec, value)
    except ticket_props.PropertyValueError as error:
        raise CellError(str(error)) from error
    except (ValueError, OverflowError) as error:  # an impossible date, a huge number
        raise CellError(_("Enter a valid value.")) from error


def _number_text(value: str) -> str:
    # "1 234,50" (Swedish Excel) and "1,234.50" both read as 1234.5.
    text = value.replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(",", "")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    try:
        Decimal(text)
    except InvalidOperation as error:
        raise CellError(_("Enter a number.")) from error
    return text


def _date_text(value: str) -> str:
    parsed = parse_date(value)
    if parsed is None:
        with_time = parse_datetime(value)
        if with_time is None:
            raise CellError(_("Enter a valid date (YYYY-MM-DD)."))
        parsed = with_time.date()
    return parsed.isoformat()


def _date_as_datetime(value: str) -> dt.datetime | None:
    parsed = parse_date(value)
    return dt.datetime.combine(parsed, dt.time()) if parsed else None


_TRUE = {"true", "yes", "1", "ja", "sant", "y", "x"}
_FALSE = {"false", "no", "0", "nej", "falskt", "n"}


def _checkbox(value: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(_("Enter yes or no."))


def _options_by_label(spec: ticket_props.PropertySpec, value: str) -> str | list[str]:
    by_label = {_key(label): option for option, label in spec.options}
    values = {option for option, _label in spec.options}

    def one(text: str) -> str:
        text = text.strip()
        if text in values:
            return text
        return by_label.get(_key(text), text)

    if spec.type == PropertyType.MULTISELECT:
        return [one(part) for part in value.split(";") if part.strip()]
    return one(value)
