"""The property registry of contacts, companies and deals: one `PropertySpec` per property,
built-in or custom, as `tickets.properties` describes tickets'.

Built-in properties carry HubSpot's internal names (`firstname`, `domain`, `dealstage`, …) so
the list pages, forms, CSV import and the API speak one vocabulary; each maps to a model field
(`BUILTIN_FIELDS`). Custom properties are `PropertyDefinition` rows of the record's
`object_type`, with values in the record's `custom` JSON (a contact's may be None: no values).
Values cross this module in their plain form, as for tickets: strings, numbers, booleans, ISO
dates, lists for multi-select, primary keys for users and companies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Model, QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from svardesk.core.local_cache import cached
from svardesk.crm.models import Company, Contact, Deal, DealStage
from svardesk.ticket_views.filters import REF, FilterSchema
from svardesk.tickets import properties as props
from svardesk.tickets.models import PropertyDefinition, PropertyType

PropertySpec = props.PropertySpec

CONTACT = "contact"
COMPANY = "company"
DEAL = "deal"
OBJECT_TYPES = (CONTACT, COMPANY, DEAL)
MODELS: dict[str, type[Model]] = {CONTACT: Contact, COMPANY: Company, DEAL: Deal}

# A built-in kind beyond the ticket registry's: a reference to a company record.
COMPANY_REF = "company_ref"

# Each built-in property's model field (what filters, sorting and plain values read).
BUILTIN_FIELDS: dict[str, dict[str, str]] = {
    CONTACT: {
        "hs_object_id": "id",
        "firstname": "first_name",
        "lastname": "last_name",
        "email": "email",
        "phone": "phone",
        "mobilephone": "mobile_phone",
        "company": "company_id",
        "hs_language": "language",
        "hubspot_owner_id": "owner_id",
        "createdate": "created_at",
        "lastmodifieddate": "updated_at",
    },
    COMPANY: {
        "hs_object_id": "id",
        "name": "name",
        "domain": "domain",
        "phone": "phone",
        "address": "street_address",
        "city": "city",
        "zip": "postal_code",
        "country": "country",
        "industry": "industry",
        "hubspot_owner_id": "owner_id",
        "createdate": "created_at",
        "hs_lastmodifieddate": "updated_at",
    },
    DEAL: {
        "hs_object_id": "id",
        "dealname": "name",
        "amount": "amount",
        "deal_currency_code": "currency",
        "dealstage": "stage",
        "pipeline": "pipeline",
        "closedate": "close_date",
        "hubspot_owner_id": "owner_id",
        "createdate": "created_at",
        "hs_lastmodifieddate": "updated_at",
    },
}

# Phone numbers are stored in E.164 and shown in the account's region's style.
PHONE_PROPERTIES = frozenset({"phone", "mobilephone"})

_GROUPS = {
    CONTACT: _("Contact information"),
    COMPANY: _("Company information"),
    DEAL: _("Deal information"),
}


def _builtin_specs(object_type: str) -> list[PropertySpec]:
    group = str(_GROUPS[object_type])

    def spec(name: str, label: Any, kind: str, **extra: Any) -> PropertySpec:
        return PropertySpec(name, str(label), kind, True, group, **extra)

    record_id = spec("hs_object_id", _("Record ID"), PropertyType.NUMBER, is_editable=False)
    owner_labels = {
        CONTACT: _("Contact owner"),
        COMPANY: _("Company owner"),
        DEAL: _("Deal owner"),
    }
    owner = spec("hubspot_owner_id", owner_labels[object_type], PropertyType.USER)
    created = spec("createdate", _("Create date"), PropertyType.DATETIME, is_editable=False)
    modified_name = "lastmodifieddate" if object_type == CONTACT else "hs_lastmodifieddate"
    modified = spec(
        modified_name, _("Last modified date"), PropertyType.DATETIME, is_editable=False
    )
    if object_type == CONTACT:
        languages = tuple((code, str(label)) for code, label in settings.LANGUAGES)
        return [
            spec("firstname", _("First name"), PropertyType.TEXT),
            spec("lastname", _("Last name"), PropertyType.TEXT),
            spec("email", _("Email"), PropertyType.TEXT),
            spec("phone", _("Phone number"), PropertyType.TEXT),
            spec("mobilephone", _("Mobile phone number"), PropertyType.TEXT),
            spec("company", _("Primary company"), COMPANY_REF),
            spec("hs_language", _("Preferred language"), PropertyType.SELECT, options=languages),
            owner,
            created,
            modified,
            record_id,
        ]
    if object_type == COMPANY:
        return [
            spec("name", _("Company name"), PropertyType.TEXT),
            spec("domain", _("Company domain name"), PropertyType.TEXT),
            spec("phone", _("Phone number"), PropertyType.TEXT),
            spec("address", _("Street address"), PropertyType.TEXT),
            spec("city", _("City"), PropertyType.TEXT),
            spec("zip", _("Postal code"), PropertyType.TEXT),
            spec("country", _("Country/Region"), PropertyType.TEXT),
            spec("industry", _("Industry"), PropertyType.TEXT),
            owner,
            created,
            modified,
            record_id,
        ]
    stages = tuple((choice.value, str(choice.label)) for choice in DealStage)
    pipelines = (("default", str(_("Sales pipeline"))),)
    return [
        spec("dealname", _("Deal name"), PropertyType.TEXT),
        spec("amount", _("Amount"), PropertyType.NUMBER),
        spec("deal_currency_code", _("Currency"), PropertyType.TEXT),
        spec("dealstage", _("Deal stage"), PropertyType.SELECT, options=stages),
        spec("pipeline", _("Pipeline"), PropertyType.SELECT, options=pipelines),
        spec("closedate", _("Close date"), PropertyType.DATE),
        owner,
        created,
        modified,
        record_id,
    ]


def _builtin_specs_in(object_type: str) -> list[PropertySpec]:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return cached(
        f"records:builtin-specs:{object_type}:{language}",
        lambda: _builtin_specs(object_type),
        ttl=3600.0,
    )


def definitions(object_type: str) -> QuerySet[PropertyDefinition]:
    """The custom properties of `object_type`, in their groups' order."""
    return PropertyDefinition.objects.filter(object_type=object_type)


def custom_specs(object_type: str) -> list[PropertySpec]:
    # Read by every list page: kept per process for a few seconds (core.local_cache, cleared
    # when a definition or group is saved or deleted, see tickets.apps).
    return cached(
        f"records:custom-property-specs:{object_type}",
        lambda: [
            props.spec_for_definition(d) for d in definitions(object_type).select_related("group")
        ],
    )


def specs_for(object_type: str) -> list[PropertySpec]:
    """Every property of `object_type`: built-in ones first, then custom ones."""
    return [*_builtin_specs_in(object_type), *custom_specs(object_type)]


def specs_by_name(object_type: str) -> dict[str, PropertySpec]:
    return {spec.name: spec for spec in specs_for(object_type)}


def get_spec(object_type: str, name: str) -> PropertySpec | None:
    return specs_by_name(object_type).get(name)


def builtin_names(object_type: str) -> frozenset[str]:
    return frozenset(BUILTIN_FIELDS[object_type])


def model_field(object_type: str, name: str) -> str | None:
    """The model field holding the built-in property `name` (None for a custom one)."""
    return BUILTIN_FIELDS[object_type].get(name)


_SCHEMAS = {
    object_type: FilterSchema(
        fields=fields,
        kinds={COMPANY_REF: REF},
        always_known=frozenset({"id", "created_at", "updated_at"}),
        nullable=frozenset({"language"}),
    )
    for object_type, fields in BUILTIN_FIELDS.items()
}


def filter_schema(object_type: str) -> FilterSchema:
    """What `ticket_views.filters` compiles this record type's filters against."""
    return _SCHEMAS[object_type]


# --- Reading values -----------------------------------------------------------------------------


def custom_values(record: Any) -> dict[str, Any]:
    return record.custom or {}  # a contact's may be None


def plain_value(record: Any, spec: PropertySpec) -> Any:
    """The value in plain form: ids for the owner and company, option values, ISO strings for
    dates and times, numbers for amounts."""
    if not spec.is_builtin:
        return custom_values(record).get(spec.name)
    value = getattr(record, BUILTIN_FIELDS[_object_type_of(record)][spec.name])
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def display(record: Any, spec: PropertySpec, *, users: Mapping[int, Any] | None = None) -> str:
    """How the record's value of `spec` reads to a person, in the active language and time
    zone. The owner and the company are read from the record's loaded relations
    (`select_related`), custom user values from `users` when given (a list page loads them
    in one query), so a page of records costs no query per cell."""
    value = plain_value(record, spec)
    if value in (None, "", []):
        return ""
    if spec.is_builtin:
        if spec.name == "hubspot_owner_id":
            owner = record.owner
            return owner.display_name if owner else ""
        if spec.name == "company":
            company = record.company
            return str(company) if company else ""
        if spec.name in PHONE_PROPERTIES:
            from svardesk.crm import phones

            return phones.format_for_region(value)
        if spec.name == "amount":
            return _amount(record)
        if spec.type == PropertyType.DATE and isinstance(value, str):
            return props.display_value(spec, value)
    if spec.type == PropertyType.USER and users is not None:
        user = users.get(value) if isinstance(value, int) else None
        return user.display_name if user else str(_("Unknown user"))
    return props.display_value(spec, value)


def _amount(deal: Deal) -> str:
    from django.utils.formats import number_format

    if deal.amount is None:
        return ""
    return f"{number_format(deal.amount, 2, use_l10n=True, force_grouping=True)} {deal.currency}"


def _object_type_of(record: Any) -> str:
    if isinstance(record, Contact):
        return CONTACT
    if isinstance(record, Company):
        return COMPANY
    if isinstance(record, Deal):
        return DEAL
    raise TypeError(f"Not a CRM record: {record!r}")


# Re-exported for the forms and the import: one way to clean and edit custom values.
clean_custom_value = props.clean_custom_value
custom_form_field = props.custom_form_field
form_initial = props.form_initial
PropertyValueError = props.PropertyValueError
