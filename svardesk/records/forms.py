"""The create and edit forms of contacts, companies and deals, and the record page's in-place
editor of one property.

Fields are named as the properties are (`firstname`, `domain`, `dealstage`, custom names), so
the record page edits one property in place with the same field and the same checks as the
Edit form. `changes()` turns the cleaned data into the crm services' keyword arguments.
Nothing here writes: the views call `crm.services`, and a RecordValidationError it raises is
put back on the fields (`add_service_errors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from svardesk.crm import phones
from svardesk.crm.models import DealStage
from svardesk.records import properties as record_props
from svardesk.records.queries import COMPANY, CONTACT, DEAL
from svardesk.tickets.forms import assignable_users

# Each built-in form field and the crm service keyword it becomes.
SERVICE_KWARGS: dict[str, dict[str, str]] = {
    CONTACT: {
        "firstname": "first_name",
        "lastname": "last_name",
        "emails": "emails",
        "phones": "phones",
        "mobilephone": "mobile_phones",
        "company": "company_id",
        "hs_language": "language",
        "hubspot_owner_id": "owner_id",
    },
    COMPANY: {
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
    DEAL: {
        "dealname": "name",
        "amount": "amount",
        "deal_currency_code": "currency",
        "dealstage": "stage",
        "closedate": "close_date",
        "hubspot_owner_id": "owner_id",
    },
}
# Service error keys that are not a field's own keyword (aliases the services may use).
_ERROR_ALIASES = {
    "email": "emails",
    "phone_numbers": "phones",
    "mobile_phone": "mobilephone",
    "company": "company",
    "owner": "hubspot_owner_id",
    "street_address": "address",
    "postal_code": "zip",
}
# Built-in properties edited only in the full form (several rows, or read-only).
_NOT_INLINE = {CONTACT: {"email", "phone", "mobilephone"}, COMPANY: set(), DEAL: set()}


def inline_field_names(object_type: str) -> set[str]:
    """Properties the record page edits in place: the form's single-value built-in fields and
    every custom property."""
    builtin = set(SERVICE_KWARGS[object_type]) - {"emails", "phones"} - _NOT_INLINE[object_type]
    custom = {spec.name for spec in record_props.custom_specs(object_type)}
    return builtin | custom


def _owner_field(label: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label, queryset=assignable_users(), required=False, empty_label="—"
    )


class RecordForm(forms.Form):
    """Common to the three forms: custom property fields and the mapping to service kwargs."""

    object_type = ""
    required_css_class = "is-required"

    def __init__(self, *args: Any, only: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.custom_names: list[str] = []
        for spec in record_props.custom_specs(self.object_type):
            if spec.name in self.fields:
                continue  # a built-in field of that name wins
            self.fields[spec.name] = record_props.custom_form_field(spec)
            self.custom_names.append(spec.name)
        if only is not None:
            # The in-place editor: one property, with the same checks as the full form.
            self.fields = {only: self.fields[only]} if only in self.fields else {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in self.custom_names:
            if name not in self.fields or name not in cleaned:
                continue
            spec = record_props.get_spec(self.object_type, name)
            if spec is None:
                continue
            try:
                cleaned[name] = record_props.clean_custom_value(spec, cleaned[name])
            except record_props.PropertyValueError as exc:
                self.add_error(name, str(exc))
        return cleaned

    def custom_changes(self) -> dict[str, Any]:
        return {n: self.cleaned_data.get(n) for n in self.custom_names if n in self.fields}

    def changes(self) -> dict[str, Any]:
        """The cleaned values as the crm service's keyword arguments (only the fields the form
        has: the in-place editor changes one)."""
        kwargs_of = SERVICE_KWARGS[self.object_type]
        result: dict[str, Any] = {}
        for name, kwarg in kwargs_of.items():
            if name in self.fields:
                result[kwarg] = self._service_value(name, self.cleaned_data.get(name))
        custom = self.custom_changes()
        if custom:
            result["custom"] = custom
        return result

    def _service_value(self, name: str, value: Any) -> Any:
        if hasattr(value, "pk"):
            return value.pk
        if value is None and name not in ("amount", "closedate", "company", "hubspot_owner_id"):
            return ""
        return value

    def add_service_errors(self, errors: Mapping[str, str]) -> None:
        """Put a RecordValidationError's messages on the fields they name."""
        field_of = {kwarg: name for name, kwarg in SERVICE_KWARGS[self.object_type].items()}
        for key, message in errors.items():
            name = field_of.get(key) or _ERROR_ALIASES.get(key) or key
            base = name.split(".")[-1]  # "custom.size" → "size"
            if base in self.fields:
                self.add_error(base, message)
            else:
                self.add_error(None, message)


class ContactForm(RecordForm):
    object_type = CONTACT

    firstname = forms.CharField(label=_("First name"), max_length=150, required=False)
    lastname = forms.CharField(label=_("Last name"), max_length=150, required=False)
    # Several addresses: `emails` rows (repeated inputs) and the index of the primary one.
    emails = forms.CharField(label=_("Email"), required=False)
    phones = forms.CharField(label=_("Phone number"), required=False)
    mobilephone = forms.CharField(label=_("Mobile phone number"), max_length=50, required=False)
    company = forms.IntegerField(label=_("Primary company"), required=False, min_value=1)
    hs_language = forms.ChoiceField(label=_("Preferred language"), required=False)
    hubspot_owner_id = _owner_field(_("Contact owner"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "hs_language" in self.fields:
            spec = record_props.get_spec(CONTACT, "hs_language")
            options = list(spec.options) if spec else []
            self.fields["hs_language"].choices = [("", "—"), *options]  # type: ignore[attr-defined]
        self.email_rows: list[str] = []
        self.primary_index = 0
        self.phone_rows: list[str] = []

    # Repeated inputs: read as lists from the posted data.
    def _rows(self, name: str) -> list[str]:
        if not self.is_bound:
            return []
        getlist = getattr(self.data, "getlist", None)
        raw = getlist(name) if getlist else self.data.get(name, [])
        if isinstance(raw, str):
            raw = [raw]
        return [str(v).strip() for v in raw]

    def clean_emails(self) -> list[str]:
        rows = self._rows("emails")
        self.email_rows = rows or [""]
        chosen = str(self.data.get("primary_email", "0"))
        self.primary_index = int(chosen) if chosen.isascii() and chosen.isdigit() else 0
        emails: list[str] = []
        errors: list[str] = []
        primary = ""
        for index, raw in enumerate(rows):
            if not raw:
                continue
            try:
                validate_email(raw)
            except ValidationError:
                errors.append(str(_("“%(email)s” is not a valid email address.") % {"email": raw}))
                continue
            if raw.lower() in {e.lower() for e in emails}:
                errors.append(str(_("“%(email)s” is listed twice.") % {"email": raw}))
                continue
            emails.append(raw)
            if index == self.primary_index:
                primary = raw
        if errors:
            raise ValidationError(errors)
        if primary:
            emails.remove(primary)
            emails.insert(0, primary)  # the services make the first address primary
        return emails

    def clean_phones(self) -> list[str]:
        rows = self._rows("phones")
        self.phone_rows = rows or [""]
        return self._normalised(rows)

    def clean_mobilephone(self) -> list[str]:
        raw = (self.cleaned_data.get("mobilephone") or "").strip()
        return self._normalised([raw])

    def _normalised(self, rows: list[str]) -> list[str]:
        numbers: list[str] = []
        errors: list[str] = []
        for raw in rows:
            if not raw:
                continue
            try:
                number = phones.normalise(raw)
            except phones.PhoneNumberError as exc:
                errors.append(str(exc))
                continue
            if number not in numbers:
                numbers.append(number)
        if errors:
            raise ValidationError(errors)
        return numbers

    def changes(self) -> dict[str, Any]:
        result = super().changes()
        # The form shows one mobile number; a contact may have several (after a merge). Left
        # as it was, the list stays as it is.
        if "mobilephone" in self.initial and "mobilephone" not in self.changed_data:
            result.pop("mobile_phones", None)
        return result

    def _service_value(self, name: str, value: Any) -> Any:
        if name in ("emails", "phones", "mobilephone"):
            return value or []
        if name == "hs_language":
            return value or ""
        return super()._service_value(name, value)


class CompanyForm(RecordForm):
    object_type = COMPANY

    name = forms.CharField(label=_("Company name"), max_length=200)
    domain = forms.CharField(label=_("Company domain name"), max_length=253, required=False)
    phone = forms.CharField(label=_("Phone number"), max_length=50, required=False)
    address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    zip = forms.CharField(label=_("Postal code"), max_length=20, required=False)
    country = forms.CharField(label=_("Country/Region"), max_length=100, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    hubspot_owner_id = _owner_field(_("Company owner"))

    def clean_phone(self) -> str:
        raw = (self.cleaned_data.get("phone") or "").strip()
        if not raw:
            return ""
        try:
            return phones.normalise(raw)
        except phones.PhoneNumberError as exc:
            raise ValidationError(str(exc)) from exc


class DealForm(RecordForm):
    object_type = DEAL

    dealname = forms.CharField(label=_("Deal name"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=16, decimal_places=2, required=False, min_value=Decimal(0)
    )
    deal_currency_code = forms.RegexField(
        label=_("Currency"),
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        initial="SEK",
        error_messages={"invalid": _("Enter a three-letter currency code, e.g. SEK or EUR.")},
    )
    dealstage = forms.ChoiceField(label=_("Deal stage"), choices=DealStage.choices)
    closedate = forms.DateField(
        label=_("Close date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    hubspot_owner_id = _owner_field(_("Deal owner"))

    def clean_deal_currency_code(self) -> str:
        return str(self.cleaned_data.get("deal_currency_code") or "").upper()


class DealAssociationsForm(forms.Form):
    """A new deal's optional first associations (ids the pickers post; checked against what
    the user may see by the view)."""

    contact = forms.IntegerField(required=False, min_value=1)
    company = forms.IntegerField(required=False, min_value=1)
    ticket = forms.IntegerField(label=_("Ticket ID"), required=False, min_value=1)


FORMS: dict[str, type[RecordForm]] = {CONTACT: ContactForm, COMPANY: CompanyForm, DEAL: DealForm}


def initial_for(object_type: str, record: Any) -> dict[str, Any]:
    """A record's current values as the form's initial data."""
    initial: dict[str, Any] = {}
    if object_type == CONTACT:
        initial.update(
            firstname=record.first_name,
            lastname=record.last_name,
            mobilephone=phones.format_for_region(record.mobile_phone)
            if record.mobile_phone
            else "",
            company=record.company_id,
            hs_language=record.language or "",
            hubspot_owner_id=record.owner_id,
        )
    elif object_type == COMPANY:
        initial.update(
            name=record.name,
            domain=record.domain,
            phone=phones.format_for_region(record.phone) if record.phone else "",
            address=record.street_address,
            city=record.city,
            zip=record.postal_code,
            country=record.country,
            industry=record.industry,
            hubspot_owner_id=record.owner_id,
        )
    else:
        initial.update(
            dealname=record.name,
            amount=record.amount,
            deal_currency_code=record.currency,
            dealstage=record.stage,
            closedate=record.close_date,
            hubspot_owner_id=record.owner_id,
        )
    for spec in record_props.custom_specs(object_type):
        initial[spec.name] = record_props.form_initial(
            spec, record_props.custom_values(record).get(spec.name)
        )
    return initial
