"""Views and search at scale: server-side request times and the database's own time.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench \\
        .venv/bin/python bench/views.py [--requests 200] [--explain]
        (SQLite: SVARDESK_DATA_DIR=<dir with svardesk.sqlite3> .venv/bin/python bench/views.py)

Needs the demo data (`svardesk demo --tickets 1000000 --contacts 200000 --agents 50
--teams 8`). Creates 20 custom views ("Bench: …", visible to the demo agent) when missing.
Each measurement runs requests through Django's whole stack in-process, warm (one unmeasured
request first), and prints p50/p95/p99 over --requests requests; next to it, the same
request's SQL replayed straight on the database connection ("db"), so the gap between the
database's limit and the page is visible, and how many queries the request made. Sidebar
counts are measured three ways: every request counting (cache off), one agent refreshing
(cache on, 5 s), and all 50 agents taking turns (cache on, counts shared between agents who
see the same tickets).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
os.environ.setdefault("SVARDESK_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from svardesk.accounts.models import User  # noqa: E402
from svardesk.crm.models import Contact  # noqa: E402
from svardesk.teams.models import Team  # noqa: E402
from svardesk.ticket_views import services  # noqa: E402
from svardesk.ticket_views.defaults import DEFAULT_VIEWS  # noqa: E402
from svardesk.ticket_views.filters import Filter  # noqa: E402
from svardesk.ticket_views.models import CustomView, Sharing  # noqa: E402
from svardesk.tickets.models import Stage, Ticket  # noqa: E402

BENCH_PREFIX = "Bench: "


def pick(ordered: list[float], p: float) -> float:
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"p50 {pick(ordered, 0.5):6.1f}  p95 {pick(ordered, 0.95):6.1f}  "
        f"p99 {pick(ordered, 0.99):6.1f} ms"
    )


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    fn()  # warm
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
        status = getattr(result, "status_code", 200)
        if status != 200:
            raise SystemExit(f"request answered {status}, not 200: the numbers would be wrong")
    return samples


def captured_sql(fn: Callable[[], Any]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"] for q in captured.captured_queries]


def replay(statements: list[str], n: int) -> list[float]:
    """The request's queries run straight on the connection, `n` times: the database's
    share of the request (no ORM, no templates)."""
    samples = []
    with connection.cursor() as cursor:
        for _ in range(n + 1):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return samples[1:]


def slowest(statements: list[str]) -> str:
    timings = []
    with connection.cursor() as cursor:
        for sql in statements:
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            timings.append((time.perf_counter() - started, sql))
    return max(timings)[1] if timings else ""


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())


def ensure_bench_views(agent: User, admin: User) -> list[CustomView]:
    """20 views the demo agent sees: 6 private, 7 for the agent's teams, 7 for everyone."""
    existing = list(CustomView.objects.filter(name__startswith=BENCH_PREFIX).order_by("pk"))
    if len(existing) >= 20:
        return existing[:20]
    CustomView.objects.filter(name__startswith=BENCH_PREFIX).delete()
    settings.CUSTOM_VIEW_LIMIT = max(settings.CUSTOM_VIEW_LIMIT, CustomView.objects.count() + 20)
    stages = {s.name: str(s.pk) for s in Stage.objects.all()}
    open_stages = tuple(str(s.pk) for s in Stage.objects.filter(is_closed=False))
    teams = list(Team.objects.order_by("name"))
    agent_teams = list(agent.teams.all())
    specs: list[tuple[str, list[Filter], str]] = [
        ("My team's urgent and high, by priority", [
            Filter("team", "IN", values=("my_team",)),
            Filter("priority", "IN", values=("HIGH", "URGENT")),
            Filter("stage", "IN", values=open_stages),
        ], "-priority"),
        ("Mine, active this week", [
            Filter("owner", "EQ", "me"), Filter("last_activity_at", "BETWEEN", "last_7_days"),
        ], ""),
        ("Unassigned urgent", [
            Filter("owner", "NOT_HAS_PROPERTY"), Filter("priority", "EQ", "URGENT"),
            Filter("stage", "IN", values=open_stages),
        ], ""),
        ("Billing issues in my team", [
            Filter("category", "IN", values=("BILLING_ISSUE",)),
            Filter("team", "IN", values=("my_team",)),
        ], ""),
        ("Waiting on contact", [Filter("stage", "EQ", stages.get("Waiting on contact", "1"))], ""),
        ("Email, created this week", [
            Filter("source", "EQ", "EMAIL"), Filter("created_at", "BETWEEN", "last_7_days"),
        ], "-created_at"),
        ("Closed today", [
            Filter("stage", "EQ", stages.get("Closed", "1")),
            Filter("closed_at", "BETWEEN", "last_0_days"),
        ], ""),
        ("Chat, unassigned", [Filter("source", "EQ", "CHAT"), Filter("owner", "NOT_HAS_PROPERTY")], ""),
        ("No team", [Filter("team", "NOT_HAS_PROPERTY"), Filter("stage", "IN", values=open_stages)], ""),
        ("Feature requests", [Filter("category", "EQ", "FEATURE_REQUEST")], "name"),
        ("Messenger this month", [
            Filter("source", "EQ", "MESSENGER"), Filter("created_at", "BETWEEN", "last_30_days"),
        ], ""),
        ("High, no owner, my team", [
            Filter("priority", "EQ", "HIGH"), Filter("owner", "NOT_HAS_PROPERTY"),
            Filter("team", "IN", values=("my_team",)),
        ], ""),
    ]  # fmt: skip
    specs.extend(
        (f"{team.name}: open urgent", [
            Filter("team", "EQ", str(team.pk)), Filter("priority", "EQ", "URGENT"),
            Filter("stage", "IN", values=open_stages),
        ], "")
        for team in teams[:8]
    )  # fmt: skip
    views = []
    for index, (name, filters, sort) in enumerate(specs[:20]):
        if index == 0:  # the benchmark's "three filters, by priority": for everyone
            sharing, view_teams, actor = Sharing.EVERYONE, [], admin
        elif index < 6:
            sharing, view_teams, actor = Sharing.PRIVATE, [], agent
        elif index < 13:
            sharing, view_teams, actor = Sharing.TEAMS, agent_teams[:1], admin
        else:
            sharing, view_teams, actor = Sharing.EVERYONE, [], admin
        views.append(
            services.create_view(
                actor=actor, name=BENCH_PREFIX + name, sharing=sharing, teams=view_teams,
                filters=filters, sort=sort,
            )
        )  # fmt: skip
    return views


def search_terms() -> dict[str, str]:
    """Queries drawn from the data, so each finds something."""
    contact = (
        Contact.objects.exclude(email="")
        .exclude(mobile_phone="")
        .filter(mobile_phone__startswith="070")
        .order_by("pk")
        .first()
    ) or Contact.objects.exclude(email="").order_by("pk").first()
    if contact is None:
        raise SystemExit("No contacts: load the demo data first (svardesk demo)")
    local, domain = contact.email.split("@", 1)
    digits = "".join(ch for ch in contact.mobile_phone if ch.isdigit())
    phone = f"+46 {digits[1:3]}-{digits[3:6]} {digits[6:8]} {digits[8:]}" if digits else "070"
    ticket = Ticket.objects.order_by("-pk").values_list("pk", flat=True)[
        Ticket.objects.count() // 3
    ]
    return {
        "email": contact.email,
        "partial email (local@)": f"{local}@",
        "partial email (@domain)": f"@{domain}",
        "phone (+46 format)": phone,
        "last name": "Lindqvist",
        "ID": str(ticket),
        "description word (0.5% of tickets)": "okta",
        "common word (2% of tickets)": "webhook",
        "single letter": "a",
    }


# Searches paged through to the end (or --deep-pages): deep pages once the better ranks
# run out are where a walk over the newest tickets used to lose its way.
DEEP_TERMS = ("printer", "webhook", "okta", "Lindqvist", "a", "@gmail.com")


def deep_pages(user: User, term: str, pages: int) -> tuple[list[float], list[str]]:
    """Each page's time through search_tickets (the search's SQL and ORM, no template),
    following the cursor; and the statements of the slowest page."""
    from svardesk.search.queries import search_tickets

    cursor: str | None = None
    samples: list[float] = []
    worst: tuple[float, list[str]] = (0.0, [])
    for _ in range(pages):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            page = search_tickets(user, term, cursor=cursor)
            elapsed = (time.perf_counter() - started) * 1000
        samples.append(elapsed)
        if elapsed > worst[0]:
            worst = (elapsed, [q["sql"] for q in captured.captured_queries])
        cursor = page.next_cursor
        if not cursor:
            break
    return samples, worst[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN of the slowest")
    parser.add_argument(
        "--search-only", action="store_true", help="only the search box and deep search pages"
    )
    parser.add_argument("--deep-pages", type=int, default=60, help="pages per deep search")
    args = parser.parse_args()
    n = args.requests
    agent = User.objects.get(email="agent@svardesk.example")
    admin = User.objects.get(email="admin@svardesk.example")
    restricted = User.objects.get(email="restricted@svardesk.example")
    views = ensure_bench_views(agent, admin)
    print(
        f"database: {connection.vendor}, tickets: {Ticket.objects.count():,}, "
        f"contacts: {Contact.objects.count():,}, custom views: {CustomView.objects.count()}, "
        f"requests per row: {n}"
    )
    slow: list[tuple[float, str, str]] = []

    def measure(label: str, client: Client, url: str, *, cached: bool = True) -> None:
        settings.SIDEBAR_COUNT_CACHE_SECONDS = 5 if cached else 0
        cache.clear()
        client.get(url)  # warm: counts cached, as between two refreshes
        statements = captured_sql(lambda: client.get(url))
        page = timed(lambda: client.get(url), n)
        heavy = statements  # every query the request made, session and user included
        db = replay(heavy, max(20, n // 5))
        sql = slowest(heavy)
        slow.append((pick(sorted(db), 0.95), label, sql))
        print(f"  {label:<44} {summary(page)}   db {summary(db)}   {len(statements)} queries")

    if args.search_only:
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        for user in (agent, restricted):
            client = Client()
            client.force_login(user)
            print(f"\n== {user.email}: the search box, first page")
            for label, term in search_terms().items():
                from urllib.parse import urlencode

                measure(f"search: {label}", client, "/tickets/?" + urlencode({"q": term}))
            print(f"== {user.email}: every page in turn (search_tickets, up to {args.deep_pages})")
            for term in DEEP_TERMS:
                samples, statements = deep_pages(user, term, args.deep_pages)
                print(f"  {term!r:<14} {len(samples):3} pages  {summary(samples)}")
                sql = slowest(statements)
                slow.append((max(samples), f"deep pages of {term!r} ({user.email})", sql))
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        worst = max(slow)
        print(f"\nslowest: {worst[1]} ({worst[0]:.1f} ms)")
        if args.explain:
            print(worst[2][:2000])
            print(explain(worst[2]))
        return

    for user in (agent, restricted):
        client = Client()
        client.force_login(user)
        access = "super admin" if user.is_superuser else user.ticket_access
        print(f"\n== {user.email} (access: {access})")
        print("  -- default views, first page (sidebar counts cached, as between refreshes)")
        for view in DEFAULT_VIEWS:
            measure(f"/views/{view.key}/", client, f"/views/{view.key}/")
        print("  -- custom view: three filters, sorted by priority")
        main_view = views[0]
        measure(f"{main_view.name[len(BENCH_PREFIX) :][:40]}", client, f"/views/{main_view.key}/")
        print("  -- search (the search box)")
        for label, term in search_terms().items():
            from urllib.parse import urlencode

            measure(f"search: {label}", client, "/tickets/?" + urlencode({"q": term}))
        visible = len(views) if user == agent else CustomView.objects.count()
        print(f"  -- sidebar ({len(DEFAULT_VIEWS)} default views + custom views it sees)")
        measure("sidebar, every request counting", client, "/sidebar/counts/", cached=False)
        measure("sidebar, cache on (one agent refreshing)", client, "/sidebar/counts/")
        del visible

    print("\n== all 50+ agents taking turns (cache on, 5 s): the sidebar")
    settings.SIDEBAR_COUNT_CACHE_SECONDS = 5
    cache.clear()
    clients = []
    for user in User.objects.filter(has_seat=True, is_active=True).order_by("pk"):
        client = Client()
        client.force_login(user)
        clients.append(client)
    samples = []
    for i in range(max(n, len(clients) * 4)):
        client = clients[i % len(clients)]
        started = time.perf_counter()
        client.get("/sidebar/counts/")
        samples.append((time.perf_counter() - started) * 1000)
    print(f"  {len(clients)} agents, {len(samples)} requests{'':<14} {summary(samples)}")

    worst = max(slow)
    print(f"\nslowest query (db p95 {worst[0]:.1f} ms): {worst[1]}")
    if args.explain:
        print(worst[2][:2000])
        print(explain(worst[2]))


if __name__ == "__main__":
    main()
