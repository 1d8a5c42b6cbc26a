# ruff: noqa: S608 - fixed DDL assembled from the constants below, no outside input
"""PostgreSQL's side of search: the normalisation functions (the same as search.normalise),
the expression indexes on contacts, and the tickets' words stored as tsvectors in
search_ticket_words (kept current by triggers on tickets_ticket) with GIN indexes. The
backend's queries are written to use them; nothing needs syncing by hand.

Tickets' words are stored rather than indexed as an expression: a search walking the newest
tickets (a common word, a deep page) checks each ticket against its stored words, where an
expression index would have it fold every ticket's text again (10 to 300 µs a row)."""

from __future__ import annotations

from svardesk.search.normalise import FOLD_FROM, FOLD_PAIRS, FOLD_TO


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# translate() looks each character up in its table from the start and stops at the first
# match, so a character not in the table — most of a text: ASCII letters, digits, spaces —
# was compared with all 264 entries. Common ASCII characters come first, mapped to
# themselves (what translate() did with them anyway): 23 µs instead of 83 a call for a
# contact's name, company and address with one "ö" among them.
_IDENTITY = "".join(
    character
    for character in " eanrtsildoumkgvhfpbcyjwxzq0123456789.@-_,EANRTSILDOUMGVHFPBCYJWXZQ"
    if character not in FOLD_FROM
)


def fold_function_sql(*, ascii_shortcut: bool = False) -> str:
    """svardesk_fold. With `ascii_shortcut` (migration 0002 on), text without a non-ASCII
    character skips the replace() and translate() calls: every letter they map is outside
    ASCII except K, which lower() turns into k all the same, so the result is identical —
    and translate() against the long table is most of the cost (ten times over, on a description)."""
    value = "value"
    for source, target in FOLD_PAIRS:
        value = f"replace({value}, {_literal(source)}, {_literal(target)})"
    body = (
        f"btrim(regexp_replace(lower(translate({value}, {_literal(_IDENTITY + FOLD_FROM)}, "
        f"{_literal(_IDENTITY + FOLD_TO)})), '[^a-z0-9]+', ' ', 'g'))"
    )
    if ascii_shortcut:
        shortcut = "btrim(regexp_replace(lower(value), '[^a-z0-9]+', ' ', 'g'))"
        body = f"CASE WHEN octet_length(value) = length(value) THEN {shortcut} ELSE {body} END"
    # PL/pgSQL, not SQL: an SQL function would be inlined, and the planner would then judge
    # the regular expressions cheap and check thousands of rows one by one instead of
    # using the GIN index. COST tells it the truth: 10 to 30 µs a call, far above an operator.
    return (
        "CREATE OR REPLACE FUNCTION svardesk_fold(value text) RETURNS text "
        "LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 5000 "
        f"AS $$ BEGIN RETURN {body}; END $$"
    )


PHONE_FUNCTION = """
CREATE OR REPLACE FUNCTION svardesk_phone(value text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 500 AS $$
DECLARE
  digits text := regexp_replace(value, '[^0-9]+', '', 'g');
BEGIN
  IF ltrim(value, ' ') LIKE '+%' OR digits LIKE '00%' THEN
    IF digits LIKE '00%' THEN
      digits := substr(digits, 3);
    END IF;
    IF digits LIKE '46%' THEN
      digits := substr(digits, 3);
      IF digits NOT LIKE '0%' THEN
        digits := '0' || digits;
      END IF;
    END IF;
  END IF;
  RETURN digits;
END
$$
"""

INDEXES = [
    # A contact's tickets, newest first, with what access checks need: a search matching
    # thousands of tickets through their contacts reads this index only.
    "CREATE INDEX IF NOT EXISTS search_ticket_contact_recent ON tickets_ticket "
    "(contact_id, last_activity_at DESC, id DESC) INCLUDE (team_id, owner_id)",
    "CREATE INDEX IF NOT EXISTS search_ticket_name ON tickets_ticket USING gin "
    "(to_tsvector('simple'::regconfig, svardesk_fold(name)))",
    "CREATE INDEX IF NOT EXISTS search_ticket_text ON tickets_ticket USING gin "
    "(to_tsvector('simple'::regconfig, svardesk_fold(name || ' ' || description)))",
    "CREATE INDEX IF NOT EXISTS search_contact_name ON crm_contact USING gin "
    "(to_tsvector('simple'::regconfig, svardesk_fold(first_name || ' ' || last_name)))",
    "CREATE INDEX IF NOT EXISTS search_contact_text ON crm_contact USING gin "
    "(to_tsvector('simple'::regconfig, svardesk_fold(first_name || ' ' || last_name || ' ' "
    "|| company_name || ' ' || email)))",
    "CREATE INDEX IF NOT EXISTS search_contact_email ON crm_contact (lower(email))",
    "CREATE INDEX IF NOT EXISTS search_contact_email_trgm ON crm_contact "
    "USING gin (lower(email) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_contact_phone ON crm_contact (svardesk_phone(phone))",
    "CREATE INDEX IF NOT EXISTS search_contact_mobile ON crm_contact "
    "(svardesk_phone(mobile_phone))",
    "CREATE INDEX IF NOT EXISTS search_contact_phone_trgm ON crm_contact "
    "USING gin (svardesk_phone(phone) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_contact_mobile_trgm ON crm_contact "
    "USING gin (svardesk_phone(mobile_phone) gin_trgm_ops)",
]

DROP = [
    *(
        f"DROP INDEX IF EXISTS {name}"
        for name in (
            "search_ticket_contact_recent",
            "search_ticket_name",
            "search_ticket_text",
            "search_contact_name",
            "search_contact_text",
            "search_contact_email",
            "search_contact_email_trgm",
            "search_contact_phone",
            "search_contact_mobile",
            "search_contact_phone_trgm",
            "search_contact_mobile_trgm",
        )
    ),
    "DROP FUNCTION IF EXISTS svardesk_fold(text)",
    "DROP FUNCTION IF EXISTS svardesk_phone(text)",
]


# --- Migration 0002: tickets' words stored ----------------------------------------------------

WORDS_TABLE = "search_ticket_words"
# The triggers keeping it current; a bulk load disables the row ones and writes the words
# itself (svardesk.demo.bulk).
WORDS_ROW_TRIGGERS = ("search_ticket_words_write", "search_ticket_words_delete")

# The words of a text as search compares them: its folded words, without positions (no
# search uses them) — what search.normalise.tsvector_words writes from Python.
WORDS_FUNCTION = """
CREATE OR REPLACE FUNCTION svardesk_words(value text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT strip(to_tsvector('simple'::regconfig, svardesk_fold(value))) $$
"""

WORDS_CREATE = [
    # name: the ticket name's words (rank 3); body: the name's and description's (rank 4).
    f"CREATE TABLE IF NOT EXISTS {WORDS_TABLE} (ticket_id bigint PRIMARY KEY, "
    "name tsvector NOT NULL, body tsvector NOT NULL)",
    f"""
CREATE OR REPLACE FUNCTION search_ticket_words_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.name IS NOT DISTINCT FROM OLD.name
     AND NEW.description IS NOT DISTINCT FROM OLD.description THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'UPDATE' AND NEW.id <> OLD.id THEN
    DELETE FROM {WORDS_TABLE} WHERE ticket_id = OLD.id;
  END IF;
  INSERT INTO {WORDS_TABLE} (ticket_id, name, body)
  VALUES (NEW.id, coalesce(svardesk_words(NEW.name), ''),
          coalesce(svardesk_words(concat_ws(' ', NEW.name, NEW.description)), ''))
  ON CONFLICT (ticket_id) DO UPDATE SET name = EXCLUDED.name, body = EXCLUDED.body;
  RETURN NULL;
END $$""",
    f"""
CREATE OR REPLACE FUNCTION search_ticket_words_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM {WORDS_TABLE} WHERE ticket_id = OLD.id;
  RETURN NULL;
END $$""",
    f"""
CREATE OR REPLACE FUNCTION search_ticket_words_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE {WORDS_TABLE};
  RETURN NULL;
END $$""",
    "DROP TRIGGER IF EXISTS search_ticket_words_write ON tickets_ticket",
    "CREATE TRIGGER search_ticket_words_write AFTER INSERT OR UPDATE OF id, name, "
    "description ON tickets_ticket FOR EACH ROW EXECUTE FUNCTION search_ticket_words_write()",
    "DROP TRIGGER IF EXISTS search_ticket_words_delete ON tickets_ticket",
    "CREATE TRIGGER search_ticket_words_delete AFTER DELETE ON tickets_ticket "
    "FOR EACH ROW EXECUTE FUNCTION search_ticket_words_delete()",
    "DROP TRIGGER IF EXISTS search_ticket_words_truncate ON tickets_ticket",
    "CREATE TRIGGER search_ticket_words_truncate AFTER TRUNCATE ON tickets_ticket "
    "FOR EACH STATEMENT EXECUTE FUNCTION search_ticket_words_truncate()",
]

# Filling from the tickets there are, before the indexes (one pass, then one build each).
WORDS_FILL = (
    f"INSERT INTO {WORDS_TABLE} (ticket_id, name, body) "
    "SELECT id, coalesce(svardesk_words(name), ''), "
    "coalesce(svardesk_words(concat_ws(' ', name, description)), '') FROM tickets_ticket "
    "ON CONFLICT (ticket_id) DO NOTHING"
)

WORDS_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS search_ticket_words_name ON {WORDS_TABLE} USING gin (name)",
    f"CREATE INDEX IF NOT EXISTS search_ticket_words_body ON {WORDS_TABLE} USING gin (body)",
]

# The expression indexes 0001 made for tickets, which the stored words replace.
OLD_TICKET_INDEXES = INDEXES[1:3]

WORDS_DROP = [
    "DROP TRIGGER IF EXISTS search_ticket_words_write ON tickets_ticket",
    "DROP TRIGGER IF EXISTS search_ticket_words_delete ON tickets_ticket",
    "DROP TRIGGER IF EXISTS search_ticket_words_truncate ON tickets_ticket",
    "DROP FUNCTION IF EXISTS search_ticket_words_write()",
    "DROP FUNCTION IF EXISTS search_ticket_words_delete()",
    "DROP FUNCTION IF EXISTS search_ticket_words_truncate()",
    f"DROP TABLE IF EXISTS {WORDS_TABLE}",
    "DROP FUNCTION IF EXISTS svardesk_words(text)",
]


# --- Migration 0003: record pickers (search.records) -------------------------------------------

# Each index serves one of the pickers' statements, written with the same expression:
# the folded names in byte order (a name prefix, read in order), trigrams of " " + the folded
# names (a word's start, or anywhere), the addresses, domains and numbers (exact, prefix,
# anywhere). The contacts' words use search_contact_name (0001); their numbers on the
# contact row 0001's phone indexes; ContactPhone.number's btree is crm's own.
RECORD_INDEXES = [
    "CREATE INDEX IF NOT EXISTS search_contact_folded_name ON crm_contact "
    "((svardesk_fold(first_name || ' ' || last_name)) COLLATE \"C\")",
    "CREATE INDEX IF NOT EXISTS search_contact_folded_name_trgm ON crm_contact "
    "USING gin ((' ' || svardesk_fold(first_name || ' ' || last_name)) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_contactemail_trgm ON crm_contactemail "
    "USING gin (email_key gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_contactphone_trgm ON crm_contactphone "
    "USING gin (number gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_company_folded_name ON crm_company "
    '((svardesk_fold(name)) COLLATE "C")',
    "CREATE INDEX IF NOT EXISTS search_company_folded_name_trgm ON crm_company "
    "USING gin ((' ' || svardesk_fold(name)) gin_trgm_ops)",
    'CREATE INDEX IF NOT EXISTS search_company_domain ON crm_company ((lower(domain)) COLLATE "C")',
    "CREATE INDEX IF NOT EXISTS search_company_domain_trgm ON crm_company "
    "USING gin (lower(domain) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS search_deal_folded_name ON crm_deal "
    '((svardesk_fold(name)) COLLATE "C")',
    "CREATE INDEX IF NOT EXISTS search_deal_folded_name_trgm ON crm_deal "
    "USING gin ((' ' || svardesk_fold(name)) gin_trgm_ops)",
]

RECORD_DROP = [f"DROP INDEX IF EXISTS {statement.split()[5]}" for statement in RECORD_INDEXES]
