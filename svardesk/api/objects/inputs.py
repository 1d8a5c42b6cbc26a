"""API property values in, service arguments out: HubSpot's names and strings become the plain
values the services take, and every problem becomes HubSpot's error (`PROPERTY_DOESNT_EXIST`
for an unknown name, `VALIDATION_ERROR` with one `INVALID_OPTION` / `READ_ONLY_VALUE` / …
entry per property)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from svardesk.api import names
from svardesk.api.errors import ApiError, property_doesnt_exist, validation_error
from svardesk.api.objects.serialize import COMPANIES, CONTACTS, DEALS, SINGULAR
from svardesk.core.parsing import parse_id
from svardesk.records import properties as record_props
from svardesk.tickets import properties as ticket_props
from svardesk.tickets.models import Category, Priority, PropertyType

INVALID_OPTION = "INVALID_OPTION"
READ_ONLY_VALUE = "READ_ONLY_VALUE"
INVALID_INTEGER = "INVALID_INTEGER"
INVALID_DATE = "INVALID_DATE"
INVALID_BOOLEAN = "INVALID_BOOLEAN"
INVALID_VALUE = "INVALID_VALUE"
REQUIRED = "REQUIRED"
# Ticket.name's column.
SUBJECT_MAX_LENGTH = 255

# A contact's, company's or deal's built-in property → the crm service's keyword.
RECORD_KWARGS: dict[str, dict[str, str]] = {
    CONTACTS: {
        "firstname": "first_name",
        "lastname": "last_name",
        "email": "emails",
        "phone": "phones",
        "mobilephone": "mobile_phones",
        "company": "company_id",
        "hs_language": "language",
        "hubspot_owner_id": "owner_id",
    },
    COMPANIES: {
        "name": "name",
        "domain": "domain",
        "phone": "phone",
        "address": "street_address",
        "city": "city",
        "zip": "postal_code",
        "country": "country",
        "industry": "industry",
        "hubspot_owner_id": "owner_id",
    },
    DEALS: {
        "dealname": "name",
        "amount": "amount",
        "deal_currency_code": "currency",
        "dealstage": "stage",
        "pipeline": "pipeline",
        "closedate": "close_date",
        "hubspot_owner_id": "owner_id",
    },
}
# Service keywords (and the error keys the services use) → the API's property name.
_KWARG_NAMES: dict[str, dict[str, str]] = {
    object_type: {kwarg: name for name, kwarg in kwargs.items()}
    | {"email": "email", "mobile_phone": "mobilephone", "company_name": "company"}
    for object_type, kwargs in RECORD_KWARGS.items()
}


@dataclass
class Problem:
    """One property's problem, as HubSpot lists it."""

    name: str
    code: str
    message: str


@dataclass
class Problems:
    items: list[Problem] = field(default_factory=list)

    def add(self, name: str, code: str, message: str) -> None:
        self.items.append(Problem(name, code, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise property_errors(self.items)


def property_errors(problems: list[Problem]) -> ApiError:
    """400 VALIDATION_ERROR in HubSpot's words: `Property values were not valid: [...]`."""
    detail = [
        {
            "isValid": False,
            "message": p.message,
            "error": p.code,
            "name": p.name,
            "localizedErrorMessage": p.message,
        }
        for p in problems
    ]
    return validation_error(
        "Property values were not valid: " + json.dumps(detail, ensure_ascii=False),
        context={"propertyName": [p.name for p in problems]},
        errors=[
            {"message": p.message, "code": p.code, "context": {"propertyName": [p.name]}}
            for p in problems
        ],
    )


def properties_object(raw: Any, what: str = "properties") -> dict[str, Any]:
    """The `properties` of an input: a JSON object of names to strings, numbers, booleans or
    null (HubSpot reads a missing one as empty)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise validation_error(f"{what} must be an object of property names to values.")
    for name, value in raw.items():
        if value is not None and not isinstance(value, str | int | float | bool):
            raise validation_error(f"The value of {name} must be a string, number or boolean.")
        if not storable_text(name) or (isinstance(value, str) and not storable_text(value)):
            raise validation_error(
                "Property names and values must be text without NUL characters or lone surrogates."
            )
    return raw


def storable_text(text: str) -> bool:
    """Whether a database stores `text` as given: no NUL, and valid UTF-8 (JSON may carry a
    lone surrogate, which no column takes)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _code_for(kind: str) -> str:
    if kind in (PropertyType.NUMBER,):
        return INVALID_INTEGER
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        return INVALID_DATE
    if kind == PropertyType.CHECKBOX:
        return INVALID_BOOLEAN
    if kind in (PropertyType.SELECT, PropertyType.MULTISELECT, PropertyType.USER):
        return INVALID_OPTION
    return INVALID_VALUE


def _invalid_message(name: str, raw: Any, kind: str, options: Any = ()) -> str:
    if options:
        allowed = ", ".join(str(value) for value, _label in options)
        return f"{raw} was not one of the allowed options: [{allowed}]"
    if kind == PropertyType.NUMBER:
        return f"{raw} is not a valid number for {name}"
    if kind in (PropertyType.DATE, PropertyType.DATETIME):
        return f"{raw} is not a valid date for {name}"
    return f"{raw} is not a valid value for {name}"


def _custom_value(
    spec: ticket_props.PropertySpec, raw: Any, problems: Problems, name: str
) -> tuple[bool, Any]:
    """A custom property's cleaned plain value (None clears it); (False, None) if invalid."""
    try:
        plain = names.from_api(spec.type, raw)
        if spec.type == PropertyType.DATE and isinstance(plain, str) and "T" in plain:
            plain = plain[:10]  # an ISO date-time names its day
        if spec.type == PropertyType.DATETIME and isinstance(plain, str):
            plain = _utc_if_naive(plain)
        return True, ticket_props.clean_custom_value(spec, plain)
    except (ValueError, ticket_props.PropertyValueError):
        problems.add(
            name, _code_for(spec.type), _invalid_message(name, raw, spec.type, spec.options)
        )
        return False, None


def _utc_if_naive(text: str) -> str:
    """A date-time without an offset (or a bare date, its midnight) is UTC, as HubSpot reads
    it — not the server's zone."""
    moment = parse_datetime(text)
    if moment is None:
        day = parse_date(text)
        if day is None:
            return text
        moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


# --- Tickets ------------------------------------------------------------------------------------


def ticket_changes(
    properties: Mapping[str, Any], *, builtin_pipeline: int | None
) -> dict[str, Any]:
    """Ticket properties (HubSpot names) as `update_ticket` changes (Svardesk names, plain
    values; None clears). An unknown name is PROPERTY_DOESNT_EXIST; read-only ones and values
    that cannot be the property's are listed in one VALIDATION_ERROR."""
    specs = {spec.name: spec for spec in ticket_props.all_property_specs()}
    problems = Problems()
    changes: dict[str, Any] = {}
    for name, raw in properties.items():
        own = names.TICKET_NAMES.get(name)
        if own is None and name not in names.TICKET_COMPUTED:
            spec = specs.get(name)
            if spec is None or spec.is_builtin:
                raise property_doesnt_exist(name)
            ok, value = _custom_value(spec, raw, problems, name)
            if ok:
                changes[name] = value
            continue
        if name in names.TICKET_READ_ONLY or own is None:
            problems.add(name, READ_ONLY_VALUE, f"{name} is a read only property")
            continue
        spec = specs.get(own)
        kind = spec.type if spec else ""
        try:
            value = names.from_api(kind, raw, name=own, builtin_pipeline=builtin_pipeline)
        except ValueError:
            problems.add(name, INVALID_OPTION, f"{raw} is not a valid {name}")
            continue
        if own in ("priority", "category"):
            allowed = Priority.values if own == "priority" else Category.values
            value = value or ""
            if value and value not in allowed:
                problems.add(
                    name,
                    INVALID_OPTION,
                    f"{raw} was not one of the allowed options: [{', '.join(allowed)}]",
                )
                continue
        elif own in ("name", "description"):
            value = "" if value is None else str(value)
            if own == "name" and len(value.strip()) > SUBJECT_MAX_LENGTH:
                problems.add(
                    name, INVALID_VALUE, f"{name} is longer than {SUBJECT_MAX_LENGTH} characters"
                )
                continue
        changes[own] = value
    problems.raise_if_any()
    return changes


def api_ticket_name(own: str) -> str:
    """A Svardesk ticket property (as a service's error names it) in the API's words."""
    return names.SVARDESK_TICKET_NAMES.get(own, own)


# --- Contacts, companies, deals -----------------------------------------------------------------


def record_changes(object_type: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    """Contact, company or deal properties as the crm service's keywords. `email`, `phone`
    and `mobilephone` arrive as single values under `emails`, `phones`, `mobile_phones` (the
    caller merges them into the record's lists); custom values under `custom` (cleaned
    against the registry, None removes one)."""
    singular = SINGULAR[object_type]
    specs = record_props.specs_by_name(singular)
    kwargs_of = RECORD_KWARGS[object_type]
    problems = Problems()
    changes: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, raw in properties.items():
        spec = specs.get(name)
        if spec is None:
            raise property_doesnt_exist(name)
        if not spec.is_builtin:
            ok, value = _custom_value(spec, raw, problems, name)
            if ok:
                custom[name] = value
            continue
        kwarg = kwargs_of.get(name)
        if kwarg is None:
            problems.add(name, READ_ONLY_VALUE, f"{name} is a read only property")
            continue
        if object_type == CONTACTS and name == "company" and parse_id(raw) is None and raw:
            # HubSpot's contact `company` is the company's name as text: kept as what the
            # customer wrote (the record is chosen by id).
            changes["company_name"] = str(raw)
            continue
        try:
            value = _record_value(spec, raw)
        except ValueError:
            problems.add(
                name, _code_for(spec.type), _invalid_message(name, raw, spec.type, spec.options)
            )
            continue
        if spec.options and value not in (None, "") and value not in dict(spec.options):
            problems.add(name, INVALID_OPTION, _invalid_message(name, raw, spec.type, spec.options))
            continue
        changes[kwarg] = value
    problems.raise_if_any()
    if custom:
        changes["custom"] = custom
    return changes


def _record_value(spec: ticket_props.PropertySpec, raw: Any) -> Any:
    if spec.name == "amount":
        # Decimal from the text itself: a float would round 0.1 + 0.2.
        text = "" if raw is None else str(raw).strip()
        if text == "":
            return None
        names.from_api(PropertyType.NUMBER, text)  # ValueError unless a number
        return text
    value = names.from_api(spec.type, raw)
    if spec.type == PropertyType.DATE and isinstance(value, str) and "T" in value:
        value = value[:10]
    if spec.type in (PropertyType.TEXT, PropertyType.SELECT) and value is None:
        return ""  # an empty string clears the property
    return value


def api_record_name(object_type: str, key: str) -> str:
    """A crm service's error key in the API's words."""
    return _KWARG_NAMES[object_type].get(key, key)


def error_code_for_record(object_type: str, name: str) -> str:
    spec = record_props.get_spec(SINGULAR[object_type], name)
    return _code_for(spec.type) if spec else INVALID_VALUE
