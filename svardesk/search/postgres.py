"""PostgreSQL's side of search: the normalisation functions (the same as search.normalise)
and the expression indexes the backend's queries are written to use. The database keeps the
indexes current by itself, bulk loads included; nothing needs syncing."""

from __future__ import annotations

from svardesk.search.normalise import FOLD_FROM, FOLD_PAIRS, FOLD_TO


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fold_function_sql() -> str:
    value = "value"
    for source, target in FOLD_PAIRS:
        value = f"replace({value}, {_literal(source)}, {_literal(target)})"
    body = (
        f"btrim(regexp_replace(lower(translate({value}, {_literal(FOLD_FROM)}, "
        f"{_literal(FOLD_TO)})), '[^a-z0-9]+', ' ', 'g'))"
    )
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
