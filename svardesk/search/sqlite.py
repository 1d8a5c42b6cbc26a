# ruff: noqa: S608 - fixed DDL assembled from the constants below, no outside input
"""SQLite's side of search: the FTS5 tables, the triggers that keep them in step with
tickets and contacts, and the Python functions those triggers call."""

from __future__ import annotations

from typing import Any

from svardesk.search.normalise import fold, lower_email, phone_digits

FTS_OPTIONS = "tokenize='unicode61 remove_diacritics 0', prefix='2 3'"

CREATE = [
    "CREATE INDEX IF NOT EXISTS search_ticket_contact_recent ON tickets_ticket "
    "(contact_id, last_activity_at DESC, id DESC)",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS search_ticket_fts USING fts5(name, body, {FTS_OPTIONS})",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS search_contact_fts USING fts5(name, body, {FTS_OPTIONS})",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_contact_trgm "
    "USING fts5(email, phone, mobile, tokenize='trigram')",
]

_TICKET_ROW = "svardesk_fold({r}.name), svardesk_fold({r}.description)"
_CONTACT_ROW = (
    "svardesk_fold({r}.first_name || ' ' || {r}.last_name), "
    "svardesk_fold({r}.company_name || ' ' || {r}.email)"
)
_CONTACT_TRGM_ROW = (
    "svardesk_lower({r}.email), svardesk_phone({r}.phone), svardesk_phone({r}.mobile_phone)"
)

TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS search_ticket_ai AFTER INSERT ON tickets_ticket BEGIN "
    "INSERT INTO search_ticket_fts(rowid, name, body) "
    f"VALUES (new.id, {_TICKET_ROW.format(r='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS search_ticket_au AFTER UPDATE OF name, description "
    "ON tickets_ticket BEGIN DELETE FROM search_ticket_fts WHERE rowid = old.id; "
    "INSERT INTO search_ticket_fts(rowid, name, body) "
    f"VALUES (new.id, {_TICKET_ROW.format(r='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS search_ticket_ad AFTER DELETE ON tickets_ticket BEGIN "
    "DELETE FROM search_ticket_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS search_contact_ai AFTER INSERT ON crm_contact BEGIN "
    "INSERT INTO search_contact_fts(rowid, name, body) "
    f"VALUES (new.id, {_CONTACT_ROW.format(r='new')}); "
    "INSERT INTO search_contact_trgm(rowid, email, phone, mobile) "
    f"VALUES (new.id, {_CONTACT_TRGM_ROW.format(r='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS search_contact_au AFTER UPDATE OF first_name, last_name, "
    "company_name, email, phone, mobile_phone ON crm_contact BEGIN "
    "DELETE FROM search_contact_fts WHERE rowid = old.id; "
    "DELETE FROM search_contact_trgm WHERE rowid = old.id; "
    "INSERT INTO search_contact_fts(rowid, name, body) "
    f"VALUES (new.id, {_CONTACT_ROW.format(r='new')}); "
    "INSERT INTO search_contact_trgm(rowid, email, phone, mobile) "
    f"VALUES (new.id, {_CONTACT_TRGM_ROW.format(r='new')}); END",
    "CREATE TRIGGER IF NOT EXISTS search_contact_ad AFTER DELETE ON crm_contact BEGIN "
    "DELETE FROM search_contact_fts WHERE rowid = old.id; "
    "DELETE FROM search_contact_trgm WHERE rowid = old.id; END",
]

DROP = [
    "DROP INDEX IF EXISTS search_ticket_contact_recent",
    "DROP TRIGGER IF EXISTS search_ticket_ai",
    "DROP TRIGGER IF EXISTS search_ticket_au",
    "DROP TRIGGER IF EXISTS search_ticket_ad",
    "DROP TRIGGER IF EXISTS search_contact_ai",
    "DROP TRIGGER IF EXISTS search_contact_au",
    "DROP TRIGGER IF EXISTS search_contact_ad",
    "DROP TABLE IF EXISTS search_ticket_fts",
    "DROP TABLE IF EXISTS search_contact_fts",
    "DROP TABLE IF EXISTS search_contact_trgm",
]

# Filling the tables from what is there, one id range at a time.
FILL_TICKETS = (
    "INSERT INTO search_ticket_fts(rowid, name, body) "
    f"SELECT t.id, {_TICKET_ROW.format(r='t')} FROM tickets_ticket t "
    "WHERE t.id > %s AND t.id <= %s"
)
FILL_CONTACTS = [
    "INSERT INTO search_contact_fts(rowid, name, body) "
    f"SELECT c.id, {_CONTACT_ROW.format(r='c')} FROM crm_contact c WHERE c.id > %s AND c.id <= %s",
    "INSERT INTO search_contact_trgm(rowid, email, phone, mobile) "
    f"SELECT c.id, {_CONTACT_TRGM_ROW.format(r='c')} FROM crm_contact c "
    "WHERE c.id > %s AND c.id <= %s",
]
EMPTY = [
    "DELETE FROM search_ticket_fts",
    "DELETE FROM search_contact_fts",
    "DELETE FROM search_contact_trgm",
]


def register_functions(raw_connection: Any) -> None:
    """Make the normalisation functions callable from SQL on this sqlite3 connection."""
    raw_connection.create_function("svardesk_fold", 1, fold, deterministic=True)
    raw_connection.create_function("svardesk_phone", 1, phone_digits, deterministic=True)
    raw_connection.create_function("svardesk_lower", 1, lower_email, deterministic=True)
