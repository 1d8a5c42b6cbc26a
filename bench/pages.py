"""Server-side request times of the workspace's main pages on the configured database.

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench \\
        .venv/bin/python bench/pages.py [--requests 50] [--users agent@svardesk.example,...]
            [--only ticket] [--ticket ID]

`--only ticket` times just the ticket page (of `--ticket`, else the user's most recently
active ticket) and prints how many SQL statements one request issues.

Runs requests through Django's full stack (middleware, views, templates) in-process, warm,
and prints p50/p95/p99 per page. Sidebar counts are measured uncached (the worst case) and
cached. Needs demo data (`svardesk demo`).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
os.environ.setdefault("SVARDESK_ALLOWED_HOSTS", "testserver")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from svardesk.accounts.models import User  # noqa: E402
from svardesk.ticket_views.defaults import DEFAULT_VIEWS  # noqa: E402
from svardesk.ticket_views.queries import count_default_views, list_tickets  # noqa: E402
from svardesk.tickets.queries import visible_tickets  # noqa: E402


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return (
        f"p50 {pick(0.50):7.1f} ms  p95 {pick(0.95):7.1f} ms  p99 {pick(0.99):7.1f} ms"
        f"  (n={len(samples)}, mean {statistics.fmean(samples):.1f})"
    )


def timed(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument(
        "--users",
        default="agent@svardesk.example,admin@svardesk.example,restricted@svardesk.example",
    )
    parser.add_argument("--only", default="", help="'ticket': only the ticket page")
    parser.add_argument("--ticket", type=int, default=0, help="the ticket page's ticket id")
    args = parser.parse_args()
    n = args.requests
    vendor = connection.vendor
    from svardesk.tickets.models import Ticket

    print(f"database: {vendor}, tickets: {Ticket.objects.count():,}, requests per page: {n}")
    for email in args.users.split(","):
        user = User.objects.get(email=email)
        client = Client()
        client.force_login(user)
        settings.SIDEBAR_COUNT_CACHE_SECONDS = 0
        print(
            f"\n== {email} (access: {'super admin' if user.is_superuser else user.ticket_access})"
        )
        if args.only == "ticket":
            ticket_page(client, user, args.ticket, n)
            continue
        counts = count_default_views(user).counts
        print("   counts: " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
        print(
            f"   sidebar counts, uncached   {percentiles(timed(lambda u=user: count_default_views(u), n))}"
        )
        for view in DEFAULT_VIEWS:
            url = f"/views/{view.key}/"
            samples = timed(lambda url=url, c=client: c.get(url), n)
            print(f"   {url:<32} {percentiles(samples)}  (page incl. uncached sidebar)")
        settings.SIDEBAR_COUNT_CACHE_SECONDS = 5
        cache.clear()
        samples = timed(lambda c=client: c.get("/views/all-open/"), n)
        print(f"   {'/views/all-open/ (cached counts)':<32} {percentiles(samples)}")
        first = list_tickets(user)
        if first.next_cursor:
            url = f"/tickets/?after={first.next_cursor}"
            print(
                f"   {'/tickets/?after=… (page 2)':<32} {percentiles(timed(lambda url=url, c=client: c.get(url), n))}"
            )
        ticket = visible_tickets(user).order_by("-last_activity_at").first()
        if ticket:
            url = f"/tickets/{ticket.pk}/"
            print(
                f"   {'/tickets/<id>/':<32} {percentiles(timed(lambda url=url, c=client: c.get(url), n))}"
            )


def ticket_page(client: Client, user: User, ticket_id: int, n: int) -> None:
    from django.test.utils import CaptureQueriesContext

    ticket_id = (
        ticket_id
        or visible_tickets(user).order_by("-last_activity_at").values_list("pk", flat=True).first()
    )
    url = f"/tickets/{ticket_id}/"
    client.get(url)
    client.get(url)  # the per-process caches filled
    with CaptureQueriesContext(connection) as run:
        client.get(url)
    print(f"   {url}: {len(run.captured_queries)} SQL statements, load {os.getloadavg()}")
    for query in run.captured_queries:
        print(f"      {query['sql'][:100]}")
    print(f"   {url:<32} {percentiles(timed(lambda: client.get(url), n))}")
    # On a machine others load too, this process's CPU time per request says more than the
    # wall clock: it leaves out waiting for a core (and PostgreSQL's own work).
    cpu = []
    for _ in range(n):
        started = time.process_time()
        client.get(url)
        cpu.append((time.process_time() - started) * 1000)
    print(f"   {'  CPU time in this process':<32} {percentiles(cpu)}")
    print(f"   load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
