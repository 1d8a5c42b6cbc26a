"""Reads of CRM records that need no ticket scope: settings, merge resolution, address
lookups, phones and emails for display, record timelines. Which records a user may see is
`tickets.queries.visible_contacts/visible_companies/visible_deals` (scope comes from tickets)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from django.db.models import F, QuerySet, Value
from django.db.models.functions import Lower

from svardesk.core.local_cache import cached
from svardesk.crm import phones as phone_numbers
from svardesk.crm.exceptions import RecordNotFoundError
from svardesk.crm.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    CrmSettings,
    ObjectType,
    RecordEvent,
)

SETTINGS_CACHE_KEY = "crm.settings"
# A merge chain longer than this is a cycle or corrupt data; stop following it.
_MAX_MERGE_HOPS = 20


def crm_settings() -> CrmSettings:
    """The account's CRM settings (one row, created with the defaults on first read). Kept
    in this process for a few seconds (core.local_cache); crm.services clears it on save."""
    return cached(SETTINGS_CACHE_KEY, _load_settings)


def _load_settings() -> CrmSettings:
    row = CrmSettings.objects.order_by("pk").first()
    if row is None:
        row, _ = CrmSettings.objects.get_or_create(pk=1)
    return row


@cache
def free_email_domains() -> frozenset[str]:
    """Domains of free and consumer mail providers (crm/resources/free_email_domains.txt): a
    contact at one of them is never put in a company by its email domain."""
    text = (
        resources.files("svardesk.crm")
        .joinpath("resources/free_email_domains.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(
        line.strip().lower()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def email_domain(email: str) -> str:
    """ "Anna@Mail.Example.COM" → "mail.example.com" ("" for no address)."""
    _, _, domain = (email or "").strip().rpartition("@")
    return domain.strip().lower().rstrip(".")


def is_free_email_domain(domain: str) -> bool:
    return domain.lower() in free_email_domains()


def company_for_email_domain(email: str) -> Company | None:
    """The company whose domain is the address's domain (the oldest if several), unless the
    domain is a free-mail provider's. Merged-away companies never match."""
    domain = email_domain(email)
    if not domain or is_free_email_domain(domain):
        return None
    return Company.objects.filter(domain=domain, merged_into__isnull=True).order_by("pk").first()


def _resolve(model: Any, record_id: Any) -> Any:
    try:
        pk = int(record_id)
    except (TypeError, ValueError):
        raise RecordNotFoundError(str(record_id)) from None
    seen: set[int] = set()
    for _ in range(_MAX_MERGE_HOPS):
        record = model.objects.filter(pk=pk).first()
        if record is None:
            raise RecordNotFoundError(str(record_id))
        if record.merged_into_id is None or record.merged_into_id in seen:
            return record
        seen.add(pk)
        pk = record.merged_into_id
    return record


def resolve_contact(contact_id: Any) -> Contact:
    """The contact with this id — or, if it was merged away, the contact it was merged into
    (followed to the survivor). RecordNotFoundError when there is none."""
    contact: Contact = _resolve(Contact, contact_id)
    return contact


def resolve_company(company_id: Any) -> Company:
    """As `resolve_contact`, for companies."""
    company: Company = _resolve(Company, company_id)
    return company


def contact_by_address(email: str) -> Contact | None:
    """The contact that owns this address (any of its addresses, compared lower-case),
    followed to the survivor if it was merged away; None when no contact has it."""
    key = (email or "").strip().lower()
    if not key:
        return None
    return contacts_by_addresses([key]).get(key)


def contacts_by_addresses(emails: list[str]) -> dict[str, Contact]:
    """`contact_by_address` for many addresses in one statement; keyed by the lower-case
    address, only addresses that have a contact.

    An address is matched by its ContactEmail row; a contact that has no rows (written by
    code that set only Contact.email) is matched by lower(email) — both indexed lookups,
    joined by UNION ALL. Its ContactEmail owner wins over such a contact, and the oldest
    contact among several."""
    keys = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not keys:
        return {}
    by_row = (
        Contact.objects.filter(emails__email_key__in=keys)
        .annotate(address_key=F("emails__email_key"), by_row=Value(1))
        .order_by()
    )
    by_column = (
        Contact.objects.annotate(address_key=Lower("email"), by_row=Value(0))
        .filter(address_key__in=keys, merged_into__isnull=True)
        .order_by()
    )
    rows: list[Any] = list(by_row.union(by_column, all=True))
    rows.sort(key=lambda c: (-c.by_row, c.pk))
    found: dict[str, Contact] = {}
    for row in rows:
        key = row.address_key
        if key in found:
            continue
        found[key] = resolve_contact(row.pk) if row.merged_into_id is not None else row
    return found


def contact_addresses(contact_id: int) -> set[str]:
    """Every address of a contact, lower-case (its address rows and its primary column), in
    one query."""
    rows = Contact.objects.filter(pk=contact_id).values_list("email", "emails__email_key")
    found: set[str] = set()
    for email, key in rows:
        if email:
            found.add(email.lower())
        if key:
            found.add(key)
    return found


def contact_emails(contact: Contact) -> QuerySet[ContactEmail]:
    """The contact's addresses, the primary first."""
    return ContactEmail.objects.filter(contact=contact).order_by("-is_primary", "id")


@dataclass(frozen=True)
class PhoneForDisplay:
    number: str  # E.164 (or the text as stored, for a number that never parsed)
    kind: str
    national: str
    international: str
    display: str  # national for the account's region, international otherwise


def phone_for_display(
    number: str, kind: str = "phone", region: str | None = None
) -> PhoneForDisplay:
    return PhoneForDisplay(
        number=number,
        kind=kind,
        national=phone_numbers.format_national(number),
        international=phone_numbers.format_international(number),
        display=phone_numbers.format_for_region(number, region),
    )


def contact_phones(contact: Contact) -> list[PhoneForDisplay]:
    """The contact's numbers with their display forms, in the order they were added."""
    region = crm_settings().default_phone_region
    return [
        phone_for_display(number, kind, region)
        for number, kind in ContactPhone.objects.filter(contact=contact)
        .order_by("id")
        .values_list("number", "kind")
    ]


def record_events(object_type: str, object_id: int, *, limit: int = 100) -> list[RecordEvent]:
    """A record's timeline, newest first, with the actors loaded (`event.actor`)."""
    if object_type not in ObjectType.values:
        raise RecordNotFoundError(object_type)
    return list(
        RecordEvent.objects.filter(object_type=object_type, object_id=object_id)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
