"""The two search backends. Each answers the same questions about a parsed query — which
contacts match it (exactly, by name, anywhere), and which tickets match it by name or by text —
PostgreSQL with full-text (GIN over tsvector) and trigram indexes, SQLite with FTS5 tables.

The meaning is fixed in `search.normalise` and `search.queries`; the backends only find it
fast. Every condition they return is a boolean on the ticket row that is never NULL, so it
can be negated safely ("matched no better tier").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.db.models.expressions import RawSQL

from svardesk.search.normalise import ParsedQuery

# More matching contacts than this travel as a subquery rather than a list of ids.
CONTACT_ID_LIMIT = 20_000
# Tickets matching by their words: up to this many travel as a list of ids (PostgreSQL).
TICKET_ID_LIMIT = 10_000


def _condition(sql: str, params: tuple[Any, ...]) -> Q:
    # Only this module's SQL reaches here; every value travels as a parameter.
    return Q(ExpressionWrapper(RawSQL(sql, params), output_field=BooleanField()))  # noqa: S611


@dataclass(frozen=True)
class Part:
    """One way a ticket can match: `match` selects the tickets, `miss` the others. Kept
    apart (rather than NOT match) so that neither hides a NULL and each keeps the plain
    shape the planner estimates well."""

    match: Q
    miss: Q
    # `match` is a short list of ticket ids: read those tickets and sort them, rather than
    # walk the newest-first index hoping to meet them (with a restricted reader's access
    # check on top, the planner's hope can cost a walk over most of the table).
    listed: bool = False


_NEVER = Part(match=Q(pk__in=[]), miss=Q())


@dataclass(frozen=True)
class ContactMatch:
    """Contacts matching part of a query: a list of ids, or SQL selecting them."""

    ids: tuple[int, ...] = ()
    sql: str = ""
    params: tuple[Any, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.ids and not self.sql

    def ticket_part(self) -> Part:
        """Tickets whose contact is one of these; a ticket without a contact misses."""
        column = '"tickets_ticket"."contact_id"'
        if self.is_empty:
            return _NEVER
        if self.sql:
            sql, params = f"{column} IN ({self.sql})", self.params
        elif connection.vendor == "postgresql":
            # The ids travel as one parameter: quoting thousands of separate ones costs
            # more in Python than the query costs in the database.
            # bigint[] like the column: an int4[] array is searched element by element,
            # a bigint[] one through a hash table.
            sql, params = f"{column} = ANY(%s::bigint[])", (list(self.ids),)
        else:
            sql, params = (
                f"{column} IN (SELECT value FROM json_each(%s))",  # noqa: S608
                (json.dumps(list(self.ids)),),
            )
        return Part(
            match=_condition(sql, params),
            miss=_condition(f"({column} IS NULL OR NOT ({sql}))", params),
        )

    def minus(self, other: ContactMatch) -> ContactMatch:
        """These contacts without `other`'s, when both are lists (else these): a later rank
        leaves out the contacts an earlier one matched — their tickets ranked there — so
        the planner sees how few are left instead of assuming independence and walking
        every ticket in search of them."""
        if self.sql or other.sql or not other.ids:
            return self
        rest = set(other.ids)
        return ContactMatch(ids=tuple(pk for pk in self.ids if pk not in rest))

    def union(self, other: ContactMatch) -> ContactMatch:
        if self.sql or other.sql:
            parts = [m for m in (self, other) if not m.is_empty]
            sqls: list[str] = []
            params: list[Any] = []
            for part in parts:
                if part.sql:
                    sqls.append(part.sql)
                    params.extend(part.params)
                else:
                    marks = ", ".join(["%s"] * len(part.ids))
                    sqls.append(f"SELECT id FROM crm_contact WHERE id IN ({marks})")  # noqa: S608
                    params.extend(part.ids)
            return ContactMatch(sql=" UNION ".join(sqls), params=tuple(params))
        return ContactMatch(ids=tuple(sorted(set(self.ids) | set(other.ids))))


def _collect(sql: str, params: list[Any]) -> ContactMatch:
    """Run a contact query; keep the ids when there are few, else keep the query."""
    if not sql:
        return ContactMatch()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT {CONTACT_ID_LIMIT + 1}", params)
        ids = tuple(row[0] for row in cursor.fetchall())
    if len(ids) > CONTACT_ID_LIMIT:
        return ContactMatch(sql=sql, params=tuple(params))
    return ContactMatch(ids=ids)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _escape_glob(text: str) -> str:
    return "".join(f"[{ch}]" if ch in "*?[]" else ch for ch in text)


class PostgresBackend:
    # The tickets' stored words (search.postgres, migration 0002): checking a ticket is one
    # primary-key lookup, never folding its text again.
    ticket_words = (
        "EXISTS (SELECT 1 FROM search_ticket_words w WHERE w.ticket_id = "
        '"tickets_ticket"."id" AND {where})'
    )
    name_words = "w.name @@ to_tsquery('simple', %s)"
    # Rank 4 by the ticket's own words: the name and description match, the name alone does
    # not (it ranked 3). Said here rather than left to the rank-3 condition's negation, so
    # that the lookup below counts exactly the tickets this rank can still find.
    text_words = "w.body @@ to_tsquery('simple', %s) AND NOT w.name @@ to_tsquery('simple', %s)"
    contact_name = "to_tsvector('simple'::regconfig, svardesk_fold(first_name || ' ' || last_name))"
    contact_text = (
        "to_tsvector('simple'::regconfig, svardesk_fold(first_name || ' ' || last_name"
        " || ' ' || company_name || ' ' || email))"
    )

    @staticmethod
    def tsquery(tokens: tuple[str, ...]) -> str:
        return " & ".join(f"{t}:*" if len(t) > 1 else t for t in tokens)

    def exact_contacts(self, query: ParsedQuery) -> ContactMatch:
        parts, params = [], []
        if "@" in query.email:
            parts.append("SELECT id FROM crm_contact WHERE lower(email) = %s")
            params.append(query.email)
        if query.phone:
            parts.append("SELECT id FROM crm_contact WHERE svardesk_phone(phone) = %s")
            parts.append("SELECT id FROM crm_contact WHERE svardesk_phone(mobile_phone) = %s")
            params += [query.phone, query.phone]
        return _collect(" UNION ".join(parts), params)

    def name_contacts(self, query: ParsedQuery) -> ContactMatch:
        if not query.tokens:
            return ContactMatch()
        sql = (
            f"SELECT id FROM crm_contact WHERE {self.contact_name} "  # noqa: S608
            "@@ to_tsquery('simple', %s)"
        )
        return _collect(sql, [self.tsquery(query.tokens)])

    def text_contacts(self, query: ParsedQuery) -> ContactMatch:
        parts, params = [], []
        if query.tokens:
            parts.append(
                f"SELECT id FROM crm_contact WHERE {self.contact_text} "  # noqa: S608
                "@@ to_tsquery('simple', %s)"
            )
            params.append(self.tsquery(query.tokens))
        if query.email:
            parts.append("SELECT id FROM crm_contact WHERE lower(email) LIKE %s")
            params.append(f"%{_escape_like(query.email)}%")
        if query.phone:
            pattern = f"%{query.phone}%"
            parts.append("SELECT id FROM crm_contact WHERE svardesk_phone(phone) LIKE %s")
            parts.append("SELECT id FROM crm_contact WHERE svardesk_phone(mobile_phone) LIKE %s")
            params += [pattern, pattern]
        return _collect(" UNION ".join(parts), params)

    def _tickets(self, query: ParsedQuery, where: str, *, look_up: bool = True) -> Part:
        """Tickets whose stored words satisfy `where`. Without `look_up`, the planner's
        estimate decides first: above TICKET_ID_LIMIT, no lookup. Up to TICKET_ID_LIMIT of them travel
        as a list of ids — the planner then reads just those tickets and sorts them; more
        than that are common enough that walking the newest tickets and checking each one's
        words finds a page within a few thousand rows. Without the count it has to guess,
        and a guess that assumes many (every name match is also a text match) walks the
        whole table for nothing."""
        if not query.tokens:
            return _NEVER
        params: tuple[Any, ...] = (self.tsquery(query.tokens),) * where.count("%s")
        with connection.cursor() as cursor:
            if not look_up:
                cursor.execute(
                    "EXPLAIN (FORMAT JSON) SELECT ticket_id FROM search_ticket_words w "  # noqa: S608
                    f"WHERE {where}",
                    params,
                )
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                if plan[0]["Plan"]["Plan Rows"] > TICKET_ID_LIMIT:
                    sql = self.ticket_words.format(where=where)
                    return Part(
                        match=_condition(sql, params), miss=_condition(f"NOT ({sql})", params)
                    )
            cursor.execute(
                f"SELECT ticket_id FROM search_ticket_words w WHERE {where} "  # noqa: S608
                f"LIMIT {TICKET_ID_LIMIT + 1}",
                params,
            )
            ids = [row[0] for row in cursor.fetchall()]
        listed = len(ids) <= TICKET_ID_LIMIT
        if listed:
            if not ids:
                return _NEVER
            sql, params = '"tickets_ticket"."id" = ANY(%s::bigint[])', (ids,)
        else:
            sql = self.ticket_words.format(where=where)
        return Part(
            match=_condition(sql, params), miss=_condition(f"NOT ({sql})", params), listed=listed
        )

    def name_tickets(self, query: ParsedQuery) -> Part:
        # The planner's estimate for one stored tsvector column is close (its statistics
        # know the words' frequencies): a common word goes straight to the newest-first
        # walk, without reading thousands of rows of the words table just to count them.
        return self._tickets(query, self.name_words, look_up=False)

    def text_tickets(self, query: ParsedQuery) -> Part:
        """Tickets matching by name and description but not by name alone: with
        name_tickets, the same tickets as matching by name and description."""
        return self._tickets(query, self.text_words)


class SqliteBackend:
    @staticmethod
    def fts_query(tokens: tuple[str, ...], columns: str) -> str:
        terms = " AND ".join(f'"{t}"*' if len(t) > 1 else f'"{t}"' for t in tokens)
        return f"{columns} : ({terms})"

    def exact_contacts(self, query: ParsedQuery) -> ContactMatch:
        parts, params = [], []
        if "@" in query.email:
            parts.append("SELECT rowid FROM search_contact_trgm WHERE email GLOB %s")
            params.append(_escape_glob(query.email))
        if query.phone:
            parts.append("SELECT rowid FROM search_contact_trgm WHERE phone GLOB %s")
            parts.append("SELECT rowid FROM search_contact_trgm WHERE mobile GLOB %s")
            params += [query.phone, query.phone]
        return _collect(" UNION ".join(parts), params)

    def name_contacts(self, query: ParsedQuery) -> ContactMatch:
        if not query.tokens:
            return ContactMatch()
        sql = "SELECT rowid FROM search_contact_fts WHERE search_contact_fts MATCH %s"
        return _collect(sql, [self.fts_query(query.tokens, "name")])

    def text_contacts(self, query: ParsedQuery) -> ContactMatch:
        parts, params = [], []
        if query.tokens:
            parts.append("SELECT rowid FROM search_contact_fts WHERE search_contact_fts MATCH %s")
            params.append(self.fts_query(query.tokens, "{name body}"))
        if query.email:
            parts.append("SELECT rowid FROM search_contact_trgm WHERE email GLOB %s")
            params.append(f"*{_escape_glob(query.email)}*")
        if query.phone:
            parts.append("SELECT rowid FROM search_contact_trgm WHERE phone GLOB %s")
            parts.append("SELECT rowid FROM search_contact_trgm WHERE mobile GLOB %s")
            params += [f"*{query.phone}*", f"*{query.phone}*"]
        return _collect(" UNION ".join(parts), params)

    def _tickets(self, query: ParsedQuery, columns: str) -> Part:
        if not query.tokens:
            return _NEVER
        sql = (
            '"tickets_ticket"."id" IN '
            "(SELECT rowid FROM search_ticket_fts WHERE search_ticket_fts MATCH %s)"
        )
        params = (self.fts_query(query.tokens, columns),)
        return Part(match=_condition(sql, params), miss=_condition(f"NOT ({sql})", params))

    def name_tickets(self, query: ParsedQuery) -> Part:
        return self._tickets(query, "name")

    def text_tickets(self, query: ParsedQuery) -> Part:
        return self._tickets(query, "{name body}")


Backend = PostgresBackend | SqliteBackend


def get_backend() -> Backend:
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"No search backend for {connection.vendor}")
