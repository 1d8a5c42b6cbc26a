# ruff: noqa: S608 - SQL assembled from the fixed constants below, no outside input
"""The SLA report's compliance rollup: decided goals counted per UTC day and per UTC hour.

`ComplianceDay` / `ComplianceHour` hold, per (goal, bucket start, status, team, pipeline,
priority), how many non-spam tickets have that goal in a decided status (met, missed,
overdue) with its due time in the bucket; and per (goal, bucket start, status, team) the same
over every pipeline and priority (pipeline -1, priority "*"), which the report reads when it
filters by neither. Database triggers on `tickets_ticket` keep them:

- PostgreSQL: statement-level AFTER INSERT / UPDATE / DELETE triggers with transition
  tables, so one statement that changes many tickets (the sweep's set-based updates, a bulk
  move) adjusts the counts with one grouped upsert; a change that moves nothing (most ticket
  updates) nets to zero and writes nothing.
- SQLite: row-level triggers (SQLite has no statement-level ones), one upsert per bucket.

A count moves in the same transaction as the change that moved it, whichever code made the
change (timers, sweep, recomputation, edits, merges, deletions), so the rollup cannot drift.

`rebuild()` recounts from the tickets in batches by id, safe while tickets change: the
`RollupRebuild` row says below which id tickets are counted already; the triggers adjust only
those, and on PostgreSQL a batch holds an advisory lock the triggers share, so a ticket change
is either seen by the batch that counts it or adjusted after it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction

from svardesk.tickets.models import SLA_GOALS, SlaStatus

TABLES = {"day": "sla_complianceday", "hour": "sla_compliancehour"}
KEY = "goal, start, status, team_id, pipeline_id, priority"
DECIDED_SQL = "({})".format(
    ", ".join(f"'{status}'" for status in (SlaStatus.MET, SlaStatus.MISSED, SlaStatus.OVERDUE))
)
# The rows over every pipeline and priority of a team.
ALL_PIPELINES = -1
ALL_PRIORITIES = "*"
# The advisory lock a rebuild batch takes alone and the triggers share (PostgreSQL).
LOCK_KEY = 0x51A0_0C0D


def _bucket(unit: str, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('{unit}', {column}, 'UTC')"
    return f"strftime('%Y-%m-%d {'00' if unit == 'day' else '%H'}:00:00', {column})"


def _contribution(unit: str, goal: str, rel: str, sign: str, extra: str) -> str:
    """What the rows of `rel` add (sign 1) or take away (sign -1) for one goal."""
    return (
        f"SELECT {_bucket(unit, f'r.sla_{goal}_due')} AS start, '{goal}' AS goal, "
        f"r.sla_{goal}_status AS status, COALESCE(r.team_id, 0) AS team_id, "
        f"r.pipeline_id AS pipeline_id, r.priority AS priority, {sign} AS d FROM {rel} r "
        f"WHERE r.sla_{goal}_status IN {DECIDED_SQL} AND r.sla_{goal}_due IS NOT NULL "
        f"AND NOT r.is_spam{extra}"
    )


def _upsert(unit: str, parts: list[str]) -> str:
    """Each key's change, and the same summed over every pipeline and priority (pipeline -1,
    priority "*"): the rows a report without a pipeline or priority filter reads, a tenth
    of the detailed ones. The parts are repeated, not shared through WITH: SQLite allows no
    WITH in a trigger."""
    table = TABLES[unit]
    changes = " UNION ALL ".join(parts)
    return (
        f"INSERT INTO {table} (start, goal, status, team_id, pipeline_id, priority, "
        f"tickets) SELECT start, goal, status, team_id, pipeline_id, priority, SUM(d) FROM ("
        f"SELECT start, goal, status, team_id, pipeline_id, priority, d FROM ({changes}) a "
        f"UNION ALL SELECT start, goal, status, team_id, {ALL_PIPELINES}, '{ALL_PRIORITIES}', d "
        f"FROM ({changes}) b"
        f") c WHERE 1 = 1 GROUP BY {KEY} HAVING SUM(d) <> 0 ORDER BY {KEY} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET tickets = {table}.tickets + excluded.tickets"
    )


# PostgreSQL -------------------------------------------------------------------------------

_PG_COUNTED = " AND (v_below IS NULL OR r.id < v_below)"


def _pg_statement(unit: str, relations: list[tuple[str, str]]) -> str:
    parts = [
        _contribution(unit, goal, rel, sign, _PG_COUNTED)
        for rel, sign in relations
        for goal in SLA_GOALS
    ]
    return _upsert(unit, parts) + ";"


def _pg_function() -> str:
    branches = {
        "INSERT": [("new_rows", "1")],
        "UPDATE": [("new_rows", "1"), ("old_rows", "-1")],
        "DELETE": [("old_rows", "-1")],
    }
    body = []
    for keyword, (operation, relations) in zip(
        ("IF", "ELSIF", "ELSE"), branches.items(), strict=True
    ):
        condition = f" TG_OP = '{operation}' THEN" if keyword != "ELSE" else ""
        body.append(f"{keyword}{condition} " + " ".join(
            _pg_statement(unit, relations) for unit in TABLES
        ))  # fmt: skip
    return (
        "CREATE OR REPLACE FUNCTION sla_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "DECLARE v_below bigint; BEGIN "
        f"PERFORM pg_advisory_xact_lock_shared({LOCK_KEY}); "
        "SELECT b.below INTO v_below FROM sla_rolluprebuild b ORDER BY b.id LIMIT 1; "
        + " ".join(body)
        + " END IF; RETURN NULL; END $$"
    )


PG_TRIGGERS = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}


def _pg_install() -> list[str]:
    statements = [_pg_function()]
    for operation, referencing in PG_TRIGGERS.items():
        name = f"sla_rollup_{operation.lower()}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON tickets_ticket",
            f"CREATE TRIGGER {name} AFTER {operation} ON tickets_ticket {referencing} "
            "FOR EACH STATEMENT EXECUTE FUNCTION sla_rollup_apply()",
        ]
    return statements


def _pg_uninstall() -> list[str]:
    return [
        *(
            f"DROP TRIGGER IF EXISTS sla_rollup_{op.lower()} ON tickets_ticket"
            for op in PG_TRIGGERS
        ),
        "DROP FUNCTION IF EXISTS sla_rollup_apply()",
    ]


# SQLite -----------------------------------------------------------------------------------

_SQLITE_COUNTED = (
    " AND r.id < COALESCE((SELECT b.below FROM sla_rolluprebuild b ORDER BY b.id LIMIT 1), "
    "r.id + 1)"
)
_COLUMNS = ", ".join(
    ["id", "team_id", "pipeline_id", "priority", "is_spam"]
    + [f"sla_{goal}_{part}" for goal in SLA_GOALS for part in ("due", "status")]
)


def _sqlite_row(row: str) -> str:
    """A one-row relation of the trigger's `new` or `old` row (SQLite cannot select from
    them directly)."""
    return (
        "(SELECT "
        + ", ".join(f"{row}.{column} AS {column}" for column in _COLUMNS.split(", "))
        + ")"
    )


def _sqlite_install() -> list[str]:
    triggers = {
        "insert": ("INSERT", [("new", "1")]),
        "update": (f"UPDATE OF {_COLUMNS}", [("new", "1"), ("old", "-1")]),
        "delete": ("DELETE", [("old", "-1")]),
    }
    statements = []
    for name, (event, rows) in triggers.items():
        body = " ".join(
            _upsert(
                unit,
                [
                    _contribution(unit, goal, _sqlite_row(row), sign, _SQLITE_COUNTED)
                    for row, sign in rows
                    for goal in SLA_GOALS
                ],
            )
            + ";"
            for unit in TABLES
        )
        statements += [
            f"DROP TRIGGER IF EXISTS sla_rollup_{name}",
            f"CREATE TRIGGER sla_rollup_{name} AFTER {event} ON tickets_ticket BEGIN {body} END",
        ]
    return statements


def _sqlite_uninstall() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS sla_rollup_{name}" for name in ("insert", "update", "delete")]


# Installing and rebuilding ----------------------------------------------------------------


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_triggers() -> None:
    _run(_pg_install() if connection.vendor == "postgresql" else _sqlite_install())


def uninstall_triggers() -> None:
    _run(_pg_uninstall() if connection.vendor == "postgresql" else _sqlite_uninstall())


def triggers_installed() -> bool:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sla_rollup_%%' "
                "AND tgrelid = 'tickets_ticket'::regclass"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'sla_rollup_%' AND tbl_name = 'tickets_ticket'"
            )
        return bool(cursor.fetchone()[0] == 3)


def _lock(cursor: object) -> None:
    if connection.vendor == "postgresql":
        cursor.execute(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")  # type: ignore[attr-defined]


def rebuild(batch_size: int = 50_000, progress: Callable[[int, int], None] | None = None) -> int:
    """Recount both tables from the tickets, `batch_size` tickets (by id) per transaction.
    Returns the highest ticket id when it started; `progress(id reached, that id)` after each
    batch. Safe while tickets change (module docstring)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute("DELETE FROM sla_rolluprebuild")
        cursor.execute("INSERT INTO sla_rolluprebuild (below) VALUES (0)")
        for table in TABLES.values():
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_ticket")
        highest = int(cursor.fetchone()[0])
    low = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            _lock(cursor)
            cursor.execute(
                "SELECT id FROM tickets_ticket WHERE id >= %s ORDER BY id LIMIT 1 OFFSET %s",
                [low, batch_size],
            )
            found = cursor.fetchone()
            high = int(found[0]) if found is not None else None
            # The last batch has no upper bound and ends the rebuild in the same transaction,
            # so a ticket inserted meanwhile is counted by the batch or by its trigger.
            if high is None:
                cursor.execute("DELETE FROM sla_rolluprebuild")
                extra = f" AND r.id >= {low}"
            else:
                cursor.execute("UPDATE sla_rolluprebuild SET below = %s", [high])
                extra = f" AND r.id >= {low} AND r.id < {high}"
            for unit in TABLES:
                cursor.execute(
                    _upsert(
                        unit,
                        [
                            _contribution(unit, goal, "tickets_ticket", "1", extra)
                            for goal in SLA_GOALS
                        ],
                    )
                )
        if progress is not None:
            progress(highest if high is None else min(high - 1, highest), highest)
        if high is None:
            return highest
        low = high


def compact() -> None:
    """After a rebuild outside a transaction (PostgreSQL): reclaim the row versions the
    batches' upserts left (where ticket ids do not follow due times, every batch touches the
    same buckets) and refresh the statistics. A plain VACUUM, so ticket writes never wait;
    `VACUUM FULL` on the two tables in a quiet hour also shrinks them."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    _run([f"VACUUM ANALYZE {table}" for table in TABLES.values()])
