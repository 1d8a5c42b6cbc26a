# ruff: noqa: S608 - the SQL below is this module's own; every value travels as a parameter
"""Record pickers: the contacts, companies, deals or users a few typed letters mean, best
first, limited to what the user may see.

Ranks (a record appears once, at its best rank):
1. exact: an address (any of a contact's emails), a phone number in any format (read with
   `phonenumbers` in the account's region, and as digits), a company's domain;
2. the name starts with the query ("ann" → "Anna Berg"), alphabetically;
3. every word of the query starts a word of the name ("berg ann" → "Anna Berg"); for
   contacts also of their company's name; for companies of their domain;
4. the query appears anywhere (3 characters or more): in the name, an address, a domain, a
   number's digits.

Text is compared folded (`search.normalise.fold`: "Åsa Ström" ~ "asa strom"), the same on
both databases: PostgreSQL's svardesk_fold and SQLite's registered function. On PostgreSQL
each rank is an index lookup (search.postgres.RECORD_INDEXES, migration 0003): the folded
names in C order (ranks 2 and 3's prefix walk), trigrams of the folded names, addresses,
domains and numbers (rank 4), the contacts' words (rank 3). A rank that may match very many
records is read up to CANDIDATES of them before the visibility check when the user sees
every record — a picker shows ten, so more would only cost time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import phonenumbers
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.utils.formats import number_format

from svardesk.accounts.models import User
from svardesk.crm.models import Company, Contact, ContactEmail, ContactPhone, Deal
from svardesk.crm.queries import crm_settings
from svardesk.search.normalise import (
    MAX_QUERY_LENGTH,
    MAX_TOKENS,
    MIN_SUBSTRING,
    fold,
    phone_digits,
)
from svardesk.tickets.queries import (
    ticket_scope,
    visible_companies,
    visible_contacts,
    visible_deals,
)

RecordType = Literal["contact", "company", "deal", "user"]
RECORD_TYPES: tuple[str, ...] = ("contact", "company", "deal", "user")

# A rank that may match very many records reads this many before the visibility check (for a
# user who sees every record), then keeps the best `limit` of them.
CANDIDATES = 50
ORDERED_CANDIDATES = 100
# A user who sees only some records: more candidates, since many may be out of their sight.
RESTRICTED_CANDIDATES = 150
RESTRICTED_ORDERED_CANDIDATES = 500
EXACT_CANDIDATES = 1000
MAX_LIMIT = 50
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")
_MIN_PHONE_DIGITS = 5


@dataclass(frozen=True)
class PickedRecord:
    id: int
    type: str
    label: str
    secondary: str  # email / domain / phone / amount; "" when there is none
    initials: str


@dataclass(frozen=True)
class _Query:
    text: str  # stripped, as typed
    lower: str  # lowercased (addresses, domains)
    folded: str  # fold(text)
    tokens: tuple[str, ...]  # folded words
    phones: tuple[str, ...]  # E.164 forms the text may mean
    digits: tuple[str, ...]  # digit strings to look for inside stored numbers
    exact_digits: str  # search.normalise.phone_digits form (Contact.phone / mobile_phone)
    domain: str  # the domain an address or URL names, else the lowered text if it has a dot

    @property
    def substring(self) -> bool:
        return len(self.folded) >= MIN_SUBSTRING


def _default_region() -> str:
    # The account's setting, kept per process for a few seconds (no statement per pick).
    return (crm_settings().default_phone_region or "SE").upper()


def _parse(text: str) -> _Query:
    text = " ".join((text or "").split())[:MAX_QUERY_LENGTH]
    lower = text.lower()
    folded = fold(text)
    # An address ("anna@", "@acme.se") is looked up as an address, not as words.
    tokens = () if "@" in text else tuple(dict.fromkeys(folded.split()))[:MAX_TOKENS]
    phones: list[str] = []
    digits: list[str] = []
    raw_digits = re.sub(r"\D", "", text)
    if _PHONE_LIKE.match(text) and len(raw_digits) >= _MIN_PHONE_DIGITS:
        international = text.startswith("+") or raw_digits.startswith("00")
        candidates = [text] if international else [text, "+" + raw_digits]
        region = _default_region()
        for candidate in candidates:
            try:
                number = phonenumbers.parse(candidate, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_possible_number(number):
                e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if e164 not in phones:
                    phones.append(e164)
        # Inside a stored number: the digits as typed, without an international prefix's
        # 00, and without a national number's trunk 0 (stored E.164 has none).
        stripped = raw_digits[2:] if raw_digits.startswith("00") else raw_digits
        digits.append(stripped)
        if not international and stripped.startswith("0") and len(stripped) > _MIN_PHONE_DIGITS:
            digits.append(stripped[1:])
    domain = ""
    if " " not in lower:
        candidate = lower.rsplit("@", 1)[-1] if "@" in lower else lower
        candidate = re.sub(r"^[a-z]+://", "", candidate).split("/", 1)[0]
        candidate = candidate.removeprefix("www.")
        if "." in candidate and not candidate.startswith("."):
            domain = candidate
    return _Query(
        text,
        lower,
        folded,
        tokens,
        tuple(phones),
        tuple(dict.fromkeys(digits)),
        phone_digits(text) if digits else "",
        domain,
    )


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _c(expression: str) -> str:
    """`expression` in byte order on PostgreSQL: the order (and the prefix match) the
    C-collated expression indexes have; SQLite compares bytes already."""
    return f'({expression}) COLLATE "C"' if _postgres() else expression


def _condition(sql: str, params: Sequence[Any]) -> Q:
    return Q(ExpressionWrapper(RawSQL(sql, tuple(params)), output_field=BooleanField()))  # noqa: S611


@dataclass(frozen=True)
class _Select:
    """A statement selecting record ids (one column), with its parameters and, for a
    capped read, the order the first CANDIDATES follow (an index's order), if any."""

    sql: str
    params: tuple[Any, ...] = ()
    order: str = ""


@dataclass(frozen=True)
class _Rank:
    """One rank: the records some statements select (their union), ordered by `order`
    within the rank. `broad`: it may select very many, so for a user who sees every record
    each statement is read up to CANDIDATES ids. Kept as separate statements rather than one
    condition joined by OR: each is then one index lookup, where an OR over different
    tables would check every row of the table."""

    selects: tuple[_Select, ...]
    order: tuple[str, ...] = ()
    broad: bool = False
    matched: str = ""  # what matched, for the secondary text ("phone")


def _prefix(expression: str) -> str:
    """`expression` starts with a parameter: as a range (lower bound, upper bound), which
    the C-ordered expression index answers without computing the expression again for each
    row (a LIKE would be re-checked row by row)."""
    return f"{_c(expression)} >= %s AND {_c(expression)} < %s"


def _bounds(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _candidates(rank: _Rank, cap: int) -> list[int]:
    """Up to `cap` ids from each of the rank's statements: in the index's order for an
    ordered statement, as found for the others."""
    if len(rank.selects) == 1 and rank.selects[0].order:
        select = rank.selects[0]
        sql, params = f"{select.sql} ORDER BY {select.order} LIMIT {cap}", list(select.params)
    else:
        parts: list[str] = []
        params = []
        for number, select in enumerate(rank.selects):
            parts.append(f"SELECT id FROM ({select.sql} LIMIT {cap}) AS part{number}")
            params.extend(select.params)
        sql = " UNION ALL ".join(parts)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(dict.fromkeys(row[0] for row in cursor.fetchall()))


def _gather(
    visible: QuerySet[Any], table: str, ranks: list[_Rank], limit: int, *, sees_all: bool
) -> list[tuple[int, str]]:
    """Each rank in turn until `limit` records are found: its candidates (capped), then
    those `visible` holds, in the rank's order (the index's, or `order`)."""
    del table
    found: list[tuple[int, str]] = []
    seen: set[int] = set()
    for rank in ranks:
        if len(found) >= limit:
            break
        ordered = len(rank.selects) == 1 and bool(rank.selects[0].order)
        if rank.broad:
            cap = (
                (ORDERED_CANDIDATES if sees_all else RESTRICTED_ORDERED_CANDIDATES)
                if ordered
                else (CANDIDATES if sees_all else RESTRICTED_CANDIDATES)
            )
        else:
            cap = EXACT_CANDIDATES
        candidates = [pk for pk in _candidates(rank, cap) if pk not in seen]
        if not candidates:
            continue
        rows = visible.filter(pk__in=candidates)
        if ordered:
            shown = set(rows.values_list("pk", flat=True))
            picked = [pk for pk in candidates if pk in shown]
        else:
            order = [RawSQL(expr, ()).asc() for expr in rank.order]  # noqa: S611
            picked = list(rows.order_by(*order, "pk").values_list("pk", flat=True))
        for pk in picked[: limit - len(found)]:
            seen.add(pk)
            found.append((pk, rank.matched))
    return found


# --- Contacts ----------------------------------------------------------------------------

_FIRST_LAST = "svardesk_fold(first_name || ' ' || last_name)"
_CONTACT_NAME = 'svardesk_fold("crm_contact"."first_name" || \' \' || "crm_contact"."last_name")'
_CONTACT_WORDS = f"to_tsvector('simple'::regconfig, {_FIRST_LAST})"
_LIVE_CONTACT = "SELECT id FROM crm_contact WHERE merged_into_id IS NULL AND "
_BY_NAME = ('"crm_contact"."last_name"', '"crm_contact"."first_name"')


def _words_like(tokens: tuple[str, ...], column: str) -> tuple[str, tuple[Any, ...]]:
    """Every token starts a word of the folded column."""
    expression = f"' ' || svardesk_fold({column})"
    sql = " AND ".join(f"{expression} LIKE %s" for _ in tokens)
    return sql, tuple(f"% {token}%" for token in tokens)


def _contact_ranks(query: _Query) -> list[_Rank]:
    ranks: list[_Rank] = []
    if "@" in query.lower:
        ranks.append(
            _Rank(
                (
                    _Select(
                        "SELECT contact_id AS id FROM crm_contactemail WHERE email_key = %s",
                        (query.lower,),
                    ),
                )
            )
        )
    if query.phones or query.exact_digits:
        selects = []
        if query.phones:
            marks = ", ".join(["%s"] * len(query.phones))
            selects.append(
                _Select(
                    f"SELECT contact_id AS id FROM crm_contactphone WHERE number IN ({marks})",
                    query.phones,
                )
            )
        if query.exact_digits:
            selects.extend(
                _Select(
                    f"SELECT id FROM crm_contact WHERE svardesk_phone({column}) = %s",
                    (query.exact_digits,),
                )
                for column in ("phone", "mobile_phone")
            )
        ranks.append(_Rank(tuple(selects), matched="phone"))
    if query.tokens:
        ranks.append(
            _Rank(
                (
                    _Select(
                        f"{_LIVE_CONTACT}{_prefix(_FIRST_LAST)}",
                        _bounds(query.folded),
                        order=_c(_FIRST_LAST),
                    ),
                ),
                broad=True,
            )
        )
        if _postgres():
            tsquery = " & ".join(f"{t}:*" for t in query.tokens)
            words = _Select(
                f"{_LIVE_CONTACT}{_CONTACT_WORDS} @@ to_tsquery('simple', %s)", (tsquery,)
            )
        else:
            terms = " AND ".join(f'"{t}"*' for t in query.tokens)
            words = _Select(
                "SELECT rowid AS id FROM search_contact_fts WHERE search_contact_fts MATCH %s",
                (f"name : ({terms})",),
            )
        company_sql, company_params = _words_like(query.tokens, "name")
        company = _Select(
            "SELECT c.id FROM crm_contact c WHERE c.merged_into_id IS NULL AND c.company_id IN "
            f"(SELECT id FROM crm_company WHERE merged_into_id IS NULL AND {company_sql} "
            f"LIMIT {CANDIDATES})",
            company_params,
        )
        ranks.append(_Rank((words,), _BY_NAME, broad=True))
        ranks.append(_Rank((company,), _BY_NAME, broad=True))
    selects = []
    if query.substring and query.tokens:
        selects.append(
            _Select(f"{_LIVE_CONTACT}' ' || {_FIRST_LAST} LIKE %s", (f"%{query.folded}%",))
        )
    if query.substring and " " not in query.lower:
        selects.append(
            _Select(
                "SELECT contact_id AS id FROM crm_contactemail WHERE email_key LIKE %s ESCAPE '\\'",
                (f"%{_like(query.lower)}%",),
            )
        )
    for digits in query.digits:
        selects.append(
            _Select(
                "SELECT contact_id AS id FROM crm_contactphone WHERE number LIKE %s",
                (f"%{digits}%",),
            )
        )
        for column in ("phone", "mobile_phone"):
            selects.append(
                _Select(
                    f"SELECT id FROM crm_contact WHERE svardesk_phone({column}) LIKE %s",
                    (f"%{digits}%",),
                )
            )
    if selects:
        ranks.append(
            _Rank(tuple(selects), _BY_NAME, broad=True, matched="phone" if query.digits else "")
        )
    return ranks


def _contact_records(found: list[tuple[int, str]]) -> list[PickedRecord]:
    # One statement: the contact with its primary address and first number.
    first_email = ContactEmail.objects.filter(contact=OuterRef("pk")).order_by("-is_primary", "pk")
    first_phone = ContactPhone.objects.filter(contact=OuterRef("pk")).order_by("pk")
    rows = Contact.objects.filter(pk__in=[pk for pk, _ in found]).annotate(
        first_email=Subquery(first_email.values("email")[:1]),
        first_phone=Subquery(first_phone.values("number")[:1]),
    )
    by_id = {contact.pk: contact for contact in rows}
    picked = []
    for pk, matched in found:
        contact = by_id.get(pk)
        if contact is None:
            continue
        email = contact.first_email or contact.email
        phone = contact.first_phone or contact.mobile_phone or contact.phone
        secondary = (phone if matched == "phone" else email) or email or phone
        if secondary and secondary.startswith("+"):
            secondary = _phone_display(secondary)
        picked.append(
            PickedRecord(pk, "contact", _contact_label(contact, email), secondary, contact.initials)
        )
    return picked


def _contact_label(contact: Contact, email: str) -> str:
    full = f"{contact.first_name} {contact.last_name}".strip()
    return full or email or contact.phone or f"#{contact.pk}"


def _phone_display(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# --- Companies ---------------------------------------------------------------------------

_FOLDED_NAME = "svardesk_fold(name)"
_LOWER_DOMAIN = "lower(domain)"
_LIVE_COMPANY = "SELECT id FROM crm_company WHERE merged_into_id IS NULL AND "


def _company_ranks(query: _Query) -> list[_Rank]:
    ranks: list[_Rank] = []
    by_name = ('"crm_company"."name"',)
    if query.domain:
        ranks.append(
            _Rank((_Select(f"{_LIVE_COMPANY}{_LOWER_DOMAIN} = %s", (query.domain,)),), by_name)
        )
    if query.tokens:
        ranks.append(
            _Rank(
                (
                    _Select(
                        f"{_LIVE_COMPANY}{_prefix(_FOLDED_NAME)}",
                        _bounds(query.folded),
                        order=_c(_FOLDED_NAME),
                    ),
                ),
                broad=True,
            )
        )
        words, params = _words_like(query.tokens, "name")
        ranks.append(_Rank((_Select(f"{_LIVE_COMPANY}{words}", params),), by_name, broad=True))
    if query.lower and " " not in query.lower:
        ranks.append(
            _Rank(
                (
                    _Select(
                        f"{_LIVE_COMPANY}{_prefix(_LOWER_DOMAIN)}",
                        _bounds(query.domain or query.lower),
                        order=_c(_LOWER_DOMAIN),
                    ),
                ),
                broad=True,
            )
        )
    if query.substring:
        selects = [_Select(f"{_LIVE_COMPANY}' ' || {_FOLDED_NAME} LIKE %s", (f"%{query.folded}%",))]
        if " " not in query.lower:
            selects.append(
                _Select(
                    f"{_LIVE_COMPANY}{_LOWER_DOMAIN} LIKE %s ESCAPE '\\'",
                    (f"%{_like(query.lower)}%",),
                )
            )
        ranks.append(_Rank(tuple(selects), by_name, broad=True))
    return ranks


def _initials(name: str) -> str:
    words = [w for w in name.split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


def _company_records(found: list[tuple[int, str]]) -> list[PickedRecord]:
    rows = Company.objects.in_bulk([pk for pk, _ in found])
    return [
        PickedRecord(c.pk, "company", c.name, c.domain, _initials(c.name))
        for c in (rows.get(pk) for pk, _ in found)
        if c is not None
    ]


# --- Deals -------------------------------------------------------------------------------


def _deal_ranks(query: _Query) -> list[_Rank]:
    ranks: list[_Rank] = []
    by_name = ('"crm_deal"."name"',)
    if query.tokens:
        ranks.append(
            _Rank(
                (
                    _Select(
                        f"SELECT id FROM crm_deal WHERE {_prefix(_FOLDED_NAME)}",
                        _bounds(query.folded),
                        order=_c(_FOLDED_NAME),
                    ),
                ),
                broad=True,
            )
        )
        words, params = _words_like(query.tokens, "name")
        ranks.append(
            _Rank((_Select(f"SELECT id FROM crm_deal WHERE {words}", params),), by_name, broad=True)
        )
    if query.substring:
        ranks.append(
            _Rank(
                (
                    _Select(
                        f"SELECT id FROM crm_deal WHERE ' ' || {_FOLDED_NAME} LIKE %s",
                        (f"%{query.folded}%",),
                    ),
                ),
                by_name,
                broad=True,
            )
        )
    return ranks


def _amount(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return ""
    return f"{number_format(amount, decimal_pos=0, use_l10n=True, force_grouping=True)} {currency}"


def _deal_records(found: list[tuple[int, str]]) -> list[PickedRecord]:
    rows = Deal.objects.in_bulk([pk for pk, _ in found])
    return [
        PickedRecord(d.pk, "deal", d.name, _amount(d.amount, d.currency), _initials(d.name))
        for d in (rows.get(pk) for pk, _ in found)
        if d is not None
    ]


# --- Users -------------------------------------------------------------------------------

_USER_FOLDED = "svardesk_fold(first_name || ' ' || last_name)"


def _user_ranks(query: _Query) -> list[_Rank]:
    ranks: list[_Rank] = []
    select = "SELECT id FROM accounts_user WHERE "
    order = (
        _c('svardesk_fold("accounts_user"."first_name" || \' \' || "accounts_user"."last_name")'),
    )
    if "@" in query.lower:
        ranks.append(_Rank((_Select(f"{select}lower(email) = %s", (query.lower,)),)))
    if query.tokens:
        ranks.append(
            _Rank((_Select(f"{select}{_USER_FOLDED} LIKE %s", (query.folded + "%",)),), order)
        )
        words = " AND ".join(f"' ' || {_USER_FOLDED} LIKE %s" for _ in query.tokens)
        ranks.append(
            _Rank((_Select(f"{select}{words}", tuple(f"% {t}%" for t in query.tokens)),), order)
        )
    if query.substring:
        ranks.append(
            _Rank(
                (
                    _Select(f"{select}{_USER_FOLDED} LIKE %s", (f"%{query.folded}%",)),
                    _Select(
                        f"{select}lower(email) LIKE %s ESCAPE '\\'", (f"%{_like(query.lower)}%",)
                    ),
                ),
                order,
            )
        )
    return ranks


def _user_records(found: list[tuple[int, str]]) -> list[PickedRecord]:
    rows = User.objects.in_bulk([pk for pk, _ in found])
    return [
        PickedRecord(u.pk, "user", u.display_name, u.email, u.initials)
        for u in (rows.get(pk) for pk, _ in found)
        if u is not None
    ]


def workspace_users() -> QuerySet[User]:
    """The users a picker offers: active, and able to use the workspace."""
    return User.objects.filter(Q(is_superuser=True) | Q(has_seat=True), is_active=True)


# --- The picker --------------------------------------------------------------------------

_TYPES: dict[
    str,
    tuple[
        Callable[[User], QuerySet[Any]],
        str,
        Callable[[_Query], list[_Rank]],
        Callable[[list[tuple[int, str]]], list[PickedRecord]],
    ],
] = {
    "contact": (visible_contacts, "crm_contact", _contact_ranks, _contact_records),
    "company": (visible_companies, "crm_company", _company_ranks, _company_records),
    "deal": (visible_deals, "crm_deal", _deal_ranks, _deal_records),
    "user": (lambda _user: workspace_users(), "accounts_user", _user_ranks, _user_records),
}


def pick(object_type: str, query: str, *, user: User, limit: int = 10) -> list[PickedRecord]:
    """The records of `object_type` that `query` means, best first (see the module's
    ranks), at most `limit`, only those `user` may see. An empty query picks nothing."""
    if object_type not in _TYPES:
        raise ValueError(f"Unknown record type {object_type!r}")
    limit = max(1, min(limit, MAX_LIMIT))
    parsed = _parse(query)
    if not parsed.folded and not parsed.lower:
        return []
    visible_of, table, ranks_of, records_of = _TYPES[object_type]
    sees_all = object_type == "user" or ticket_scope(user).sees_all
    found = _gather(visible_of(user), table, ranks_of(parsed), limit, sees_all=sees_all)
    return records_of(found)
