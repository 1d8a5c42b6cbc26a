"""The demo's CRM records: companies with domains, contacts with several addresses and phone
numbers (ContactEmail / ContactPhone rows, numbers in E.164), deals, and the associations
between them and the tickets — bulk loaded like the tickets (COPY on PostgreSQL).

Contacts with an address at their company's domain belong to that company (primary
contact → company association), as crm's domain rule would have it; contacts at a free-mail
domain belong to one only when the generator gives them a company explicitly. Every ticket
with a contact is associated with it (unlabelled and primary) and with the contact's
company (both labels); every tenth company or so has a deal, associated with the company
and one of its contacts; half the deals with that contact's latest ticket.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models

from svardesk.crm.models import (
    Association,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    Deal,
    DealStage,
)
from svardesk.demo import bulk
from svardesk.demo import vocabulary as words
from svardesk.tickets.models import Ticket

Progress = bulk.Progress
Row = bulk.Row

CHUNK = bulk.PROGRESS_EVERY
SECOND_EMAIL_SHARE = 0.25
# Of the contacts with a company, the share writing from a personal address.
PERSONAL_ADDRESS_SHARE = 0.1
COMPANY_SHARE = 0.75
DEAL_EVERY = 10  # one deal per this many companies
TICKET_DEAL_SHARE = 0.5

_ASSOCIATION_COLUMNS = ("from_type", "from_id", "to_type", "to_id", "label", "created_at")
_INDUSTRIES = (
    "Construction", "Retail", "Software", "Healthcare", "Logistics", "Hospitality",
    "Manufacturing", "Consulting", "Real estate", "Media",
)  # fmt: skip
_CITIES = ("Stockholm", "Göteborg", "Malmö", "Uppsala", "Umeå", "Luleå", "Örebro", "Visby")
_DEAL_PRODUCTS = (
    "Licenser", "Förnyelse", "Uppgradering", "Support-avtal", "Utbildning", "Rådgivning",
    "Annual licence", "Renewal", "Onboarding", "Expansion",
)  # fmt: skip
_STAGES = tuple(str(stage) for stage in DealStage.values)
_STAGE_WEIGHTS = (20, 18, 15, 14, 10, 13, 10)


def _quiet(message: str) -> None:
    """Progress sink that drops every message."""


@dataclass
class CrmCounts:
    companies: int = 0
    contacts: int = 0
    emails: int = 0
    phones: int = 0
    deals: int = 0
    associations: int = 0
    timings: dict[str, float] = field(default_factory=dict)


def defaulted_columns(
    model: type[models.Model], written: Sequence[str]
) -> tuple[tuple[str, Any], ...]:
    """`model`'s required columns a generator does not write, with their model default:
    Django gives them no database default, so a COPY must ("", {}, …)."""
    out = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.null or f.column in written:
            continue
        value = f.get_default()  # a CharField without a default: ""
        if value is None and getattr(f, "auto_now_add", False):
            value = dt.datetime.now(tz=dt.UTC)
        if isinstance(value, dict | list):
            value = "{}" if isinstance(value, dict) else "[]"
        elif hasattr(value, "value"):
            value = value.value
        out.append((str(f.column), value))
    return tuple(out)


def _with_defaults(
    model: type[models.Model], columns: Sequence[str], rows: Iterator[Row]
) -> tuple[tuple[str, ...], Iterator[Row]]:
    defaulted = defaulted_columns(model, columns)
    values = tuple(value for _column, value in defaulted)
    all_columns = tuple(columns) + tuple(column for column, _value in defaulted)
    return all_columns, (row + values for row in rows) if values else rows


def reserve_ids(model: type[models.Model], count: int) -> int:
    """The first of `count` consecutive ids for `model`'s new rows, reserved from its
    sequence (PostgreSQL) or past the largest id (SQLite), so rows can be written with their
    ids and their side tables alongside."""
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = int(cursor.fetchone()[0])
            if count > 1:
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
    return bulk.max_id(model) + 1


# --- Phone numbers ---------------------------------------------------------------------------

_NOT_DIGIT = re.compile(r"\D")


def e164(typed: str) -> str:
    """The E.164 form of a number the generator typed (vocabulary MOBILE_FORMATS and
    LANDLINE_FORMATS only: Swedish national, +46/+44 international, US "(555) …"). The
    tests check it against phonenumbers for every format."""
    text = typed.replace("(0)", "")
    digits = _NOT_DIGIT.sub("", text)
    if text.startswith("+"):
        return "+" + digits
    if text.startswith("("):
        return "+1" + digits
    return "+46" + digits[1:]


# --- Companies -------------------------------------------------------------------------------


def _company_name(rng: random.Random, swedish: bool) -> str:
    choice = bulk_choice
    roll = rng.random()
    if swedish:
        if roll < 0.5:
            head = choice(rng, words.SWEDISH_PLACES)
        elif roll < 0.8:
            head = choice(rng, words.SWEDISH_LAST_NAMES) + "s"
        else:
            head = (
                f"{choice(rng, words.SWEDISH_LAST_NAMES)} & {choice(rng, words.SWEDISH_LAST_NAMES)}"
            )
        return (
            f"{head} {choice(rng, words.SWEDISH_TRADES)} {choice(rng, words.SWEDISH_LEGAL_FORMS)}"
        )
    head = choice(rng, words.ENGLISH_WORDS) if roll < 0.6 else choice(rng, words.ENGLISH_LAST_NAMES)
    form = choice(rng, words.ENGLISH_LEGAL_FORMS)
    return f"{head} {choice(rng, words.ENGLISH_TRADES)} {form}".strip()


def bulk_choice(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[int(rng.random() * len(items))]


def ascii_slug(text: str) -> str:
    from svardesk.demo.generator import _ascii

    return _ascii(text)


def _domain_base(name: str, swedish: bool) -> tuple[str, str]:
    legal = {"ab", "hb", "ltd", "inc", "llc", "gmbh", "oy", "as", "soner", "ekonomisk", "forening"}
    parts = [ascii_slug(part) for part in name.replace("&", " ").split()]
    slug = "-".join(p for p in parts if p and p not in legal) or "company"
    return slug, ".se" if swedish else ".com"


@dataclass
class _Company:
    id: int
    name: str
    domain: str
    swedish: bool


def company_rows(
    rng: random.Random, count: int, first_id: int, now: dt.datetime, used_domains: set[str]
) -> tuple[list[_Company], Iterator[Row]]:
    """The companies (id, name, domain) and their crm_company rows: id, created_at,
    updated_at, name, domain, phone, city, country, industry."""
    companies: list[_Company] = []
    for index in range(count):
        swedish = rng.random() < 0.7
        name = _company_name(rng, swedish)
        slug, tld = _domain_base(name, swedish)
        domain, suffix = f"{slug}{tld}", 1
        while domain in used_domains:
            suffix += 1
            domain = f"{slug}{suffix}{tld}"
        used_domains.add(domain)
        companies.append(_Company(first_id + index, name, domain, swedish))

    def rows() -> Iterator[Row]:
        for company in companies:
            created = now - dt.timedelta(seconds=rng.random() * 900 * 86400)
            if company.swedish:
                phone = "+468" + "".join(str(int(rng.random() * 10)) for _ in range(8))
                city, country = bulk_choice(rng, _CITIES), "Sweden"
            else:
                phone = "+4420" + "".join(str(int(rng.random() * 10)) for _ in range(8))
                city, country = "London", "United Kingdom"
            yield (
                company.id, created, created, company.name, company.domain, phone, city,
                country, bulk_choice(rng, _INDUSTRIES),
            )  # fmt: skip

    return companies, rows()


_COMPANY_COLUMNS = (
    "id", "created_at", "updated_at", "name", "domain", "phone", "city", "country", "industry",
)  # fmt: skip
_CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "first_name", "last_name", "email", "phone",
    "mobile_phone", "company_name", "company_id",
)  # fmt: skip
_EMAIL_COLUMNS = ("contact_id", "email", "email_key", "is_primary")
_PHONE_COLUMNS = ("contact_id", "number", "kind")
_DEAL_COLUMNS = (
    "id", "created_at", "updated_at", "name", "amount", "currency", "pipeline", "stage",
    "close_date", "owner_id",
)  # fmt: skip


def _unique(address: str, used: set[str]) -> str:
    key = address.lower()
    if key not in used:
        used.add(key)
        return address
    local, domain = address.split("@", 1)
    suffix = 2
    while f"{local}{suffix}@{domain}".lower() in used:
        suffix += 1
    address = f"{local}{suffix}@{domain}"
    used.add(address.lower())
    return address


@dataclass
class _ContactChunk:
    contacts: list[Row] = field(default_factory=list)
    emails: list[Row] = field(default_factory=list)
    phones: list[Row] = field(default_factory=list)
    associations: list[Row] = field(default_factory=list)


def contact_chunks(
    rng: random.Random,
    count: int,
    first_id: int,
    companies: Sequence[_Company],
    now: dt.datetime,
    used_emails: set[str],
    company_contact: dict[int, int],
) -> Iterator[_ContactChunk]:
    """Contacts in chunks of CHUNK, with their ContactEmail and ContactPhone rows and their
    contact → company associations. `company_contact` collects a contact of each company
    (for its deals)."""
    from svardesk.demo.generator import _digits, _person

    chunk = _ContactChunk()
    n_companies = len(companies)
    for index in range(count):
        contact_id = first_id + index
        first, last, _swedish = _person(rng, swedish_share=0.7)
        first_a, last_a = ascii_slug(first), ascii_slug(last)
        company = None
        if n_companies and rng.random() < COMPANY_SHARE:
            company = companies[int(rng.random() * n_companies)]
        addresses: list[str] = []
        if rng.random() < 0.95:
            if company is not None and rng.random() >= PERSONAL_ADDRESS_SHARE:
                shape = rng.random()
                local = (
                    f"{first_a}.{last_a}"
                    if shape < 0.5
                    else first_a
                    if shape < 0.75
                    else f"{first_a[:1]}{last_a}"
                )
                addresses.append(_unique(f"{local}@{company.domain}", used_emails))
            else:
                addresses.append(
                    _unique(
                        f"{first_a}.{last_a}@{bulk_choice(rng, words.PERSONAL_EMAIL_DOMAINS)}",
                        used_emails,
                    )
                )
            if rng.random() < SECOND_EMAIL_SHARE:
                number = int(rng.random() * 100)
                addresses.append(
                    _unique(
                        f"{first_a}{number}@{bulk_choice(rng, words.PERSONAL_EMAIL_DOMAINS)}",
                        used_emails,
                    )
                )
        phone = (
            _digits(rng, bulk_choice(rng, words.LANDLINE_FORMATS)) if rng.random() < 0.45 else ""
        )
        mobile = _digits(rng, bulk_choice(rng, words.MOBILE_FORMATS)) if rng.random() < 0.6 else ""
        created = now - dt.timedelta(seconds=rng.random() * 730 * 86400)
        chunk.contacts.append(
            (
                contact_id,
                created,
                created,
                first,
                last,
                addresses[0] if addresses else "",
                e164(phone) if phone else "",  # stored in E.164, as crm.services stores them
                e164(mobile) if mobile else "",
                company.name if company else "",
                company.id if company else None,
            )
        )
        for position, address in enumerate(addresses):
            chunk.emails.append((contact_id, address, address.lower(), position == 0))
        numbers: list[str] = []
        for typed, kind in ((mobile, "mobile"), (phone, "phone")):
            if typed and e164(typed) not in numbers:
                numbers.append(e164(typed))
                chunk.phones.append((contact_id, numbers[-1], kind))
        if company is not None:
            company_contact.setdefault(company.id, contact_id)
            for label in ("", "primary"):
                chunk.associations.append(
                    ("contact", contact_id, "company", company.id, label, created)
                )
        if len(chunk.contacts) == CHUNK:
            yield chunk
            chunk = _ContactChunk()
    if chunk.contacts:
        yield chunk


def deal_rows(
    rng: random.Random,
    companies: Sequence[_Company],
    first_id: int,
    company_contact: dict[int, int],
    owner_ids: Sequence[int],
    now: dt.datetime,
) -> tuple[list[Row], list[Row]]:
    """One deal per DEAL_EVERY companies (every one with a contact): its row and its deal →
    company and deal → contact associations."""
    deals: list[Row] = []
    links: list[Row] = []
    cumulative = []
    total = 0
    for weight in _STAGE_WEIGHTS:
        total += weight
        cumulative.append(total)
    deal_id = first_id
    for company in companies[::DEAL_EVERY]:
        created = now - dt.timedelta(seconds=rng.random() * 365 * 86400)
        roll = rng.random() * total
        stage = _STAGES[next(i for i, c in enumerate(cumulative) if roll < c)]
        currency = "SEK" if company.swedish or rng.random() < 0.3 else "EUR"
        amount = Decimal(int(rng.random() * 200 + 1) * (1000 if currency == "SEK" else 100))
        close = (created + dt.timedelta(days=int(rng.random() * 120) + 14)).date()
        name = f"{bulk_choice(rng, _DEAL_PRODUCTS)} - {company.name}"
        owner = bulk_choice(rng, owner_ids) if owner_ids and rng.random() < 0.9 else None
        deals.append(
            (deal_id, created, created, name, amount, currency, "default", stage, close, owner)
        )
        links.append(("deal", deal_id, "company", company.id, "", created))
        contact_id = company_contact.get(company.id)
        if contact_id:
            links.append(("deal", deal_id, "contact", contact_id, "", created))
        deal_id += 1
    return deals, links


# --- Loading ----------------------------------------------------------------------------------


def load_records(
    *,
    seed: int,
    companies: int,
    contacts: int,
    owner_ids: Sequence[int],
    now: dt.datetime,
    progress: Progress,
) -> CrmCounts:
    """Companies, contacts (with emails, phones, company associations) and deals."""
    counts = CrmCounts()
    quiet = _quiet
    started = time.perf_counter()
    used_domains = set(
        Company.objects.exclude(domain="").values_list("domain", flat=True).iterator()
    )
    first_company = reserve_ids(Company, companies) if companies else 0
    company_list, rows = company_rows(
        random.Random(f"{seed}:companies"), companies, first_company, now, used_domains
    )
    if companies:
        columns, all_rows = _with_defaults(Company, _COMPANY_COLUMNS, rows)
        counts.companies = bulk.insert_rows(
            Company, columns, all_rows, label="companies", total=companies, progress=progress
        )
    counts.timings["companies"] = time.perf_counter() - started

    started = time.perf_counter()
    used_emails = set(ContactEmail.objects.values_list("email_key", flat=True).iterator())
    company_contact: dict[int, int] = {}
    first_contact = reserve_ids(Contact, contacts) if contacts else 0
    contact_columns, _ = _with_defaults(Contact, _CONTACT_COLUMNS, iter(()))
    defaults = defaulted_columns(Contact, _CONTACT_COLUMNS)
    extra = tuple(value for _c, value in defaults)
    email_columns, _ = _with_defaults(ContactEmail, _EMAIL_COLUMNS, iter(()))
    email_extra = tuple(v for _c, v in defaulted_columns(ContactEmail, _EMAIL_COLUMNS))
    phone_columns, _ = _with_defaults(ContactPhone, _PHONE_COLUMNS, iter(()))
    phone_extra = tuple(v for _c, v in defaulted_columns(ContactPhone, _PHONE_COLUMNS))
    for chunk in contact_chunks(
        random.Random(f"{seed}:contacts"),
        contacts,
        first_contact,
        company_list,
        now,
        used_emails,
        company_contact,
    ):
        counts.contacts += bulk.insert_rows(
            Contact, contact_columns, (r + extra for r in chunk.contacts), label="contacts",
            total=len(chunk.contacts), progress=quiet,
        )  # fmt: skip
        counts.emails += bulk.insert_rows(
            ContactEmail, email_columns, (r + email_extra for r in chunk.emails),
            label="emails", total=len(chunk.emails), progress=quiet,
        )  # fmt: skip
        counts.phones += bulk.insert_rows(
            ContactPhone, phone_columns, (r + phone_extra for r in chunk.phones),
            label="phones", total=len(chunk.phones), progress=quiet,
        )  # fmt: skip
        counts.associations += bulk.insert_rows(
            Association, _ASSOCIATION_COLUMNS, chunk.associations, label="associations",
            total=len(chunk.associations), progress=quiet,
        )  # fmt: skip
        progress(
            f"contacts: {counts.contacts:,} / {contacts:,} "
            f"({time.perf_counter() - started:.1f}s; {counts.emails:,} emails, "
            f"{counts.phones:,} phones)"
        )
    counts.timings["contacts"] = time.perf_counter() - started

    started = time.perf_counter()
    deal_count = len(company_list[::DEAL_EVERY])
    if deal_count:
        first_deal = reserve_ids(Deal, deal_count)
        deals, links = deal_rows(
            random.Random(f"{seed}:deals"), company_list, first_deal, company_contact, owner_ids,
            now,
        )  # fmt: skip
        columns, all_rows = _with_defaults(Deal, _DEAL_COLUMNS, iter(deals))
        counts.deals = bulk.insert_rows(
            Deal, columns, all_rows, label="deals", total=len(deals), progress=progress
        )
        counts.associations += bulk.insert_rows(
            Association, _ASSOCIATION_COLUMNS, links, label="deal associations",
            total=len(links), progress=quiet,
        )  # fmt: skip
    counts.timings["deals"] = time.perf_counter() - started
    return counts


def associate_tickets(*, after_id: int, after_deal: int, progress: Progress) -> int:
    """Every ticket with id > `after_id` and a contact: ticket → contact (unlabelled and
    primary), ticket → the contact's company (both labels); then half the new deals with
    their contact's latest ticket (deals with id > `after_deal`). INSERT … SELECT per id
    range, as create_ticket_events."""
    association = Association._meta.db_table
    ticket = Ticket._meta.db_table
    contact = Contact._meta.db_table
    statements = [
        f"INSERT INTO {association} ({', '.join(_ASSOCIATION_COLUMNS)}) "  # noqa: S608
        f"SELECT 'ticket', t.id, 'contact', t.contact_id, labels.label, t.created_at "
        f"FROM {ticket} t CROSS JOIN (SELECT '' AS label UNION ALL SELECT 'primary') labels "
        "WHERE t.contact_id IS NOT NULL AND t.id > %s AND t.id <= %s",
        f"INSERT INTO {association} ({', '.join(_ASSOCIATION_COLUMNS)}) "  # noqa: S608
        f"SELECT 'ticket', t.id, 'company', c.company_id, labels.label, t.created_at "
        f"FROM {ticket} t JOIN {contact} c ON c.id = t.contact_id "
        "CROSS JOIN (SELECT '' AS label UNION ALL SELECT 'primary') labels "
        "WHERE c.company_id IS NOT NULL AND t.id > %s AND t.id <= %s",
    ]
    last_id = bulk.max_id(Ticket)
    started = time.perf_counter()
    created = 0
    with connection.cursor() as cursor:
        low = after_id
        while low < last_id:
            high = min(low + CHUNK, last_id)
            for sql in statements:
                cursor.execute(sql, [low, high])
                created += cursor.rowcount
            low = high
            progress(f"ticket associations: {created:,} ({time.perf_counter() - started:.1f}s)")
        # Half the new deals: their contact's latest new ticket. One grouping pass over the
        # new tickets, joined: a lookup per deal would leave the plan to a planner that has
        # no statistics yet for the rows this transaction wrote.
        cursor.execute(
            f"INSERT INTO {association} ({', '.join(_ASSOCIATION_COLUMNS)}) "  # noqa: S608
            f"SELECT 'ticket', latest.ticket_id, 'deal', a.from_id, '', a.created_at "
            f"FROM {association} a JOIN (SELECT contact_id, max(id) AS ticket_id FROM {ticket} "
            "WHERE id > %s AND contact_id IS NOT NULL GROUP BY contact_id) latest "
            "ON latest.contact_id = a.to_id "
            "WHERE a.from_type = 'deal' AND a.to_type = 'contact' AND a.label = '' "
            "AND a.from_id > %s AND a.from_id %% 2 = 0",
            [after_id, after_deal],
        )
        created += cursor.rowcount
    return created
