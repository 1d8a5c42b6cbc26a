"""Migrating an inbox of 100,000 conversations into the help desk: conversations/s and peak
memory of `svardesk migrate_inbox`.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_bench_migration \\
      .venv/bin/python bench/inbox_migration.py [--conversations 100000] [--batch-size 500]
  DATABASE_URL= .venv/bin/python bench/inbox_migration.py          # SQLite in a temporary folder

PostgreSQL: the database in DATABASE_URL is created when missing (dropped and created again
with `--fresh`) and migrated. SQLite: a fresh data folder, removed at the end. A new
conversations inbox is built with bulk inserts — `--conversations` email conversations of one
customer message each (one contact per ten), a tenth of them answered by the team (their tickets
go to the closed stage), a twentieth with a ticket already — then `svardesk migrate_inbox` moves
it as a child process (progress bar off). Printed: build time, the migration's wall time and
conversations/second, the child's own CPU time, its peak resident memory (ru_maxrss from
wait4, the child alone), and the command's summary line; then the counts are checked.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
SVARDESK = [sys.executable, "-m", "svardesk"]
INSERT_BATCH = 5_000


def ensure_postgres_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def migrate_schema() -> None:
    subprocess.run([*SVARDESK, "migrate", "-v0"], cwd=ROOT, check=True)  # noqa: S603


def build_inbox(conversations: int) -> tuple[int, str]:
    """A conversations inbox with an email channel and its conversations, in bulk."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.db import transaction

    from svardesk.conversations.models import (
        Channel,
        ChannelKind,
        Conversation,
        Inbox,
        InboxKind,
        Message,
        MessageDirection,
    )
    from svardesk.crm.models import Contact
    from svardesk.tickets.models import Ticket
    from svardesk.tickets.services import ensure_default_pipeline

    ensure_default_pipeline()
    run = uuid.uuid4().hex[:8]
    inbox = Inbox.objects.create(name=f"Bench {run}", kind=InboxKind.CONVERSATIONS)
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name=f"{run}@bench")
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    pipeline = ensure_default_pipeline()
    first_stage = pipeline.stages.order_by("display_order", "id").first()
    for start in range(0, conversations, INSERT_BATCH):
        numbers = range(start, min(start + INSERT_BATCH, conversations))
        with transaction.atomic():
            contacts = Contact.objects.bulk_create(
                Contact(first_name="Kund", last_name=str(n), email=f"k{n}.{run}@bench.example")
                for n in numbers
                if n % 10 == 0
            )
            had = [n for n in numbers if n % 20 == 1]
            made = Ticket.objects.bulk_create(
                Ticket(
                    name=f"Had {n}",
                    pipeline=pipeline,
                    stage=first_stage,
                    last_activity_at=t0,
                    source="EMAIL",
                )
                for n in had
            )
            tickets = dict(zip(had, made, strict=True))
            convs = Conversation.objects.bulk_create(
                Conversation(
                    channel=channel,
                    inbox=inbox,
                    contact=contacts[(n - start) // 10],
                    subject=f"Fråga {n}" if n % 3 else "",
                    ticket=tickets.get(n),
                    last_message_at=t0 + dt.timedelta(minutes=n),
                )
                for n in numbers
            )
            Message.objects.bulk_create(
                Message(
                    conversation=c,
                    channel=channel,
                    direction=MessageDirection.INBOUND if n % 10 else MessageDirection.OUTBOUND,
                    sender_address=f"k{n}.{run}@bench.example",
                    body_text=f"Hej! Fakturan nummer {n} stämmer inte, kan ni titta på den?",
                    created_at=t0 + dt.timedelta(minutes=n),
                )
                for n, c in zip(numbers, convs, strict=True)
            )
    without = conversations - len(range(1, conversations, 20))
    return inbox.pk, f"{conversations} conversations moved, {without} tickets created"


def run_migration(inbox_id: int, batch_size: int) -> tuple[float, float, int, str]:
    """Wall seconds, the child's CPU seconds, its peak RSS in KiB and its summary line."""
    started = time.perf_counter()
    child = subprocess.Popen(  # noqa: S603 - our own command
        [
            *SVARDESK,
            "migrate_inbox",
            str(inbox_id),
            "--no-progress",
            "--batch-size",
            str(batch_size),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait4 gives this child's own usage (RUSAGE_CHILDREN would include `migrate`). The pipes
    # carry a line or two, so waiting before reading them cannot block the child.
    _pid, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    out, err = child.stdout.read(), child.stderr.read()  # type: ignore[union-attr]
    if child.returncode != 0:
        sys.stderr.write(err)
        raise SystemExit(f"migrate_inbox failed ({child.returncode})")
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--fresh", action="store_true", help="drop the PostgreSQL database first")
    args = parser.parse_args()

    os.environ.setdefault("SVARDESK_LOG_LEVEL", "ERROR")
    url = os.environ.get("DATABASE_URL", "")
    folder = None
    if url.startswith("postgres"):
        ensure_postgres_database(url, fresh=args.fresh)
        database = f"PostgreSQL ({urlsplit(url).path.lstrip('/')})"
    else:
        folder = tempfile.mkdtemp(prefix="migration-bench-")
        os.environ["SVARDESK_DATA_DIR"] = folder
        os.environ["DATABASE_URL"] = ""
        database = "SQLite (synchronous=FULL, WAL)"
    try:
        migrate_schema()
        started = time.perf_counter()
        inbox_id, expected = build_inbox(args.conversations)
        print(
            f"{database}: built {args.conversations:,} conversations "
            f"in {time.perf_counter() - started:.1f} s"
        )
        elapsed, cpu, peak_kib, last = run_migration(inbox_id, args.batch_size)
        print(
            f"migrate_inbox (batches of {args.batch_size}): {elapsed:.1f} s, "
            f"{args.conversations / elapsed:,.0f} conversations/s "
            f"(command's own CPU {cpu:.1f} s), peak RSS {peak_kib / 1024:.0f} MiB — {last}"
        )
        if last != expected:
            raise SystemExit(f"expected {expected!r}")
    finally:
        if folder:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
