"""The CRM at scale (issue 13): record pickers, the contact list, a contact's record page with
200 tickets, and `svardesk import_csv` throughput.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench1m \\
      .venv/bin/svardesk demo --tickets 1000000 --contacts 1000000 --companies 200000
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench1m \\
      .venv/bin/python bench/crm.py [--queries 300] [--requests 60] [--only picker,list,record]
          [--user admin@svardesk.example] [--import-rows 100000 --import-db URL]

In-process and warm, like bench/pages.py: the pickers call `search.records.pick` (what the
picker views call; the numbers leave out only the HTTP framing), the pages go through Django's
full stack with the test client. Prints p50/p95/p99 and the targets.

- picker: `--queries` different queries drawn from the data, in kinds: name prefixes (2-5
  letters of first names, full "first last", last-name starts), full emails, an email's
  local part, phone numbers in national format ("070-123 45 67") and E.164, company name
  starts, domains, accent-free spellings of accented names ("strom", "asa") and deal words;
  each kind against the picker it belongs to (contacts; companies; deals).
- list: `/contacts/` (default view, first page), for `--user`.
- record: `/contacts/<id>/` of a contact with 200 tickets: the contact with the most tickets;
  when it has fewer, tickets of other contacts are moved to it (through
  associations.set_ticket_contact, as a ticket's contact change does) — so this writes to
  the database.
- import: `bench/import_csv.py --rows N` against `--import-db` (a separate, migrated
  database: the import adds rows), run as a child process; prints its lines.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
os.environ.setdefault("SVARDESK_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

import phonenumbers  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from svardesk.accounts.models import User  # noqa: E402
from svardesk.crm import associations  # noqa: E402
from svardesk.crm.models import Company, Contact, ContactEmail, ContactPhone, Deal  # noqa: E402
from svardesk.search.normalise import fold  # noqa: E402
from svardesk.search.records import pick  # noqa: E402
from svardesk.tickets.models import Ticket  # noqa: E402

RECORD_TICKETS = 200
TARGETS = {"picker": 50.0, "list": 50.0, "record": 60.0}


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]

    return at(0.5), at(0.95), at(0.99)


def line(label: str, samples: list[float], target: float | None = None) -> str:
    p50, p95, p99 = percentiles(samples)
    verdict = ""
    if target is not None:
        verdict = f"  target p95 <= {target:.0f} ms: {'met' if p95 <= target else 'NOT met'}"
    return (
        f"{label:<28} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  "
        f"(n={len(samples)}, mean {statistics.fmean(samples):.1f}){verdict}"
    )


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# --- Pickers ----------------------------------------------------------------------------------


def _sample(model: Any, n: int, rng: random.Random, **filters: Any) -> list[Any]:
    """`n` rows spread over the table, by id (no ORDER BY random() over a million rows)."""
    ids = model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True)
    last = ids.last() or 0
    first = ids.first() or 0
    picked: list[Any] = []
    tries = 0
    while len(picked) < n and tries < n * 20 and last:
        tries += 1
        row = model.objects.filter(pk__gte=rng.randint(first, last), **filters).order_by("pk")
        found = row.first()
        if found is not None:
            picked.append(found)
    return picked


def picker_queries(per_kind: int, seed: int) -> list[tuple[str, str, str]]:
    """(kind, record type, query) drawn from the data."""
    rng = random.Random(seed)
    queries: list[tuple[str, str, str]] = []
    contacts = _sample(Contact, per_kind, rng, merged_into__isnull=True)
    for contact in contacts:
        first, last = contact.first_name, contact.last_name
        queries.append(("name prefix", "contact", first[: rng.randint(2, 5)]))
        queries.append(("first last", "contact", f"{first} {last[: rng.randint(1, 4)]}"))
        queries.append(("last name start", "contact", last[: rng.randint(3, 6)]))
        if fold(first) != first.lower() or fold(last) != last.lower():
            queries.append(("accents left out", "contact", fold(f"{first} {last}")))
    for email in _sample(ContactEmail, per_kind, rng):
        queries.append(("email", "contact", email.email))
        queries.append(("email local part", "contact", email.email.split("@")[0][:6]))
    for phone in _sample(ContactPhone, per_kind, rng):
        number = phonenumbers.parse(phone.number)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        queries.append(("phone national", "contact", national))
        queries.append(("phone E.164", "contact", phone.number))
    for company in _sample(Company, per_kind, rng, merged_into__isnull=True):
        queries.append(("company name start", "company", company.name[: rng.randint(3, 8)]))
        queries.append(("company domain", "company", company.domain))
        queries.append(("contact by company", "contact", company.name.split()[0]))
    queries.extend(
        ("deal word", "deal", deal.name.split()[0][:5])
        for deal in _sample(Deal, max(1, per_kind // 2), rng)
    )
    queries.extend(
        ("accents / short", "contact", text)
        for text in ("åsa", "asa", "strom", "Ström", "oberg", "jorgen", "sodra", "an", "s")
    )
    return queries


def bench_picker(user: User, per_kind: int, seed: int) -> None:
    queries = picker_queries(per_kind, seed)
    for _kind, object_type, query in queries[:20]:  # warm
        pick(object_type, query, user=user)
    by_kind: dict[str, list[float]] = {}
    every: list[float] = []
    empty = 0
    for kind, object_type, query in queries:
        started = time.perf_counter()
        found = pick(object_type, query, user=user)
        elapsed = (time.perf_counter() - started) * 1000
        empty += not found
        by_kind.setdefault(kind, []).append(elapsed)
        every.append(elapsed)
    print(f"picker ({user.email}, {len(queries)} queries, {empty} found nothing):")
    for kind, samples in by_kind.items():
        print("  " + line(kind, samples))
    print("  " + line("all", every, TARGETS["picker"]))
    slowest = sorted(zip(every, queries, strict=True), key=lambda item: -item[0])[:5]
    print("  slowest: " + "; ".join(f"{q[1]} {q[2]!r} {ms:.0f} ms" for ms, q in slowest))


# --- Pages ------------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], n: int) -> list[float]:
    fn()
    fn()  # warm
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = fn()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(
                f"answered {response.status_code}, not 200: the numbers would be wrong"
            )
    return samples


def contact_with_tickets(count: int) -> int:
    """A contact with exactly `count` tickets: the one with the most, topped up with other
    contacts' tickets when it has fewer."""
    top = (
        Ticket.objects.filter(contact__isnull=False)
        .values("contact_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if top is None:
        raise SystemExit("no tickets with contacts: load the demo first")
    contact_id, have = top["contact_id"], top["n"]
    if have < count:
        moved = list(
            Ticket.objects.exclude(contact_id=contact_id)
            .filter(contact__isnull=False)
            .order_by("-pk")
            .values_list("pk", flat=True)[: count - have]
        )
        with transaction.atomic():
            for ticket_id in moved:
                Ticket.objects.filter(pk=ticket_id).update(contact_id=contact_id)
                associations.set_ticket_contact(ticket_id, contact_id)
        print(f"record: moved {len(moved)} tickets to contact {contact_id} (had {have})")
    return contact_id


def bench_pages(user: User, requests: int, only: set[str]) -> None:
    client = Client()
    client.force_login(user)
    if "list" in only:
        samples = timed(lambda: client.get("/contacts/"), requests)
        print(line("contact list /contacts/", samples, TARGETS["list"]))
        samples = timed(lambda: client.get("/companies/"), requests)
        print(line("company list /companies/", samples))
    if "record" in only:
        contact_id = contact_with_tickets(RECORD_TICKETS)
        tickets = Ticket.objects.filter(contact_id=contact_id).count()
        url = f"/contacts/{contact_id}/"
        samples = timed(lambda: client.get(url), requests)
        print(line(f"record {url} ({tickets} t.)", samples, TARGETS["record"]))
        counter = _Counter()
        with connection.execute_wrapper(counter):
            client.get(url)
        print(f"  {url}: {counter.count} SQL statements")


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


# --- Import -----------------------------------------------------------------------------------


def bench_import(rows: int, database_url: str) -> None:
    script = ROOT / "bench/import_csv.py"
    if not script.exists():
        print("import: bench/import_csv.py is missing; skipped")
        return
    env = {**os.environ, "DATABASE_URL": database_url}
    print(f"import: {rows:,} contact rows into {database_url.rsplit('/', 1)[-1]}", flush=True)
    subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(script), "--rows", str(rows), "--type", "contacts"],
        env=env,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=40, help="contacts etc. sampled per kind")
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--only", default="picker,list,record")
    parser.add_argument("--user", default="admin@svardesk.example")
    parser.add_argument("--restricted", default="restricted@svardesk.example")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--import-rows", type=int, default=0)
    parser.add_argument("--import-db", default="")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
        f"{Contact.objects.count():,} contacts, {Company.objects.count():,} companies, "
        f"{Deal.objects.count():,} deals, {Ticket.objects.count():,} tickets; load {load()}"
    )
    user = User.objects.get(email=args.user)
    if "picker" in only:
        bench_picker(user, args.queries, args.seed)
        restricted = User.objects.filter(email=args.restricted).first()
        if restricted is not None:
            bench_picker(restricted, max(5, args.queries // 4), args.seed + 1)
    bench_pages(user, args.requests, only)
    if args.import_rows:
        if not args.import_db:
            raise SystemExit("--import-rows needs --import-db (a separate, migrated database)")
        bench_import(args.import_rows, args.import_db)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
