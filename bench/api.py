"""The HubSpot-compatible API over HTTP at 1M tickets: uvicorn with 2 workers, wrk.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_api1m \\
        REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/api.py [--duration 10] [--mixed-duration 20]
            [--connections 1,4] [--mixed-connections 8] [--batches 10] [--only get,search]
            [--limits counted|off] [--profile get|search|batch]

Starts `svardesk serve --workers 2` (without the task worker) on a free loopback port against
DATABASE_URL and REDIS_URL, with a fresh private-app token of the demo super admin (revoked
at the end), then measures what issue 14 sets targets for:

- get:    GET /crm/v3/objects/tickets/{id} over 5,000 random tickets (target p95 ≤ 15 ms);
- search: POST /crm/v3/objects/tickets/search, two filters (stage and priority, rotating
          over every pair) and a sort (createdate descending) (target p95 ≤ 60 ms);
- batch:  POST /crm/v3/objects/tickets/batch/create with 100 tickets, one after another
          (target ≤ 300 ms each);
- mixed:  65 % GET ticket, 10 % list page, 10 % search, 10 % PATCH of a bench ticket, 5 %
          create, over --mixed-connections connections (target ≥ 500 requests/s).

Rate limits: `--limits counted` (default) sets them so high that no request is refused while
every request still pays for being counted (two Redis round trips, as in production);
`--limits off` sets them to 0 (not counted at all). Every answer must be 2xx; wrk reports
any other as non-2xx. Writes: the batch and mixed runs add tickets whose subject starts with
"API bench" (about 1,000 + 250 a mixed run) — never point it at a database you must keep.
Before the mixed run the tables those writes touch get `VACUUM ANALYZE` (PostgreSQL;
`--no-vacuum` skips it): autovacuum waits for a fifth of a million-row table to change, and
the dead rows and stale statistics earlier runs left slowed the search case 2.6-fold, so a
run measured the runs before it rather than the code.

`--profile NAME` instead runs that request 200 times in this process (Django's test client,
the same middleware) under pyinstrument and prints where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")

import django  # noqa: E402

django.setup()

from bench.wrk import WRK_DONE, free_port, load, run_wrk, start_web  # noqa: E402
from svardesk.accounts.models import User  # noqa: E402
from svardesk.api.models import ApiToken  # noqa: E402
from svardesk.api.scopes import SCOPE_NAMES  # noqa: E402
from svardesk.api.tokens import create_token, revoke_token  # noqa: E402
from svardesk.demo.generator import DEMO_LOGINS  # noqa: E402
from svardesk.tickets.queries import visible_tickets  # noqa: E402

TOKEN_NAME = "API bench"  # noqa: S105 - the private app's name, not a secret
PRIORITIES = ("LOW", "MEDIUM", "HIGH", "URGENT")
HUGE_LIMIT = "1000000000"

WRK_REQUESTS = """
local ids = {%(ids)s}
local bench_ids = {%(bench_ids)s}
local searches = {%(searches)s}
local n = 0
math.randomseed(%(seed)d)

local function get_ticket()
  return wrk.format("GET", "/crm/v3/objects/tickets/" .. ids[math.random(#ids)])
end

local function search()
  n = n + 1
  return wrk.format("POST", "/crm/v3/objects/tickets/search", nil, searches[(n %% #searches) + 1])
end

local function list_page()
  return wrk.format("GET", "/crm/v3/objects/tickets?limit=10&after=" .. ids[math.random(#ids)])
end

local function patch_ticket()
  local priorities = {"LOW", "MEDIUM", "HIGH", "URGENT"}
  local body = '{"properties":{"hs_ticket_priority":"' .. priorities[math.random(4)] .. '"}}'
  return wrk.format("PATCH", "/crm/v3/objects/tickets/" .. bench_ids[math.random(#bench_ids)],
                    nil, body)
end

local function create_ticket()
  n = n + 1
  local body = '{"properties":{"subject":"API bench mixed ' .. n ..
               '","hs_pipeline":"0","hs_pipeline_stage":"%(first_stage)s"}}'
  return wrk.format("POST", "/crm/v3/objects/tickets", nil, body)
end

local mode = "%(mode)s"
request = function()
  if mode == "get" then return get_ticket() end
  if mode == "search" then return search() end
  local r = math.random(100)
  if r <= 65 then return get_ticket() end
  if r <= 75 then return list_page() end
  if r <= 85 then return search() end
  if r <= 95 then return patch_ticket() end
  return create_ticket()
end
"""


def start_server(port: int, workers: int, limits: str) -> subprocess.Popen[bytes]:
    value = HUGE_LIMIT if limits == "counted" else "0"
    env = {
        f"SVARDESK_API_{name}": value for name in ("RATE_LIMIT", "SEARCH_RATE_LIMIT", "DAILY_LIMIT")
    }
    return start_web(port, workers, ready_path="/api/openapi.json", env=env)


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - http to our own server
        base + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            raw = response.read()
            return int(response.status), json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return int(error.code), json.loads(raw) if raw else None


def _headers(token: str) -> list[str]:
    return [f"Authorization: Bearer {token}", "Content-Type: application/json"]


def cpu_seconds(root: int) -> float:
    """User + system CPU of `root` and its children (uvicorn's workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == root or ppid == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def lua_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_bodies(stage_ids: list[str]) -> list[str]:
    """Two filters and a sort, over every (open stage, priority) pair."""
    return [
        json.dumps(
            {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_pipeline_stage", "operator": "EQ", "value": s},
                            {"propertyName": "hs_ticket_priority", "operator": "EQ", "value": p},
                        ]
                    }
                ],
                "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
                "properties": ["subject", "hs_pipeline_stage", "hs_ticket_priority"],
                "limit": 10,
            }
        )
        for s in stage_ids
        for p in PRIORITIES
    ]


def write_script(mode: str, ids: list[int], bench_ids: list[str], searches: list[str],
                 first_stage: str) -> str:  # fmt: skip
    text = (
        WRK_REQUESTS
        % {
            "ids": ",".join(map(str, ids)),
            "bench_ids": ",".join(bench_ids) or "0",
            "searches": ",".join(lua_string(body) for body in searches),
            "seed": 42,
            "first_stage": first_stage,
            "mode": mode,
        }
        + WRK_DONE
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(text)
        return handle.name


def batch_inputs(first_stage: str, round_: int) -> dict[str, Any]:
    return {
        "inputs": [
            {
                "properties": {
                    "subject": f"API bench batch {round_}.{i}",
                    "content": "Created by bench/api.py to time batch create.",
                    "hs_pipeline": "0",
                    "hs_pipeline_stage": first_stage,
                    "hs_ticket_priority": PRIORITIES[i % 4],
                }
            }
            for i in range(100)
        ]
    }


def vacuum_written_tables() -> None:
    """VACUUM ANALYZE the tables the batch and mixed runs write (see the module's text)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in ("tickets_ticket", "tickets_ticketevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(f"VACUUM ANALYZE of the written tables: {time.perf_counter() - started:.1f} s")


def measure_batches(base: str, token: str, first_stage: str, batches: int) -> list[str]:
    """Time batch creates one after another; returns the created ids."""
    created: list[str] = []
    times: list[float] = []
    for round_ in range(batches + 1):  # the first is a warm-up, not counted
        body = batch_inputs(first_stage, round_)
        started = time.perf_counter()
        status, answer = call(base, token, "POST", "/crm/v3/objects/tickets/batch/create", body)
        elapsed = (time.perf_counter() - started) * 1000
        if status != 201:
            raise SystemExit(f"batch create answered {status}: {answer}")
        created += [result["id"] for result in answer["results"]]
        if round_:
            times.append(elapsed)
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    print(
        f"{'batch create, 100 tickets (' + str(batches) + ' in a row)':<52}  1 "
        f"{statistics.median(times):7.1f} {p95:7.1f} {times[-1]:7.1f} (p50, p95, max)"
        f"  {load()}",
        flush=True,
    )
    return created


def profile(
    name: str, token: str, ids: list[int], searches: list[str], first_stage: str, limits: str
) -> None:
    from django.conf import settings
    from django.test import Client
    from pyinstrument import Profiler

    for setting in ("API_RATE_LIMIT", "API_SEARCH_RATE_LIMIT", "API_DAILY_LIMIT"):
        setattr(settings, setting, int(HUGE_LIMIT) if limits == "counted" else 0)

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    rounds = 200 if name != "batch" else 5

    def once(i: int) -> int:
        if name == "get":
            return client.get(f"/crm/v3/objects/tickets/{ids[i % len(ids)]}").status_code
        if name == "search":
            return client.post(
                "/crm/v3/objects/tickets/search",
                searches[i % len(searches)],
                content_type="application/json",
            ).status_code
        return client.post(
            "/crm/v3/objects/tickets/batch/create",
            json.dumps(batch_inputs(first_stage, i)),
            content_type="application/json",
        ).status_code

    for i in range(5):
        once(i)  # warm caches and connections
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        statuses = {once(i) for i in range(rounds)}
    elapsed = (time.perf_counter() - started) * 1000 / rounds
    print(f"{name}: {rounds} requests in process, {elapsed:.1f} ms each, statuses {statuses}")
    print(profiler.output_text(unicode=True, color=False, show_all=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run (default 10)")
    parser.add_argument("--mixed-duration", type=int, default=20)
    parser.add_argument("--connections", default="1,4", help="for get and search (default 1,4)")
    parser.add_argument("--mixed-connections", default="8", help="comma-separated (default 8)")
    parser.add_argument("--batches", type=int, default=10, help="batch creates timed")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="get,search,batch,mixed")
    parser.add_argument("--limits", choices=("counted", "off"), default="counted")
    parser.add_argument("--profile", choices=("get", "search", "batch"), default="")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument(
        "--no-vacuum",
        dest="vacuum",
        action="store_false",
        help="skip VACUUM ANALYZE of the written tables before the mixed run",
    )
    args = parser.parse_args()
    wanted = set(args.only.split(","))

    from django.db import connection

    admin_email = next(login.email for login in DEMO_LOGINS if login.key == "admin")
    admin = User.objects.get(email__iexact=admin_email)
    for old in ApiToken.objects.filter(name=TOKEN_NAME, revoked_at__isnull=True):
        revoke_token(old, actor=None)
    token_row, token = create_token(user=admin, name=TOKEN_NAME, scopes=SCOPE_NAMES, actor=None)
    ids = list(visible_tickets(admin).order_by("?").values_list("pk", flat=True)[:5000])
    total = visible_tickets(admin).count()
    vendor = connection.vendor
    connection.close()  # the server's workers take their own

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    scripts: list[str] = []
    server = None if args.profile else start_server(port, args.workers, args.limits)
    try:
        if server is not None:
            status, pipelines = call(base, token, "GET", "/crm/v3/pipelines/tickets/0")
        else:
            from django.test import Client

            answer = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1").get(
                "/crm/v3/pipelines/tickets/0"
            )
            status, pipelines = answer.status_code, answer.json()
        if status != 200:
            raise SystemExit(f"GET /crm/v3/pipelines/tickets/0 answered {status}: {pipelines}")
        stages = [s["id"] for s in pipelines["stages"]]
        open_stages = [
            s["id"] for s in pipelines["stages"] if s["metadata"].get("ticketState") != "CLOSED"
        ] or stages
        searches = search_bodies(open_stages)
        random.Random(7).shuffle(searches)
        if args.profile:
            profile(args.profile, token, ids, searches, stages[0], args.limits)
            return

        server_pid = server.pid if server is not None else 0
        print(
            f"database: {vendor}, {total:,} tickets visible to the super admin; uvicorn "
            f"--workers {args.workers}, wrk -t1, rate limits {args.limits}; {args.duration} s "
            f"a run ({args.mixed_duration} s mixed); latency in ms; cpu ms = the server's CPU "
            "per request; load = 1/5/15-min average"
        )
        header = (
            f"{'request':<52} {'c':>2} {'p50':>7} {'p95':>7} {'p99':>7} {'req/s':>7}"
            f" {'cpu ms':>6}  {'load before':<16} {'load after':<16}"
        )
        print(header)
        print("-" * len(header))

        def timed(mode: str, label: str, connections: list[int], duration: int,
                  bench_ids: list[str]) -> None:  # fmt: skip
            script = write_script(mode, ids, bench_ids, searches, stages[0])
            scripts.append(script)
            if args.warmup:
                run_wrk(base + "/", 1, args.warmup, script, _headers(token))
            for count in connections:
                before = load()
                cpu_before = cpu_seconds(server_pid)
                result = run_wrk(base + "/", count, duration, script, _headers(token))
                # The server's CPU per request (both workers), wrk and PostgreSQL not counted.
                cpu = (cpu_seconds(server_pid) - cpu_before) * 1000 / max(result["requests"], 1)
                rate = result["requests"] / (result["duration_us"] / 1e6)
                problems = ""
                if result["non_2xx"] or result["socket_errors"]:
                    problems = (
                        f"  !! {result['non_2xx']} non-2xx, {result['socket_errors']} socket errors"
                    )
                print(
                    f"{label:<52} {count:>2} {result['p50'] / 1000:7.1f} "
                    f"{result['p95'] / 1000:7.1f} {result['p99'] / 1000:7.1f} {rate:7.1f}"
                    f" {cpu:6.1f}  {before:<16} {load():<16}{problems}",
                    flush=True,
                )

        connections = [int(c) for c in args.connections.split(",")]
        if "get" in wanted:
            timed("get", "GET ticket by id", connections, args.duration, [])
        if "search" in wanted:
            timed("search", "search: stage + priority, by createdate desc", connections,
                  args.duration, [])  # fmt: skip
        bench_ids: list[str] = []
        if "batch" in wanted or "mixed" in wanted:
            bench_ids = measure_batches(base, token, stages[0], args.batches if "batch" in wanted
                                        else 1)  # fmt: skip
        if "mixed" in wanted:
            if args.vacuum:
                vacuum_written_tables()
            timed(
                "mixed",
                "mixed: 65% get, 10% list, 10% search, 15% write",
                [int(c) for c in args.mixed_connections.split(",")],
                args.mixed_duration,
                bench_ids,
            )
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        for script in scripts:
            os.unlink(script)
        revoke_token(token_row, actor=None)


if __name__ == "__main__":
    main()
