# ruff: noqa: S608 - SQL assembled from the fixed constants below, no outside input
"""The SLA report's times: a histogram of how long completed goals took (PostgreSQL).

`ElapsedWeek` holds, per (goal, UTC week of the due time, team (0: none), pipeline, priority,
bin), how many non-spam tickets completed that goal — on time or late — with a wall-clock time
from the timer's start to its completion in that bin. Bins are logarithmic and 2 % wide
(`bin_sql`, `bin_edges`), so a median or 90th percentile read from the histogram is within 2 %
(and a second) of `percentile_cont` over the tickets — without reading a million of them.
`ElapsedHour` holds the same by UTC hour, only for the hours where some zone's week begins:
the report moves the goals between a local week start and the UTC Monday midnight from it.

Each (goal, bucket, bin) also has a row over every team, pipeline and priority together (team
and pipeline -1, priority "*"), which the unfiltered report of a viewer who sees all tickets
reads: a year is then some 18,000 rows per goal instead of 300,000. Only the goals whose times
the report plots (`TIMED_GOALS`) are counted.

The status, due time, team, pipeline, priority and spam flag live on `tickets_ticket`; the
start and completion on `sla_ticketsla`, and the timers write them in either order. So both
tables carry statement-level triggers, each counting its own old and new rows joined with the
other table as it stands: any sequence of changes to either table sums to the count from
scratch.

SQLite has no such triggers: its report sorts the (few) durations in Python instead.
`rebuild()` recounts from scratch (in the migrations that add the histograms and in
`svardesk sla_rollup --rebuild`), holding off ticket and timer writes while it counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.db import connection, transaction

from svardesk.sla.rollup import ALL_PIPELINES, ALL_PRIORITIES
from svardesk.tickets.models import SlaStatus

# The histogram by UTC week, and by UTC hour for the hours near a week's start where some
# time zone's week begins (Sunday 10:00 to Monday 14:00 UTC: UTC+14 to UTC-12, with margin).
TABLES = {"week": "sla_elapsedweek", "hour": "sla_elapsedhour"}
EDGE_SQL = (
    "(extract(isodow FROM {due} AT TIME ZONE 'UTC') = 7 "
    "AND extract(hour FROM {due} AT TIME ZONE 'UTC') >= 10 "
    "OR extract(isodow FROM {due} AT TIME ZONE 'UTC') = 1 "
    "AND extract(hour FROM {due} AT TIME ZONE 'UTC') < 14)"
)
TIMED_GOALS = ("first_response", "close")
KEY = "goal, start, bin, team_id, pipeline_id, priority"
RATIO = 1.02
# With ALL_PIPELINES and ALL_PRIORITIES (the compliance rollup's): every team too.
ALL_TEAMS = -1
COMPLETED_SQL = f"('{SlaStatus.MET.value}', '{SlaStatus.MISSED.value}')"


def bin_sql(elapsed: str) -> str:
    """The bin of an interval: floor(log_1.02(1 + seconds)), in SQL. The triggers and the
    report's reads of edge pieces use this one expression, so both bin a duration alike."""
    return f"floor(ln(1 + greatest(extract(epoch FROM {elapsed}), 0)) / ln({RATIO}))::int"


def bin_edges(bin_number: int) -> tuple[float, float]:
    """The seconds a bin covers: [RATIO^bin - 1, RATIO^(bin + 1) - 1)."""
    return RATIO**bin_number - 1, RATIO ** (bin_number + 1) - 1


def percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """percentile_cont read from a histogram: the ranks either side of `fraction`, each placed
    evenly within its bin, interpolated like percentile_cont. Counts below zero (a histogram
    corrected while tickets changed) count as none."""
    bins = sorted((number, count) for number, count in histogram.items() if count > 0)
    total = sum(count for _number, count in bins)
    if not total:
        return None

    def value_at(rank: int) -> float:
        seen = 0
        for number, count in bins:
            if rank < seen + count:
                low, high = bin_edges(number)
                return low + (high - low) * (rank - seen + 0.5) / count
            seen += count
        return bin_edges(bins[-1][0])[1]  # pragma: no cover - rank < total

    position = fraction * (total - 1)
    low_rank = math.floor(position)
    high_rank = min(low_rank + 1, total - 1)
    low_value = value_at(low_rank)
    return low_value + (value_at(high_rank) - low_value) * (position - low_rank)


def _contribution(unit: str, goal: str, tickets: str, timers: str, sign: str) -> str:
    elapsed = f"s.{goal}_completed_at - s.{goal}_started_at"
    due = f"r.sla_{goal}_due"
    edge = f" AND {EDGE_SQL.format(due=due)}" if unit == "hour" else ""
    return (
        f"SELECT date_trunc('{unit}', {due}, 'UTC') AS start, '{goal}' AS goal, "
        f"COALESCE(r.team_id, 0) AS team_id, r.pipeline_id AS pipeline_id, "
        f"r.priority AS priority, {bin_sql(elapsed)} AS bin, {sign} AS d "
        f"FROM {tickets} r JOIN {timers} s ON s.ticket_id = r.id "
        f"WHERE r.sla_{goal}_status IN {COMPLETED_SQL} AND {due} IS NOT NULL "
        f"AND NOT r.is_spam AND s.{goal}_started_at IS NOT NULL "
        f"AND s.{goal}_completed_at IS NOT NULL{edge}"
    )


def _upsert(unit: str, parts: list[str]) -> str:
    """Each key's change, and each (goal, bucket, bin)'s change summed over every team,
    pipeline and priority: the row with team -1, pipeline -1 and priority "*" that an
    unfiltered report reads instead of a hundred detailed ones."""
    table = TABLES[unit]
    return (
        f"INSERT INTO {table} ({KEY}, tickets) SELECT goal, start, bin, "
        f"CASE WHEN GROUPING(team_id) = 1 THEN {ALL_TEAMS} ELSE team_id END, "
        f"CASE WHEN GROUPING(pipeline_id) = 1 THEN {ALL_PIPELINES} ELSE pipeline_id END, "
        f"CASE WHEN GROUPING(priority) = 1 THEN '{ALL_PRIORITIES}' ELSE priority END, SUM(d) FROM ("
        + " UNION ALL ".join(parts)
        + f") c GROUP BY GROUPING SETS (({KEY}), (goal, start, bin)) HAVING SUM(d) <> 0 "
        f"ORDER BY 1, 2, 3, 4, 5, 6 "
        f"ON CONFLICT ({KEY}) DO UPDATE SET tickets = {table}.tickets + excluded.tickets"
    )


def _units() -> list[str]:
    """The histogram tables that exist: an earlier migration installs the triggers before a
    later one adds the hourly table (and installs them again)."""
    existing = set(connection.introspection.table_names())
    return [unit for unit, table in TABLES.items() if table in existing]


def _upserts(relations: list[tuple[str, str, str]]) -> str:
    """The histograms' upserts for `relations`: (tickets, their timers, sign) — a trigger's
    old or new rows joined with the other table as it stands, or both tables whole."""
    statements = []
    for unit in _units():
        parts = [
            _contribution(unit, goal, tickets, timers, sign)
            for tickets, timers, sign in relations
            for goal in TIMED_GOALS
        ]
        statements.append(_upsert(unit, parts) + ";")
    return " ".join(statements)


# Per trigger: its table, the function's name, and how its old or new rows pair with the
# other table (tickets' rows with their timers, timers' rows with their tickets).
_TRIGGERS: dict[str, tuple[str, Callable[[str], tuple[str, str]]]] = {
    "tickets_ticket": ("sla_durations_tickets", lambda rows: (rows, "sla_ticketsla")),
    "sla_ticketsla": ("sla_durations_timers", lambda rows: ("tickets_ticket", rows)),
}
_REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}
_RELATIONS = {
    "INSERT": [("new_rows", "1")],
    "UPDATE": [("new_rows", "1"), ("old_rows", "-1")],
    "DELETE": [("old_rows", "-1")],
}


def _function(name: str, pair: Callable[[str], tuple[str, str]]) -> str:
    body = []
    for keyword, (operation, relations) in zip(
        ("IF", "ELSIF", "ELSE"), _RELATIONS.items(), strict=True
    ):
        condition = f" TG_OP = '{operation}' THEN" if keyword != "ELSE" else ""
        upserts = _upserts([(*pair(rows), sign) for rows, sign in relations])
        body.append(f"{keyword}{condition} {upserts}")
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        + " ".join(body)
        + " END IF; RETURN NULL; END $$"
    )


def _install() -> list[str]:
    statements = []
    for table, (name, pair) in _TRIGGERS.items():
        statements.append(_function(name, pair))
        for operation, referencing in _REFERENCING.items():
            trigger = f"{name}_{operation.lower()}"
            statements += [
                f"DROP TRIGGER IF EXISTS {trigger} ON {table}",
                f"CREATE TRIGGER {trigger} AFTER {operation} ON {table} {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            ]
    return statements


def _uninstall() -> list[str]:
    statements = []
    for table, (name, _pair) in _TRIGGERS.items():
        statements += [
            f"DROP TRIGGER IF EXISTS {name}_{operation.lower()} ON {table}"
            for operation in _REFERENCING
        ]
        statements.append(f"DROP FUNCTION IF EXISTS {name}()")
    return statements


def _run(statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def supported() -> bool:
    return connection.vendor == "postgresql"


def install_triggers() -> None:
    if supported():
        _run(_install())


def uninstall_triggers() -> None:
    if supported():
        _run(_uninstall())


def triggers_installed() -> bool:
    """True where the histogram is kept (PostgreSQL, all six triggers); SQLite needs none."""
    if not supported():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'sla_durations_%%'")
        return bool(cursor.fetchone()[0] == 2 * len(_REFERENCING))


def rebuild() -> None:
    """Recount the histogram from the tickets and their timers in one transaction. The
    SHARE lock lets reads go on and makes writes of either table wait for the count (at
    1,000,000 tickets some seconds), so no change is missed or counted twice."""
    if not supported():
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE tickets_ticket, sla_ticketsla IN SHARE MODE")
        tables = [TABLES[unit] for unit in _units()]
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
        cursor.execute(_upserts([("tickets_ticket", "sla_ticketsla", "1")]))
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
