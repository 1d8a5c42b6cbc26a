"""Every write to contacts, companies, deals and their associations.

Each service runs in one transaction, takes the acting user (`actor`, None for the system:
inbound mail, imports run by the system) and writes the record's timeline (RecordEvent:
created, each changed property with its old and new plain value, associated, dissociated,
merged) in that same transaction. Invalid input raises RecordValidationError with a message
per field and saves nothing.

crm sits below tickets and knows no ticket model: a ticket's primary contact column
(`Ticket.contact`) is kept by tickets.services; here, a merge moves every row that points at
the merged contact (tickets, conversations, messages, chat visitors) through Django's reverse
relations, and `signals.contacts_merged` announces it after commit.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import DomainNameValidator, validate_email
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from svardesk.core.local_cache import forget
from svardesk.core.on_commit import after_commit
from svardesk.crm import associations
from svardesk.crm import phones as phone_numbers
from svardesk.crm import queries as crm_queries
from svardesk.crm.exceptions import RecordNotFoundError, RecordValidationError
from svardesk.crm.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CrmSettings,
    Deal,
    DealStage,
    ObjectType,
    PhoneKind,
    RecordEvent,
)
from svardesk.crm.names import split_display_name
from svardesk.crm.signals import (
    companies_merged,
    contacts_merged,
    record_changed,
    record_created,
    record_deleted,
)

if TYPE_CHECKING:
    from svardesk.accounts.models import User

CONTACT, COMPANY, DEAL, TICKET = (
    associations.CONTACT,
    associations.COMPANY,
    associations.DEAL,
    associations.TICKET,
)

_MODELS: dict[str, type[models.Model]] = {CONTACT: Contact, COMPANY: Company, DEAL: Deal}

# Properties a contact's timeline follows (the services' keyword names).
_CONTACT_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "company_id",
    "language",
    "owner_id",
    "external_id",
)
_COMPANY_FIELDS = (
    "name",
    "domain",
    "phone",
    "street_address",
    "city",
    "postal_code",
    "country",
    "industry",
    "owner_id",
    "external_id",
)
_DEAL_FIELDS = (
    "name",
    "amount",
    "currency",
    "pipeline",
    "stage",
    "close_date",
    "owner_id",
    "external_id",
)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_MAX_AMOUNT = Decimal("99999999999999.99")  # max_digits=16, decimal_places=2


# --- Events ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as the timeline stores it: JSON-safe (Decimal and dates as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def _event(
    object_type: str,
    object_id: int,
    actor: User | None,
    kind: str,
    property_name: str = "",
    old: Any = None,
    new: Any = None,
) -> RecordEvent:
    return RecordEvent(
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        kind=kind,
        property_name=property_name,
        old_value=_plain(old),
        new_value=_plain(new),
    )


def _write_events(events: Iterable[RecordEvent]) -> None:
    rows = list(events)
    if rows:
        RecordEvent.objects.bulk_create(rows)
        _announce(rows)


def _announce(rows: list[RecordEvent]) -> None:
    """record_created / record_changed after commit, from the timeline rows every write
    makes (one signal per record and write; `changed` by the services' field names)."""
    changed: dict[tuple[str, int, int | None], dict[str, Any]] = {}
    for row in rows:
        key = (row.object_type, row.object_id, row.actor_id)
        if row.kind == "created":
            after_commit(
                record_created.send,
                sender=RecordEvent,
                object_type=key[0],
                object_id=key[1],
                actor_id=key[2],
            )
        elif row.kind == "changed":
            changed.setdefault(key, {})[row.property_name] = row.new_value
    for (object_type, object_id, actor_id), values in changed.items():
        after_commit(
            record_changed.send,
            sender=RecordEvent,
            object_type=object_type,
            object_id=object_id,
            actor_id=actor_id,
            changed=values,
        )


def _announce_deleted(object_type: str, object_id: int, actor: User | None) -> None:
    after_commit(
        record_deleted.send,
        sender=RecordEvent,
        object_type=object_type,
        object_id=object_id,
        actor_id=actor.pk if actor else None,
    )


# --- Validation helpers ----------------------------------------------------------------------


def _text(
    value: Any, field: str, errors: dict[str, str], *, max_length: int, required: bool = False
) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > max_length:
        errors[field] = ngettext(
            "Use at most %(count)d character.", "Use at most %(count)d characters.", max_length
        ) % {"count": max_length}
    return text


def _clean_emails(
    values: Iterable[str], field: str, errors: dict[str, str], *, contact_id: int | None = None
) -> list[str]:
    """Valid, distinct (case-insensitively) addresses; an address another contact owns is a
    field error."""
    cleaned: list[str] = []
    seen: set[str] = set()
    for raw in values:
        email = (raw or "").strip()
        if not email:
            continue
        try:
            validate_email(email)
        except ValidationError:
            errors[field] = _("“%(email)s” is not a valid email address.") % {"email": email}
            continue
        if len(email) > 254:
            errors[field] = _("“%(email)s” is too long.") % {"email": email}
            continue
        if email.lower() not in seen:
            seen.add(email.lower())
            cleaned.append(email)
    if cleaned:
        taken = ContactEmail.objects.filter(email_key__in=seen)
        if contact_id is not None:
            taken = taken.exclude(contact_id=contact_id)
        owned = taken.values_list("email", flat=True).first()
        if owned is not None:
            errors[field] = _("The email “%(email)s” belongs to another contact.") % {
                "email": owned
            }
    return cleaned


def _clean_phones(
    values: Iterable[str], field: str, errors: dict[str, str], region: str | None = None
) -> list[str]:
    cleaned: list[str] = []
    for raw in values:
        if not (raw or "").strip():
            continue
        try:
            number = phone_numbers.normalise(raw, region)
        except phone_numbers.PhoneNumberError as error:
            errors[field] = str(error)
            continue
        if number not in cleaned:
            cleaned.append(number)
    return cleaned


def _clean_phone(value: Any, field: str, errors: dict[str, str]) -> str:
    numbers = _clean_phones([value] if value else [], field, errors)
    return numbers[0] if numbers else ""


def _clean_owner(owner_id: Any, field: str, errors: dict[str, str]) -> int | None:
    if owner_id in (None, ""):
        return None
    try:
        pk = int(owner_id)
    except (TypeError, ValueError):
        pk = None
    if pk is None or not get_user_model().objects.filter(pk=pk, is_active=True).exists():
        errors[field] = _("Choose an existing user.")
        return None
    return pk


def _clean_company_id(company_id: Any, field: str, errors: dict[str, str]) -> int | None:
    if company_id in (None, ""):
        return None
    try:
        pk = int(company_id)
    except (TypeError, ValueError):
        pk = None
    if pk is None or not Company.objects.filter(pk=pk, merged_into__isnull=True).exists():
        errors[field] = _("Choose an existing company.")
        return None
    return pk


def _clean_custom(custom: Any, field: str, errors: dict[str, str]) -> dict[str, Any] | None:
    """Custom values arrive already checked against the property registry (tickets.properties,
    which crm cannot import; records and imports validate before calling); here only their
    shape is checked."""
    if custom is None:
        return None
    if not isinstance(custom, Mapping) or not all(isinstance(k, str) for k in custom):
        errors[field] = _("Custom values must be a mapping of property names to values.")
        return None
    return dict(custom)


def normalise_domain(raw: str) -> str:
    """ "https://www.Example.COM/about" → "example.com". Raises ValueError (a shown message)
    for text that is no domain name."""
    text = (raw or "").strip().lower()
    if not text:
        return ""
    if "@" in text:
        text = text.rpartition("@")[2]
    if "//" not in text:
        text = "//" + text
    host = urlsplit(text).hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    try:
        if not host or "." not in host:
            raise ValidationError("no dot")
        DomainNameValidator()(host)
    except ValidationError:
        raise ValueError(
            _("“%(domain)s” is not a domain name; write it like example.com.") % {"domain": raw}
        ) from None
    return host


def _clean_domain(value: Any, field: str, errors: dict[str, str]) -> str:
    try:
        return normalise_domain(str(value or ""))
    except ValueError as error:
        errors[field] = str(error)
        return ""


def _clean_amount(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        errors[field] = _("Enter an amount such as 1250.50.")
        return None
    if not amount.is_finite() or amount < 0:
        errors[field] = _("The amount cannot be negative.")
        return None
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount > _MAX_AMOUNT:
        errors[field] = _("The amount is too large.")
        return None
    return amount


def _clean_currency(value: Any, field: str, errors: dict[str, str]) -> str:
    code = str(value or "").strip().upper()
    if not _CURRENCY.match(code):
        errors[field] = _("Enter a three-letter currency code (ISO 4217), e.g. SEK or EUR.")
    return code


def _clean_stage(value: Any, field: str, errors: dict[str, str]) -> str:
    stage = str(value or "").strip()
    if stage not in DealStage.values:
        errors[field] = _("Choose one of the deal stages.")
    return stage


def _clean_date(value: Any, field: str, errors: dict[str, str]) -> datetime.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise RecordValidationError(errors)


def _locked(model: type[models.Model], pk: int) -> Any:
    record = model._default_manager.select_for_update().filter(pk=pk).first()
    if record is None:
        raise RecordNotFoundError(str(pk))
    return record


def _check_unknown(changes: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise TypeError(f"unknown fields: {', '.join(sorted(unknown))}")


def _custom_changes(
    old: Mapping[str, Any] | None, updates: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, Any, Any]]]:
    """The custom values after `updates` (a key with None removes the value) and the
    (name, old, new) of each that changed."""
    current = dict(old or {})
    changed: list[tuple[str, Any, Any]] = []
    for name, value in updates.items():
        before = current.get(name)
        if value is None or value == "":
            if name in current:
                del current[name]
                changed.append((name, before, None))
        elif before != value:
            current[name] = value
            changed.append((name, before, value))
    return current, changed


# --- Contacts --------------------------------------------------------------------------------


def _domain_company_id(email: str) -> int | None:
    if not email or not crm_queries.crm_settings().associate_by_domain:
        return None
    company = crm_queries.company_for_email_domain(email)
    return company.pk if company else None


def _set_primary_company(contact: Contact, company_id: int | None, actor: User | None) -> None:
    """Contact.company follows the contact→company primary row; the old primary company
    stays associated (without the label)."""
    if company_id is None:
        associations.clear_primary(CONTACT, contact.pk, COMPANY)
    elif associations.associate(CONTACT, contact.pk, COMPANY, company_id, primary=True):
        _write_events(
            _association_events(actor, "associated", CONTACT, contact.pk, COMPANY, company_id)
        )
    contact.company_id = company_id


@transaction.atomic
def create_contact(
    *,
    actor: User | None,
    first_name: str = "",
    last_name: str = "",
    emails: Sequence[str] = (),
    phones: Sequence[str] = (),
    mobile_phones: Sequence[str] = (),
    company_id: int | None = None,
    company_name: str = "",
    language: str = "",
    owner_id: int | None = None,
    custom: Mapping[str, Any] | None = None,
    external_id: str | None = None,
) -> Contact:
    """A new contact. The first email is primary; emails must be valid and no other
    contact's; phone numbers are stored in E.164 (read in the default region unless written
    with a country code). Without `company_id`, and with the domain setting on, a company
    whose domain is the primary email's domain (not a free-mail provider's) becomes the
    contact's primary company. Raises RecordValidationError (nothing saved)."""
    errors: dict[str, str] = {}
    first = _text(first_name, "first_name", errors, max_length=150)
    last = _text(last_name, "last_name", errors, max_length=150)
    company_text = _text(company_name, "company_name", errors, max_length=200)
    lang = _text(language, "language", errors, max_length=10)
    ext = _text(external_id, "external_id", errors, max_length=100) or None
    email_list = _clean_emails(emails, "emails", errors)
    phone_list = _clean_phones(phones, "phones", errors)
    mobile_list = _clean_phones(mobile_phones, "mobile_phones", errors)
    company_pk = _clean_company_id(company_id, "company_id", errors)
    owner_pk = _clean_owner(owner_id, "owner_id", errors)
    custom_values = _clean_custom(custom, "custom", errors)
    _raise_if(errors)

    if company_pk is None and email_list:
        company_pk = _domain_company_id(email_list[0])
    contact = Contact.objects.create(
        company_id=company_pk,
        first_name=first,
        last_name=last,
        email=email_list[0] if email_list else "",
        phone=phone_list[0] if phone_list else "",
        mobile_phone=mobile_list[0] if mobile_list else "",
        company_name=company_text,
        language=lang or None,
        owner_id=owner_pk,
        custom=custom_values or None,
        external_id=ext,
    )
    try:
        with transaction.atomic():
            ContactEmail.objects.bulk_create(
                ContactEmail(contact=contact, email=e, email_key=e.lower(), is_primary=i == 0)
                for i, e in enumerate(email_list)
            )
    except IntegrityError:
        # Another contact took one of these addresses since the check above.
        raise RecordValidationError(
            {"emails": _("One of these emails belongs to another contact.")}
        ) from None
    ContactPhone.objects.bulk_create(
        [ContactPhone(contact=contact, number=n, kind=PhoneKind.PHONE) for n in phone_list]
        + [
            ContactPhone(contact=contact, number=n, kind=PhoneKind.MOBILE)
            for n in mobile_list
            if n not in phone_list
        ]
    )
    _write_events([_event(CONTACT, contact.pk, actor, "created")])
    if company_pk is not None:
        associations.associate(CONTACT, contact.pk, COMPANY, company_pk, primary=True)
        _write_events(
            _association_events(actor, "associated", CONTACT, contact.pk, COMPANY, company_pk)
        )
    return contact


@transaction.atomic
def create_named_contacts(
    names: Sequence[tuple[str, str]],
    *,
    phones: Sequence[str] | None = None,
    actor: User | None = None,
) -> list[Contact]:
    """Contacts known only by a first and last name and perhaps one phone number (a burst of
    new Messenger users or callers), in one INSERT per table with their "created" timeline
    rows: `create_contact` without emails or company, in `names`' order. `phones[i]`, when
    given, is contact i's number (stored in E.164, as `create_contact` stores it). Raises
    RecordValidationError (nothing saved)."""
    errors: dict[str, str] = {}
    numbers = [_clean_phone(n, "phones", errors) for n in (phones or [""] * len(names))]
    rows = [
        Contact(
            first_name=_text(first, "first_name", errors, max_length=150),
            last_name=_text(last, "last_name", errors, max_length=150),
            phone=number,
        )
        for (first, last), number in zip(names, numbers, strict=True)
    ]
    _raise_if(errors)
    contacts = Contact.objects.bulk_create(rows)
    ContactPhone.objects.bulk_create(
        ContactPhone(contact=contact, number=contact.phone, kind=PhoneKind.PHONE)
        for contact in contacts
        if contact.phone
    )
    _write_events(_event(CONTACT, contact.pk, actor, "created") for contact in contacts)
    return contacts


@transaction.atomic
def update_contact(contact: Contact, *, actor: User | None, **changes: Any) -> Contact:
    """Change a contact's properties: first_name, last_name, company_name, company_id (the
    primary company; None drops it), language, owner_id, external_id, custom (a partial
    mapping: the names given are set, None or "" removes a value), and emails / phones /
    mobile_phones (each replaces that whole list; the first email becomes primary). One
    timeline entry per changed property. Raises RecordValidationError (nothing saved)."""
    _check_unknown(changes, (*_CONTACT_FIELDS, "custom", "emails", "phones", "mobile_phones"))
    current: Contact = _locked(Contact, contact.pk)
    errors: dict[str, str] = {}
    new: dict[str, Any] = {}
    for name, limit in (("first_name", 150), ("last_name", 150), ("company_name", 200)):
        if name in changes:
            new[name] = _text(changes[name], name, errors, max_length=limit)
    if "language" in changes:
        new["language"] = _text(changes["language"], "language", errors, max_length=10) or None
    if "external_id" in changes:
        new["external_id"] = (
            _text(changes["external_id"], "external_id", errors, max_length=100) or None
        )
    if "owner_id" in changes:
        new["owner_id"] = _clean_owner(changes["owner_id"], "owner_id", errors)
    if "company_id" in changes:
        new["company_id"] = _clean_company_id(changes["company_id"], "company_id", errors)
    custom_updates = (
        _clean_custom(changes["custom"], "custom", errors) if "custom" in changes else None
    )
    email_list = (
        _clean_emails(changes["emails"], "emails", errors, contact_id=current.pk)
        if "emails" in changes
        else None
    )
    phone_list = _clean_phones(changes["phones"], "phones", errors) if "phones" in changes else None
    mobile_list = (
        _clean_phones(changes["mobile_phones"], "mobile_phones", errors)
        if "mobile_phones" in changes
        else None
    )
    _raise_if(errors)

    events: list[RecordEvent] = []
    update_fields: list[str] = []
    for name, value in new.items():
        before = getattr(current, name)
        if before == value or (name == "language" and (before or None) == value):
            continue
        if name == "company_id":
            _set_primary_company(current, value, actor)
        else:
            setattr(current, name, value)
        update_fields.append(name)
        events.append(_event(CONTACT, current.pk, actor, "changed", name, before, value))
    if custom_updates:
        values, changed = _custom_changes(current.custom, custom_updates)
        if changed:
            current.custom = values or None
            update_fields.append("custom")
            events.extend(
                _event(CONTACT, current.pk, actor, "changed", name, old, value)
                for name, old, value in changed
            )
    if update_fields:
        current.save(update_fields=[*update_fields, "updated_at"])
    _write_events(events)
    if email_list is not None:
        _ensure_email_rows(current)
        _replace_emails(current, email_list, actor)
    if phone_list is not None or mobile_list is not None:
        set_contact_phones(current, actor=actor, phones=phone_list, mobile_phones=mobile_list)
    current.refresh_from_db()
    _copy_into(current, contact)
    return current


def _copy_into(source: models.Model, target: models.Model) -> None:
    """Keep the caller's instance in step with what was saved."""
    if source is target:
        return
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def _ensure_email_rows(contact: Contact) -> None:
    """A contact written before addresses had their own rows (or by code that set only
    Contact.email) gets its ContactEmail row before its addresses change."""
    if contact.email and not ContactEmail.objects.filter(contact=contact).exists():
        ContactEmail.objects.bulk_create(
            [
                ContactEmail(
                    contact=contact,
                    email=contact.email,
                    email_key=contact.email.lower(),
                    is_primary=True,
                )
            ],
            ignore_conflicts=True,
        )


def _sync_primary_email(contact: Contact) -> None:
    primary = ContactEmail.objects.filter(contact=contact).order_by("-is_primary", "id").first()
    if primary is not None and not primary.is_primary:
        ContactEmail.objects.filter(pk=primary.pk).update(is_primary=True)
    email = primary.email if primary else ""
    if contact.email != email:
        contact.email = email
        Contact.objects.filter(pk=contact.pk).update(email=email, updated_at=timezone.now())


def _replace_emails(contact: Contact, emails: list[str], actor: User | None) -> None:
    before = list(
        ContactEmail.objects.filter(contact=contact)
        .order_by("-is_primary", "id")
        .values_list("email", flat=True)
    )
    if before == emails:
        return
    keys = [e.lower() for e in emails]
    ContactEmail.objects.filter(contact=contact).exclude(email_key__in=keys).delete()
    existing = dict(ContactEmail.objects.filter(contact=contact).values_list("email_key", "pk"))
    ContactEmail.objects.filter(contact=contact).update(is_primary=False)
    try:
        with transaction.atomic():
            for index, email in enumerate(emails):
                key = email.lower()
                if key in existing:
                    ContactEmail.objects.filter(pk=existing[key]).update(
                        email=email, is_primary=index == 0
                    )
                else:
                    ContactEmail.objects.create(
                        contact=contact, email=email, email_key=key, is_primary=index == 0
                    )
    except IntegrityError:
        raise RecordValidationError(
            {"emails": _("One of these emails belongs to another contact.")}
        ) from None
    _sync_primary_email(contact)
    _write_events([_event(CONTACT, contact.pk, actor, "changed", "emails", before, emails)])


@transaction.atomic
def add_contact_email(
    contact: Contact, email: str, *, actor: User | None, primary: bool = False
) -> ContactEmail:
    """Give the contact another address (the primary one if it has none, or with
    `primary`). Raises RecordValidationError for an invalid address or another contact's."""
    errors: dict[str, str] = {}
    cleaned = _clean_emails([email], "email", errors, contact_id=contact.pk)
    if not cleaned and not errors:
        errors["email"] = _("Enter an email address.")
    _raise_if(errors)
    current: Contact = _locked(Contact, contact.pk)
    _ensure_email_rows(current)
    before = list(current.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    address = cleaned[0]
    row = ContactEmail.objects.filter(contact=current, email_key=address.lower()).first()
    if row is None:
        try:
            with transaction.atomic():
                row = ContactEmail.objects.create(
                    contact=current, email=address, email_key=address.lower()
                )
        except IntegrityError:
            raise RecordValidationError(
                {
                    "email": _("The email “%(email)s” belongs to another contact.")
                    % {"email": address}
                }
            ) from None
    if primary or not before:
        ContactEmail.objects.filter(contact=current).exclude(pk=row.pk).update(is_primary=False)
        ContactEmail.objects.filter(pk=row.pk).update(is_primary=True)
        row.is_primary = True
    _sync_primary_email(current)
    after = list(current.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    if after != before:
        _write_events([_event(CONTACT, current.pk, actor, "changed", "emails", before, after)])
    contact.email = current.email
    return row


@transaction.atomic
def remove_contact_email(contact: Contact, email: str, *, actor: User | None) -> None:
    """Take an address away from the contact; if it was the primary one, the oldest other
    address becomes primary. Removing an address the contact does not have does nothing."""
    current: Contact = _locked(Contact, contact.pk)
    _ensure_email_rows(current)
    before = list(current.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    deleted, _ = ContactEmail.objects.filter(
        contact=current, email_key=(email or "").strip().lower()
    ).delete()
    if not deleted:
        return
    _sync_primary_email(current)
    after = list(current.emails.order_by("-is_primary", "id").values_list("email", flat=True))
    _write_events([_event(CONTACT, current.pk, actor, "changed", "emails", before, after)])
    contact.email = current.email


@transaction.atomic
def set_primary_email(contact: Contact, email: str, *, actor: User | None) -> None:
    """Make one of the contact's addresses its primary one (replies and Contact.email)."""
    current: Contact = _locked(Contact, contact.pk)
    _ensure_email_rows(current)
    key = (email or "").strip().lower()
    row = ContactEmail.objects.filter(contact=current, email_key=key).first()
    if row is None:
        raise RecordValidationError({"email": _("This is not one of the contact's emails.")})
    if row.is_primary:
        return
    before = current.email
    ContactEmail.objects.filter(contact=current).exclude(pk=row.pk).update(is_primary=False)
    ContactEmail.objects.filter(pk=row.pk).update(is_primary=True)
    _sync_primary_email(current)
    _write_events([_event(CONTACT, current.pk, actor, "changed", "email", before, current.email)])
    contact.email = current.email


def _sync_phone_columns(contact: Contact) -> None:
    rows = list(
        ContactPhone.objects.filter(contact=contact).order_by("id").values_list("number", "kind")
    )
    phone = next((n for n, k in rows if k == PhoneKind.PHONE), "")
    mobile = next((n for n, k in rows if k == PhoneKind.MOBILE), "")
    if (contact.phone, contact.mobile_phone) != (phone, mobile):
        contact.phone, contact.mobile_phone = phone, mobile
        Contact.objects.filter(pk=contact.pk).update(
            phone=phone, mobile_phone=mobile, updated_at=timezone.now()
        )


@transaction.atomic
def set_contact_phones(
    contact: Contact,
    *,
    actor: User | None,
    phones: Sequence[str] | None = None,
    mobile_phones: Sequence[str] | None = None,
) -> None:
    """Replace the contact's numbers of a kind (None leaves that kind as it is). Numbers in
    any format are stored in E.164; Contact.phone / mobile_phone become the first of each.
    Raises RecordValidationError (nothing saved)."""
    errors: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    if phones is not None:
        wanted[PhoneKind.PHONE] = _clean_phones(phones, "phones", errors)
    if mobile_phones is not None:
        wanted[PhoneKind.MOBILE] = _clean_phones(mobile_phones, "mobile_phones", errors)
    _raise_if(errors)
    current: Contact = _locked(Contact, contact.pk)
    events: list[RecordEvent] = []
    for kind, numbers in wanted.items():
        before = list(
            ContactPhone.objects.filter(contact=current, kind=kind)
            .order_by("id")
            .values_list("number", flat=True)
        )
        if before == numbers:
            continue
        ContactPhone.objects.filter(contact=current, kind=kind).delete()
        taken = set(ContactPhone.objects.filter(contact=current).values_list("number", flat=True))
        ContactPhone.objects.bulk_create(
            ContactPhone(contact=current, number=n, kind=kind) for n in numbers if n not in taken
        )
        name = "phones" if kind == PhoneKind.PHONE else "mobile_phones"
        events.append(_event(CONTACT, current.pk, actor, "changed", name, before, numbers))
    _sync_phone_columns(current)
    _write_events(events)
    contact.phone, contact.mobile_phone = current.phone, current.mobile_phone


@transaction.atomic
def fill_contact_details(
    contact: Contact, *, actor: User | None, phone: str = "", company_name: str = ""
) -> None:
    """Fill what the contact lacks from an unsigned source (a web form): a phone number (in
    E.164; one that does not parse is left out) and the company name it wrote. Known values
    are never overwritten."""
    events: list[RecordEvent] = []
    updates: dict[str, Any] = {}
    number = ""
    if phone and not contact.phone:
        errors: dict[str, str] = {}
        number = _clean_phone(phone, "phone", errors)
        if number and not ContactPhone.objects.filter(contact=contact, number=number).exists():
            ContactPhone.objects.create(contact=contact, number=number, kind=PhoneKind.PHONE)
            updates["phone"] = number
            events.append(_event(CONTACT, contact.pk, actor, "changed", "phones", [], [number]))
    company_text = " ".join((company_name or "").split())[:200]
    if company_text and not contact.company_name:
        updates["company_name"] = company_text
        events.append(
            _event(CONTACT, contact.pk, actor, "changed", "company_name", "", company_text)
        )
    if updates:
        Contact.objects.filter(pk=contact.pk).update(**updates, updated_at=timezone.now())
        for name, value in updates.items():
            setattr(contact, name, value)
    _write_events(events)


@dataclass(frozen=True)
class DeletedRecord:
    """What stayed when a record was deleted (shown by the confirmation and after it)."""

    tickets_kept: int
    contacts_kept: int = 0


@transaction.atomic
def delete_contact(contact: Contact, *, actor: User | None) -> DeletedRecord:
    """Delete a contact with its addresses, numbers, associations and timeline. Its tickets
    stay (their contact becomes empty); conversations and messages keep their text."""
    current: Contact = _locked(Contact, contact.pk)
    tickets = associations.associated_ids(CONTACT, current.pk, TICKET).count()
    associations.forget_record(CONTACT, current.pk)
    RecordEvent.objects.filter(object_type=CONTACT, object_id=current.pk).delete()
    current.delete()
    _announce_deleted(CONTACT, contact.pk, actor)
    return DeletedRecord(tickets_kept=tickets)


# --- Companies -------------------------------------------------------------------------------


def _company_values(changes: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    limits = {
        "street_address": 200,
        "city": 100,
        "postal_code": 20,
        "country": 100,
        "industry": 100,
        "external_id": 100,
    }
    if "name" in changes:
        values["name"] = _text(changes["name"], "name", errors, max_length=200, required=True)
    if "domain" in changes:
        values["domain"] = _clean_domain(changes["domain"], "domain", errors)
    if "phone" in changes:
        values["phone"] = _clean_phone(changes["phone"], "phone", errors)
    for name, limit in limits.items():
        if name in changes:
            values[name] = _text(changes[name], name, errors, max_length=limit)
    if "owner_id" in changes:
        values["owner_id"] = _clean_owner(changes["owner_id"], "owner_id", errors)
    return values


@transaction.atomic
def create_company(
    *,
    actor: User | None,
    name: str,
    domain: str = "",
    phone: str = "",
    street_address: str = "",
    city: str = "",
    postal_code: str = "",
    country: str = "",
    industry: str = "",
    owner_id: int | None = None,
    custom: Mapping[str, Any] | None = None,
    external_id: str = "",
) -> Company:
    """A new company; the domain is stored bare ("example.com"), the phone in E.164.
    Raises RecordValidationError (nothing saved)."""
    errors: dict[str, str] = {}
    values = _company_values(
        {
            "name": name,
            "domain": domain,
            "phone": phone,
            "street_address": street_address,
            "city": city,
            "postal_code": postal_code,
            "country": country,
            "industry": industry,
            "owner_id": owner_id,
            "external_id": external_id,
        },
        errors,
    )
    custom_values = _clean_custom(custom, "custom", errors)
    _raise_if(errors)
    company = Company.objects.create(**values, custom=custom_values or {})
    _write_events([_event(COMPANY, company.pk, actor, "created")])
    return company


@transaction.atomic
def update_company(company: Company, *, actor: User | None, **changes: Any) -> Company:
    """Change a company's properties (the create keywords; custom as in update_contact)."""
    return _update_record(company, COMPANY, _COMPANY_FIELDS, _company_values, changes, actor)


def _apply_changes(
    record: Any,
    object_type: str,
    values: Mapping[str, Any],
    custom_updates: Mapping[str, Any] | None,
    actor: User | None,
    *,
    empty_custom: Any,
) -> None:
    events: list[RecordEvent] = []
    update_fields: list[str] = []
    for name, value in values.items():
        before = getattr(record, name)
        if before == value:
            continue
        setattr(record, name, value)
        update_fields.append(name)
        events.append(_event(object_type, record.pk, actor, "changed", name, before, value))
    if custom_updates:
        custom, changed = _custom_changes(record.custom, custom_updates)
        if changed:
            record.custom = custom or empty_custom
            update_fields.append("custom")
            events.extend(
                _event(object_type, record.pk, actor, "changed", name, old, new)
                for name, old, new in changed
            )
    if update_fields:
        record.save(update_fields=[*update_fields, "updated_at"])
    _write_events(events)


@transaction.atomic
def delete_company(company: Company, *, actor: User | None) -> DeletedRecord:
    """Delete a company and its associations and timeline. Its contacts and tickets stay
    (contacts whose primary company it was have none)."""
    current: Company = _locked(Company, company.pk)
    tickets = associations.associated_ids(COMPANY, current.pk, TICKET).count()
    contacts = associations.associated_ids(COMPANY, current.pk, CONTACT).count()
    associations.forget_record(COMPANY, current.pk)
    RecordEvent.objects.filter(object_type=COMPANY, object_id=current.pk).delete()
    current.delete()
    _announce_deleted(COMPANY, company.pk, actor)
    return DeletedRecord(tickets_kept=tickets, contacts_kept=contacts)


# --- Deals -----------------------------------------------------------------------------------


def _deal_values(changes: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _text(changes["name"], "name", errors, max_length=200, required=True)
    if "amount" in changes:
        values["amount"] = _clean_amount(changes["amount"], "amount", errors)
    if "currency" in changes:
        values["currency"] = _clean_currency(changes["currency"], "currency", errors)
    if "pipeline" in changes:
        values["pipeline"] = (
            _text(changes["pipeline"], "pipeline", errors, max_length=64) or "default"
        )
    if "stage" in changes:
        values["stage"] = _clean_stage(changes["stage"], "stage", errors)
    if "close_date" in changes:
        values["close_date"] = _clean_date(changes["close_date"], "close_date", errors)
    if "owner_id" in changes:
        values["owner_id"] = _clean_owner(changes["owner_id"], "owner_id", errors)
    if "external_id" in changes:
        values["external_id"] = _text(changes["external_id"], "external_id", errors, max_length=100)
    return values


@transaction.atomic
def create_deal(
    *,
    actor: User | None,
    name: str,
    amount: Decimal | str | int | None = None,
    currency: str = "SEK",
    stage: str = DealStage.APPOINTMENT_SCHEDULED,
    pipeline: str = "default",
    close_date: datetime.date | str | None = None,
    owner_id: int | None = None,
    custom: Mapping[str, Any] | None = None,
    external_id: str = "",
) -> Deal:
    """A new deal: amount ≥ 0 (two decimals), an ISO 4217 currency, a stage of the
    pipeline. Raises RecordValidationError (nothing saved)."""
    errors: dict[str, str] = {}
    values = _deal_values(
        {
            "name": name,
            "amount": amount,
            "currency": currency,
            "stage": stage,
            "pipeline": pipeline,
            "close_date": close_date,
            "owner_id": owner_id,
            "external_id": external_id,
        },
        errors,
    )
    custom_values = _clean_custom(custom, "custom", errors)
    _raise_if(errors)
    deal = Deal.objects.create(**values, custom=custom_values or {})
    _write_events([_event(DEAL, deal.pk, actor, "created")])
    return deal


@transaction.atomic
def update_deal(deal: Deal, *, actor: User | None, **changes: Any) -> Deal:
    """Change a deal's properties (the create keywords; custom as in update_contact)."""
    return _update_record(deal, DEAL, _DEAL_FIELDS, _deal_values, changes, actor)


def _update_record(
    record: Any,
    object_type: str,
    fields: tuple[str, ...],
    clean_values: Any,
    changes: dict[str, Any],
    actor: User | None,
) -> Any:
    """update_company / update_deal: check, lock, clean every value (all errors at once),
    apply with one timeline row per changed property, and refresh the caller's instance."""
    _check_unknown(changes, (*fields, "custom"))
    current = _locked(type(record), record.pk)
    errors: dict[str, str] = {}
    values = clean_values(changes, errors)
    custom_updates = (
        _clean_custom(changes["custom"], "custom", errors) if "custom" in changes else None
    )
    _raise_if(errors)
    _apply_changes(current, object_type, values, custom_updates, actor, empty_custom={})
    _copy_into(current, record)
    return current


@transaction.atomic
def delete_deal(deal: Deal, *, actor: User | None) -> DeletedRecord:
    """Delete a deal and its associations and timeline; its tickets and contacts stay."""
    current: Deal = _locked(Deal, deal.pk)
    tickets = associations.associated_ids(DEAL, current.pk, TICKET).count()
    associations.forget_record(DEAL, current.pk)
    RecordEvent.objects.filter(object_type=DEAL, object_id=current.pk).delete()
    current.delete()
    _announce_deleted(DEAL, deal.pk, actor)
    return DeletedRecord(tickets_kept=tickets)


# --- Associations ----------------------------------------------------------------------------


def _association_events(
    actor: User | None, kind: str, from_type: str, from_id: int, to_type: str, to_id: int
) -> list[RecordEvent]:
    """The timeline entries of an association change: one on each end that is a CRM
    record (a ticket's own timeline is tickets.services' business)."""
    events = []
    if from_type in _MODELS:
        events.append(
            _event(from_type, from_id, actor, kind, to_type, None, {"type": to_type, "id": to_id})
        )
    if to_type in _MODELS:
        events.append(
            _event(to_type, to_id, actor, kind, from_type, None, {"type": from_type, "id": from_id})
        )
    return events


def _require_records(pairs: Iterable[tuple[str, Any]]) -> list[int]:
    ids: list[int] = []
    for object_type, object_id in pairs:
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise RecordNotFoundError(f"{object_type}:{object_id}") from None
        if not associations.records_exist(object_type, [pk]):
            raise RecordNotFoundError(f"{object_type}:{object_id}")
        ids.append(pk)
    return ids


@transaction.atomic
def associate_records(
    *,
    actor: User | None,
    from_type: str,
    from_id: int,
    to_type: str,
    to_id: int,
    primary: bool = False,
) -> bool:
    """Associate two records (either direction; `primary` makes `to_id` the primary partner
    of `from_id`). Keeps Contact.company in step with a contact's primary company; a
    ticket's primary contact column (Ticket.contact) is kept by tickets.services, which
    calls this. Raises RecordNotFoundError for an unknown or merged-away record and
    associations.AssociationError for a pair that cannot be associated. Returns whether a
    new association was made."""
    associations.stored(from_type, to_type)  # raises for an impossible pair
    from_pk, to_pk = _require_records([(from_type, from_id), (to_type, to_id)])
    if primary and (from_type, to_type) == (CONTACT, COMPANY):
        contact: Contact = _locked(Contact, from_pk)
        already = (
            associations.associated_ids(CONTACT, from_pk, COMPANY).filter(to_id=to_pk).exists()
        )
        _set_primary_company(contact, to_pk, actor)
        Contact.objects.filter(pk=from_pk).update(company_id=to_pk, updated_at=timezone.now())
        return not already
    created = associations.associate(from_type, from_pk, to_type, to_pk, primary=primary)
    if created:
        _write_events(_association_events(actor, "associated", from_type, from_pk, to_type, to_pk))
    return created


@transaction.atomic
def dissociate_records(
    *, actor: User | None, from_type: str, from_id: int, to_type: str, to_id: int
) -> bool:
    """Remove every label between two records. A contact whose primary company this was has
    none afterwards (Contact.company cleared). Returns whether anything was removed."""
    associations.stored(from_type, to_type)
    from_pk, to_pk = int(from_id), int(to_id)
    removed = associations.dissociate(from_type, from_pk, to_type, to_pk)
    if not removed:
        return False
    pair = {from_type: from_pk, to_type: to_pk}
    if set(pair) == {CONTACT, COMPANY}:
        Contact.objects.filter(pk=pair[CONTACT], company_id=pair[COMPANY]).update(
            company_id=None, updated_at=timezone.now()
        )
    _write_events(_association_events(actor, "dissociated", from_type, from_pk, to_type, to_pk))
    return True


# --- Merge -----------------------------------------------------------------------------------


def _repoint_references(
    model: type[models.Model], old: models.Model, new: models.Model, skip: set[type[models.Model]]
) -> None:
    """Every row of another model that points at `old` (a ticket's contact, a
    conversation's, a message's, a chat visitor's, a contact's company) points at `new`.
    Through Django's reverse relations, so crm needs to know none of those models."""
    # include_hidden: foreign keys with related_name="+" (the chat visitor's) count too.
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and relation.one_to_many):
            continue
        related = relation.related_model
        if related in skip or not isinstance(related, type):
            continue
        name = relation.field.name  # type: ignore[union-attr]
        related._base_manager.filter(**{name: old}).update(**{name: new})


@transaction.atomic
def merge_contacts(*, actor: User | None, primary: Contact, other: Contact) -> Contact:
    """Merge `other` into `primary`: its emails (none primary), numbers, associations,
    tickets, conversations and messages move to `primary`; blank properties of `primary`
    are filled from `other` (custom values: primary's win, missing ones filled); `other`
    stays as a row whose `merged_into` is `primary`, so its id resolves to the survivor
    (crm.queries.resolve_contact) and it is listed nowhere. `signals.contacts_merged` is
    sent after commit. Raises RecordValidationError for a contact merged with itself or an
    already merged one."""
    if primary.pk == other.pk:
        raise RecordValidationError({"other": _("Choose another contact to merge.")})
    first_pk, second_pk = sorted((primary.pk, other.pk))
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update()
        .filter(pk__in=[first_pk, second_pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise RecordNotFoundError(str(other.pk))
    keep, gone = locked[primary.pk], locked[other.pk]
    if keep.merged_into_id is not None or gone.merged_into_id is not None:
        raise RecordValidationError({"other": _("This contact was already merged.")})

    # Emails: other's become non-primary addresses of the survivor.
    _ensure_email_rows(keep)
    _ensure_email_rows(gone)
    had_emails = ContactEmail.objects.filter(contact=keep).exists()
    ContactEmail.objects.filter(contact=gone).update(contact=keep, is_primary=False)
    if not had_emails:
        ContactEmail.objects.filter(
            pk=ContactEmail.objects.filter(contact=keep).order_by("id").values("pk")[:1]
        ).update(is_primary=True)
    # Numbers: moved unless the survivor already has them.
    kept_numbers = set(ContactPhone.objects.filter(contact=keep).values_list("number", flat=True))
    ContactPhone.objects.filter(contact=gone, number__in=kept_numbers).delete()
    ContactPhone.objects.filter(contact=gone).update(contact=keep)

    # The tickets that change hands, for the after-commit announcement (read before the move).
    ticket_ids = sorted(cast(Iterable[int], associations.associated_ids(CONTACT, gone.pk, TICKET)))
    associations.move_associations(CONTACT, gone.pk, keep.pk)
    _repoint_references(Contact, gone, keep, skip={Contact, ContactEmail, ContactPhone})

    update_fields = [
        "custom",
        "company_id",
        "external_id",
        "merged_into",
        "email",
        "phone",
        "mobile_phone",
    ]
    for name in ("first_name", "last_name", "company_name", "language", "owner_id"):
        if not getattr(keep, name) and getattr(gone, name):
            setattr(keep, name, getattr(gone, name))
            update_fields.append(name)
    if not keep.external_id and gone.external_id:
        keep.external_id, gone.external_id = gone.external_id, None
    keep.custom = {**(gone.custom or {}), **(keep.custom or {})} or None
    keep.company_id = associations.primary_id(CONTACT, keep.pk, COMPANY)
    keep.save(
        update_fields=[
            f for f in update_fields if f not in {"merged_into", "email", "phone", "mobile_phone"}
        ]
        + ["updated_at"]
    )
    _sync_primary_email(keep)
    _sync_phone_columns(keep)

    gone.merged_into = keep
    gone.email = gone.phone = gone.mobile_phone = ""
    gone.company = None
    gone.save(
        update_fields=[
            "merged_into",
            "email",
            "phone",
            "mobile_phone",
            "company",
            "external_id",
            "updated_at",
        ]
    )

    # The merged contact's history joins the survivor's timeline.
    RecordEvent.objects.filter(object_type=CONTACT, object_id=gone.pk).update(object_id=keep.pk)
    _write_events(
        [
            _event(
                CONTACT,
                keep.pk,
                actor,
                "merged",
                "",
                None,
                {"id": gone.pk, "name": gone.display_name},
            ),
            _event(CONTACT, gone.pk, actor, "merged", "merged_into", None, keep.pk),
        ]
    )
    after_commit(
        contacts_merged.send,
        sender=Contact,
        primary_id=keep.pk,
        merged_id=gone.pk,
        ticket_ids=ticket_ids,
        actor_id=actor.pk if actor else None,
    )
    _copy_into(keep, primary)
    _copy_into(gone, other)
    return keep


@transaction.atomic
def merge_companies(*, actor: User | None, primary: Company, other: Company) -> Company:
    """Merge `other` into `primary`: associations and contacts move, blank properties are
    filled from `other`, `other.merged_into` is `primary`. As merge_contacts."""
    if primary.pk == other.pk:
        raise RecordValidationError({"other": _("Choose another company to merge.")})
    locked = {
        c.pk: c
        for c in Company.objects.select_for_update()
        .filter(pk__in=[primary.pk, other.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise RecordNotFoundError(str(other.pk))
    keep, gone = locked[primary.pk], locked[other.pk]
    if keep.merged_into_id is not None or gone.merged_into_id is not None:
        raise RecordValidationError({"other": _("This company was already merged.")})
    associations.move_associations(COMPANY, gone.pk, keep.pk)
    _repoint_references(Company, gone, keep, skip={Company})
    update_fields = ["custom"]
    for name in (
        "domain",
        "phone",
        "street_address",
        "city",
        "postal_code",
        "country",
        "industry",
        "owner_id",
        "external_id",
    ):
        if not getattr(keep, name) and getattr(gone, name):
            setattr(keep, name, getattr(gone, name))
            update_fields.append(name)
    keep.custom = {**(gone.custom or {}), **(keep.custom or {})}
    keep.save(update_fields=[*update_fields, "updated_at"])
    gone.merged_into = keep
    gone.save(update_fields=["merged_into", "updated_at"])
    RecordEvent.objects.filter(object_type=COMPANY, object_id=gone.pk).update(object_id=keep.pk)
    _write_events(
        [
            _event(COMPANY, keep.pk, actor, "merged", "", None, {"id": gone.pk, "name": gone.name}),
            _event(COMPANY, gone.pk, actor, "merged", "merged_into", None, keep.pk),
        ]
    )
    after_commit(companies_merged.send, sender=Company, primary_id=keep.pk, merged_id=gone.pk)
    _copy_into(keep, primary)
    _copy_into(gone, other)
    return keep


# --- Inbound ---------------------------------------------------------------------------------


def find_or_create_contact_for_address(
    email: str, *, name: str = "", language: str = ""
) -> Contact:
    """The contact an inbound sender is: the one owning this address (any of a contact's
    addresses, case-insensitive; a merged-away owner resolves to its survivor), else a new
    contact named from `name` (a display name such as "Anna Svensson"), with the address as
    its primary email and — by the domain setting — its company. A known contact without a
    name gets one. Safe when two processes see the same new sender at once."""
    return find_or_create_contacts_for_addresses([(email, name)], language=language)[
        (email or "").strip().lower()
    ]


@transaction.atomic(savepoint=False)  # inbound's batch transaction: no extra statements
def find_or_create_contacts_for_addresses(
    senders: Sequence[tuple[str, str]], *, language: str = ""
) -> dict[str, Contact]:
    """`find_or_create_contact_for_address` for many (address, display name) pairs: a few
    queries and one INSERT per table for the new ones. Keyed by the lower-case address;
    empty addresses are left out."""
    names: dict[str, tuple[str, str, str]] = {}
    for address, display_name in senders:
        address = (address or "").strip()[:254]
        if address and address.lower() not in names:
            names[address.lower()] = (address, *split_display_name(display_name or ""))
    if not names:
        return {}
    found = crm_queries.contacts_by_addresses(list(names))
    named: list[RecordEvent] = []
    for key, contact in found.items():
        _, first, last = names[key]
        if not contact.first_name and not contact.last_name and (first or last):
            contact.first_name, contact.last_name = first, last
            contact.save(update_fields=["first_name", "last_name", "updated_at"])
            named.extend(
                _event(CONTACT, contact.pk, None, "changed", name, "", value)
                for name, value in (("first_name", first), ("last_name", last))
                if value
            )
    _write_events(named)
    missing = [key for key in names if key not in found]
    if missing:
        found.update(_create_for_addresses({key: names[key] for key in missing}, language))
    return found


def _create_for_addresses(
    names: Mapping[str, tuple[str, str, str]], language: str
) -> dict[str, Contact]:
    companies: dict[str, int] = {}
    if crm_queries.crm_settings().associate_by_domain:
        domains = {
            crm_queries.email_domain(key)
            for key in names
            if not crm_queries.is_free_email_domain(crm_queries.email_domain(key))
        } - {""}
        if domains:
            # Ordered newest first, so the oldest company of a domain wins.
            companies = dict(
                Company.objects.filter(domain__in=domains, merged_into__isnull=True)
                .order_by("-pk")
                .values_list("domain", "pk")
            )
    new: dict[str, Contact] = {}
    for key, (address, first, last) in names.items():
        new[key] = Contact(
            email=address,
            first_name=first,
            last_name=last,
            language=language or None,
            company_id=companies.get(crm_queries.email_domain(key)),
        )
    Contact.objects.bulk_create(new.values())
    inserted = _insert_primary_addresses([(c.pk, c.email, key) for key, c in new.items()])
    created = [c for key, c in new.items() if key in inserted]
    # Another process created a contact for one of these addresses since the lookup: its
    # address row won; our contact is dropped and theirs used.
    lost = [key for key in new if key not in inserted]
    if lost:
        Contact.objects.filter(pk__in=[new[key].pk for key in lost]).delete()
        new.update(crm_queries.contacts_by_addresses(lost))
    associations.link_contact_companies((c.pk, c.company_id) for c in created if c.company_id)
    _write_events(_event(CONTACT, c.pk, None, "created") for c in created)
    return new


def _insert_primary_addresses(rows: Sequence[tuple[int, str, str]]) -> set[str]:
    """Insert (contact id, email, email key) as primary ContactEmail rows, skipping keys
    another contact already has; returns the keys inserted. One statement (INSERT … ON
    CONFLICT DO NOTHING RETURNING, which PostgreSQL and SQLite ≥ 3.35 both run): the
    ORM's bulk_create cannot say which rows a conflict skipped."""
    quote = connection.ops.quote_name
    table = quote(ContactEmail._meta.db_table)
    columns = ", ".join(quote(c) for c in ("contact_id", "email", "email_key", "is_primary"))
    inserted: set[str] = set()
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
        params: list[Any] = []
        for contact_id, email, key in chunk:
            params.extend((contact_id, email, key, True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608 (names quoted)
                f"ON CONFLICT ({quote('email_key')}) DO NOTHING RETURNING {quote('email_key')}",
                params,
            )
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


# --- Settings --------------------------------------------------------------------------------


@transaction.atomic
def update_crm_settings(
    *,
    actor: User | None,
    associate_by_domain: bool | None = None,
    default_phone_region: str | None = None,
) -> CrmSettings:
    """Change the account's CRM settings. Raises RecordValidationError for a region
    libphonenumber does not know."""
    row = CrmSettings.objects.select_for_update().order_by("pk").first()
    if row is None:
        row = CrmSettings.objects.create()
    fields = []
    if associate_by_domain is not None:
        row.associate_by_domain = bool(associate_by_domain)
        fields.append("associate_by_domain")
    if default_phone_region is not None:
        region = default_phone_region.strip().upper()
        if not phone_numbers.is_valid_region(region):
            raise RecordValidationError({"default_phone_region": _("Choose a country or region.")})
        row.default_phone_region = region
        fields.append("default_phone_region")
    if fields:
        row.save(update_fields=fields)
    forget(crm_queries.SETTINGS_CACHE_KEY)
    after_commit(forget, crm_queries.SETTINGS_CACHE_KEY)
    return row


def object_model(object_type: str) -> type[models.Model]:
    """The model of a CRM record type (contact, company, deal)."""
    try:
        return _MODELS[ObjectType(object_type).value]
    except (KeyError, ValueError):
        raise RecordNotFoundError(object_type) from None
