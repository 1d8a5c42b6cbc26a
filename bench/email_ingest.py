"""Inbound email throughput, and nothing lost or doubled when the run is killed.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_emailbench \\
      .venv/bin/svardesk migrate
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_emailbench \\
      .venv/bin/python bench/email_ingest.py [--new 1500] [--replies 500] [--kill-test]

Writes 2,000 .eml files (1,500 new conversations, 500 replies carrying In-Reply-To and
References) into a temporary folder and feeds each through `receive_raw_email` — the call the
SMTP receiver, the IMAP poller and the HTTP endpoint make — with the task queue in immediate
mode, so every message also runs the processing task (parse, thread, record) before the next
one is read. Prints messages/second and checks: tickets == new, messages == new + replies,
every reply in its parent's conversation, every raw message stored once and processed.

With --kill-test the ingest runs in a child process that is killed with SIGKILL halfway; a
second child then feeds every file again (as a restarted IMAP poll or a resending SMTP client
would). The same checks must hold: no message lost, none duplicated.

Only this benchmark's own channel (bench@email-bench.example) and data are touched.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
# The same path as production, minus the queue's round trip: the enqueued processing task
# runs at once, in this process, after the storing transaction commits.
os.environ["SVARDESK_TASKS_IMMEDIATE"] = "1"
os.environ.setdefault("SVARDESK_LOG_LEVEL", "ERROR")

import django

django.setup()

from django.db import connection  # noqa: E402

from svardesk.channels.email.ingest import (  # noqa: E402
    process_pending_inbound,
    receive_raw_email,
)
from svardesk.channels.email.models import EmailChannel, InboundEmail, InboundStatus  # noqa: E402
from svardesk.conversations.models import (  # noqa: E402
    Attachment,
    Channel,
    ChannelKind,
    Conversation,
    Inbox,
    InboxKind,
    Message,
)
from svardesk.crm.models import Contact  # noqa: E402
from svardesk.tickets.models import Ticket  # noqa: E402

ADDRESS = "bench@email-bench.example"
CUSTOMER_DOMAIN = "kund.email-bench.example"

BODY = (
    "Hej!\n\nJag har ett problem med min beställning {n}. Paketet skulle ha kommit i "
    "tisdags men spårningen visar fortfarande att det ligger på terminalen i Göteborg. "
    "Kan ni kontrollera vad som har hänt och återkomma med ett nytt leveransdatum?\n\n"
    "Ordernummer: {n}\nKundnummer: {k}\n\nTack på förhand,\n{name}\n"
)
HTML = (
    '<div dir="ltr"><p>Hej!</p><p>Jag har ett problem med min <b>beställning {n}</b>. '
    "Paketet skulle ha kommit i tisdags men spårningen visar fortfarande att det ligger på "
    "terminalen i Göteborg.</p><p>Ordernummer: {n}<br>Kundnummer: {k}</p>"
    "<p>Tack på förhand,<br>{name}</p></div>"
)
REPLY = (
    "Tack för svaret! Jag väntar på paketet.\n\n/{name}\n\n"
    "On Mon, 3 Mar 2025 at 10:30, Acme Support <{team}> wrote:\n\n"
    "> Hej!\n>\n> Jag har ett problem med min beställning {n}.\n"
)


def _new_mail(n: int) -> bytes:
    name = f"Kund {n} Svensson"
    headers = [
        f"From: {name} <kund{n}@{CUSTOMER_DOMAIN}>",
        f"To: Acme Support <{ADDRESS}>",
        f"Subject: =?utf-8?q?Best=C3=A4llning_{n}_har_inte_kommit?=",
        f"Date: Mon, 3 Mar 2025 09:{n % 60:02d}:00 +0100",
        f"Message-ID: <new-{n}@{CUSTOMER_DOMAIN}>",
        "MIME-Version: 1.0",
    ]
    text = BODY.format(n=n, k=10_000 + n, name=name)
    if n % 3 == 0:  # plain text
        headers += ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return ("\r\n".join(headers) + "\r\n\r\n" + text).encode()
    parts = [
        "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + text,
        "--alt\r\nContent-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n" + HTML.format(n=n, k=10_000 + n, name=name),
    ]
    body = "\r\n".join(parts) + "\r\n--alt--\r\n"
    if n % 10 == 1:  # some carry a small attachment
        headers.append('Content-Type: multipart/mixed; boundary="mix"')
        attachment = (
            "--mix\r\nContent-Type: text/csv; name=order.csv\r\n"
            "Content-Disposition: attachment; filename=order.csv\r\n\r\n"
            + "rad;artikel;antal\r\n"
            * 40
        )
        body = (
            '--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
            + body
            + attachment
            + "\r\n--mix--\r\n"
        )
    else:
        headers.append('Content-Type: multipart/alternative; boundary="alt"')
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def _reply_mail(parent: int) -> bytes:
    name = f"Kund {parent} Svensson"
    parent_id = f"<new-{parent}@{CUSTOMER_DOMAIN}>"
    headers = [
        f"From: {name} <kund{parent}@{CUSTOMER_DOMAIN}>",
        f"To: Acme Support <{ADDRESS}>",
        f"Subject: Re: =?utf-8?q?Best=C3=A4llning_{parent}_har_inte_kommit?=",
        "Date: Mon, 3 Mar 2025 11:00:00 +0100",
        f"Message-ID: <reply-{parent}@{CUSTOMER_DOMAIN}>",
        f"In-Reply-To: {parent_id}",
        f"References: {parent_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    text = REPLY.format(n=parent, name=name, team=ADDRESS)
    return ("\r\n".join(headers) + "\r\n\r\n" + text).encode()


def generate(folder: Path, *, new: int, replies: int) -> list[Path]:
    """The files in delivery order: each reply comes a little after the message it answers."""
    step = max(1, new // max(replies, 1))
    parents = [i * step for i in range(replies)]
    reply_after = {p + min(2, new - 1 - p): p for p in parents}
    paths: list[Path] = []
    sequence = 0
    for n in range(new):
        mails = [(n, _new_mail(n))]
        if n in reply_after:
            mails.append((reply_after[n], _reply_mail(reply_after[n])))
        for conversation, data in mails:
            # The name carries the conversation: a worker takes whole conversations, so a
            # reply is read after the message it answers, as it is in real life.
            path = folder / f"{sequence:05d}-{conversation}.eml"
            path.write_bytes(data)
            paths.append(path)
            sequence += 1
    return paths


def bench_channel() -> EmailChannel:
    existing = EmailChannel.objects.filter(address=ADDRESS).select_related("channel").first()
    if existing is not None:
        return existing
    inbox = Inbox.objects.filter(kind=InboxKind.HELP_DESK).order_by("id").first()
    if inbox is None:
        inbox = Inbox.objects.create(name="Help desk", kind=InboxKind.HELP_DESK)
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name=ADDRESS)
    return EmailChannel.objects.create(channel=channel, address=ADDRESS, display_name="Bench")


def reset(email_channel: EmailChannel) -> None:
    """Remove what earlier runs of this benchmark stored (only its own channel's data)."""
    channel = email_channel.channel
    InboundEmail.objects.filter(channel=email_channel).delete()
    ticket_ids = list(
        Conversation.objects.filter(channel=channel)
        .exclude(ticket=None)
        .values_list("ticket_id", flat=True)
    )
    Attachment.objects.filter(message__channel=channel).delete()
    Message.objects.filter(channel=channel).delete()
    Conversation.objects.filter(channel=channel).delete()
    for start in range(0, len(ticket_ids), 500):
        Ticket.objects.filter(pk__in=ticket_ids[start : start + 500]).delete()
    Contact.objects.filter(email__endswith=f"@{CUSTOMER_DOMAIN}").delete()
    if connection.vendor == "postgresql":
        # Start every run from clean tables, not from the dead rows of the last one.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def ingest_folder(folder: Path, *, worker: int = 0, workers: int = 1) -> int:
    email_channel = bench_channel()
    count = 0
    for path in sorted(folder.glob("*.eml")):
        if int(path.stem.split("-")[1]) % workers != worker:
            continue
        receive_raw_email(channel=email_channel, raw=path.read_bytes(), via="bench")
        count += 1
    if worker == 0:
        # Anything a crash left stored but unprocessed (the restart case).
        process_pending_inbound(limit=100_000)
    return count


def verify(email_channel: EmailChannel, *, new: int, replies: int) -> list[str]:
    channel = email_channel.channel
    problems: list[str] = []
    inbound = InboundEmail.objects.filter(channel=email_channel)
    total = inbound.count()
    if total != new + replies:
        problems.append(f"{total} raw messages stored, expected {new + replies}")
    not_done = inbound.exclude(status=InboundStatus.PROCESSED).count()
    if not_done:
        problems.append(f"{not_done} raw messages not processed")
    messages = Message.objects.filter(channel=channel).count()
    if messages != new + replies:
        problems.append(f"{messages} messages recorded, expected {new + replies}")
    tickets = (
        Conversation.objects.filter(channel=channel)
        .exclude(ticket=None)
        .values("ticket_id")
        .distinct()
        .count()
    )
    if tickets != new:
        problems.append(f"{tickets} tickets, expected {new}")
    conversation_of = dict(
        Message.objects.filter(channel=channel).values_list("message_id", "conversation_id")
    )
    unthreaded = 0
    for message_id, conversation_id in conversation_of.items():
        if message_id.startswith("<reply-"):
            parent = message_id.replace("<reply-", "<new-", 1)
            if conversation_of.get(parent) != conversation_id:
                unthreaded += 1
    if unthreaded:
        problems.append(f"{unthreaded} replies not in their parent's conversation")
    duplicates = len(conversation_of) != messages
    if duplicates:
        problems.append("duplicate Message-IDs recorded")
    return problems


def _children(folder: Path, workers: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(  # noqa: S603 - our own script
            [
                sys.executable,
                __file__,
                "--ingest-only",
                str(folder),
                f"--worker={worker}",
                f"--workers={workers}",
            ],
            env=os.environ.copy(),
        )
        for worker in range(workers)
    ]


def run_workers(folder: Path, workers: int) -> bool:
    """Ingest with `workers` processes side by side (the SMTP receiver and the task queue's
    workers run concurrently too). The pending sweep runs after all of them."""
    ok = all(child.wait() == 0 for child in _children(folder, workers))
    process_pending_inbound(limit=100_000)
    return ok


def kill_test(folder: Path, *, new: int, replies: int, workers: int) -> list[str]:
    email_channel = bench_channel()
    total = new + replies
    children = _children(folder, workers)
    while True:
        stored = InboundEmail.objects.filter(channel=email_channel).count()
        if stored >= total // 2 or any(child.poll() is not None for child in children):
            break
        time.sleep(0.02)
    for child in children:
        child.send_signal(signal.SIGKILL)
    for child in children:
        child.wait()
    stored = InboundEmail.objects.filter(channel=email_channel).count()
    processed = InboundEmail.objects.filter(
        channel=email_channel, status=InboundStatus.PROCESSED
    ).count()
    print(
        f"killed {workers} worker(s) with SIGKILL after {stored} stored, {processed} processed"
        f" ({stored - processed} stored but not processed); restarting"
    )
    if not run_workers(folder, workers):
        return ["the restarted run failed"]
    return verify(email_channel, new=new, replies=replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=int, default=1500)
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--kill-test", action="store_true")
    parser.add_argument(
        "--workers", type=int, default=2, help="ingesting processes side by side (default 2)"
    )
    parser.add_argument("--ingest-only", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.ingest_only:
        ingest_folder(Path(args.ingest_only), worker=args.worker, workers=args.workers)
        return

    email_channel = bench_channel()
    reset(email_channel)
    with tempfile.TemporaryDirectory(prefix="svardesk-email-bench-") as tmp:
        folder = Path(tmp)
        files = generate(folder, new=args.new, replies=args.replies)
        print(
            f"{connection.vendor}: {len(files)} .eml files "
            f"({args.new} new, {args.replies} replies) in {folder}"
        )
        if args.kill_test:
            problems = kill_test(folder, new=args.new, replies=args.replies, workers=args.workers)
        else:
            started = time.perf_counter()
            if args.workers == 1:
                ingest_folder(folder)
            else:
                run_workers(folder, args.workers)
            elapsed = time.perf_counter() - started
            print(
                f"ingested {len(files)} messages with {args.workers} worker(s) in "
                f"{elapsed:.1f} s: {len(files) / elapsed:.0f} messages/second"
            )
            problems = verify(email_channel, new=args.new, replies=args.replies)
    if problems:
        print("FAILED: " + "; ".join(problems))
        raise SystemExit(1)
    print(
        f"OK: {args.new} tickets, {args.new + args.replies} messages, every reply threaded, "
        "nothing lost or duplicated"
    )


if __name__ == "__main__":
    main()
