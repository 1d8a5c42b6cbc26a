"""Inbound email throughput, and nothing lost or doubled when the run is killed.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_emailbench \\
      .venv/bin/svardesk migrate
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_emailbench \\
      .venv/bin/python bench/email_ingest.py [--new 1500] [--replies 500] [--kill-test]
      [--receivers 1] [--task-workers 2] [--immediate [--workers 2]]

Writes 2,000 .eml files (1,500 new conversations, 500 replies carrying In-Reply-To and
References) into a temporary folder and delivers each through `receive_raw_email` — the call
the SMTP receiver, the IMAP poller and the HTTP endpoint make: it stores the raw message and
enqueues its processing task.

By default the run is what production does: `--receivers` processes deliver the files (as
SMTP clients would, one message per transaction) into the real task queue (Huey, on a SQLite
file in a temporary folder, or Redis when REDIS_URL is set), and a Huey consumer
(`svardesk run_huey`, `--task-workers` worker processes) processes them, taking the
messages that wait together (`ingest.process_inbound_batch`). The clock runs from the first
delivery until every message is processed. With `--immediate` each receiving process runs
the processing task itself right after storing (no queue; the old mode of this benchmark).

It prints messages/second and checks: tickets == new, messages == new + replies, every
reply in its parent's conversation, every raw message stored once and processed.

With --kill-test the receivers and the consumer are killed with SIGKILL halfway; then a
new consumer starts and every file is delivered again (as a restarted IMAP poll or a
resending SMTP client would). The same checks must hold: no message lost, none duplicated.

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
# --immediate: the enqueued processing task runs at once, in this process, after the
# storing transaction commits. Otherwise tasks go to the queue (see `queue_environment`).
if "--immediate" in sys.argv:
    os.environ["SVARDESK_TASKS_IMMEDIATE"] = "1"
else:
    os.environ.pop("SVARDESK_TASKS_IMMEDIATE", None)
os.environ.setdefault("SVARDESK_LOG_LEVEL", "ERROR")
# Its own task queue, emptied before and after a run (no other task is touched).
os.environ["SVARDESK_TASKS_QUEUE"] = "svardesk-email-bench"

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


def ingest_folder(folder: Path, *, worker: int = 0, workers: int = 1, immediate: bool) -> int:
    email_channel = bench_channel()
    count = 0
    for path in sorted(folder.glob("*.eml")):
        if int(path.stem.split("-")[1]) % workers != worker:
            continue
        receive_raw_email(channel=email_channel, raw=path.read_bytes(), via="bench")
        count += 1
    if immediate and worker == 0:
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


def _children(folder: Path, workers: int, *, immediate: bool) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(  # noqa: S603 - our own script
            [
                sys.executable,
                __file__,
                "--ingest-only",
                str(folder),
                f"--worker={worker}",
                f"--workers={workers}",
                *(["--immediate"] if immediate else []),
            ],
            env=os.environ.copy(),
        )
        for worker in range(workers)
    ]


def start_consumer(task_workers: int, *, periodic: bool = False) -> subprocess.Popen[bytes]:
    """`svardesk run_huey` with worker processes, polling the queue every 10-50 ms (the
    default backs off to seconds when idle), and waits until it answers a ping. Without
    `periodic` its scheduled tasks (the sweeps, IMAP polling) stay off, so they cost the
    timed run nothing."""
    from svardesk.core.tasks import ping

    consumer = subprocess.Popen(  # noqa: S603 - our own command
        [
            sys.executable, "-m", "svardesk", "run_huey", "--quiet",
            *([] if periodic else ["--no-periodic"]),
            "--workers", str(task_workers), "--worker-type", "process",
            "--delay", "0.01", "--max-delay", "0.05", "--backoff", "1.1",
        ],
        env=os.environ.copy(),
        start_new_session=True,  # its worker processes share its process group
    )  # fmt: skip
    token = f"bench-{os.getpid()}-{time.time()}"
    if ping(token).get(blocking=True, timeout=120) != token:
        raise SystemExit("the task consumer did not answer")
    return consumer


def stop_consumer(consumer: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if consumer.poll() is None:
        os.killpg(consumer.pid, signal.SIGKILL if kill else signal.SIGINT)
    consumer.wait(timeout=60)
    flush_queue()


def flush_queue() -> None:
    """Tasks left in the benchmark's queue (those of messages an earlier batch took)."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()


def wait_until_processed(email_channel: EmailChannel, total: int, timeout: float = 900) -> None:
    """Until every delivered message has left "received" (processed, duplicate, spam, ...)."""
    waiting = InboundEmail.objects.filter(channel=email_channel)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if waiting.count() >= total and not waiting.filter(status=InboundStatus.RECEIVED).exists():
            return
        time.sleep(0.05)
    raise SystemExit("timed out waiting for the messages to be processed")


def run(
    folder: Path,
    *,
    receivers: int,
    task_workers: int,
    immediate: bool,
    total: int,
    periodic: bool = False,
) -> tuple[bool, float]:
    """Deliver every file; with the queue, also wait until the consumer processed them.
    Returns whether every receiver succeeded and the seconds from the first delivery on."""
    if immediate:
        started = time.perf_counter()
        ok = all(c.wait() == 0 for c in _children(folder, receivers, immediate=True))
        process_pending_inbound(limit=100_000)
        return ok, time.perf_counter() - started
    consumer = start_consumer(task_workers, periodic=periodic)
    try:
        started = time.perf_counter()
        ok = all(c.wait() == 0 for c in _children(folder, receivers, immediate=False))
        delivered = time.perf_counter() - started
        wait_until_processed(bench_channel(), total)
        elapsed = time.perf_counter() - started
        print(f"delivered in {delivered:.1f} s, all processed after {elapsed:.1f} s")
    finally:
        stop_consumer(consumer)
    return ok, elapsed


def kill_test(
    folder: Path, *, new: int, replies: int, receivers: int, task_workers: int, immediate: bool
) -> list[str]:
    email_channel = bench_channel()
    total = new + replies
    consumer = None if immediate else start_consumer(task_workers)
    children = _children(folder, receivers, immediate=immediate)
    inbound = InboundEmail.objects.filter(channel=email_channel)
    while True:
        # Halfway through delivering, or (with the queue) a quarter processed: batches are
        # being recorded when the kill comes.
        stored = inbound.count()
        if immediate:
            halfway = stored >= total // 2
        else:
            halfway = inbound.exclude(status=InboundStatus.RECEIVED).count() >= total // 4
        if halfway or any(child.poll() is not None for child in children):
            break
        time.sleep(0.02)
    for child in children:
        child.send_signal(signal.SIGKILL)
    if consumer is not None:
        stop_consumer(consumer, kill=True)
    for child in children:
        child.wait()
    stored = InboundEmail.objects.filter(channel=email_channel).count()
    processed = InboundEmail.objects.filter(
        channel=email_channel, status=InboundStatus.PROCESSED
    ).count()
    print(
        f"killed the receivers{'' if immediate else ' and the task consumer'} with SIGKILL "
        f"after {stored} stored, {processed} processed ({stored - processed} stored but not "
        "processed); restarting and delivering every file again"
    )
    if not immediate:
        # Rows a killed batch had claimed are not claimed again by the next batches (a
        # message that killed its worker must not kill the next one): the periodic sweep
        # takes them once the claim lease (ingest.CLAIM_LEASE, 2 min) has passed, as in
        # production — so the restarted consumer runs its periodic tasks.
        print("the restarted consumer runs the periodic sweep (claims older than 2 min)")
    ok, _elapsed = run(
        folder,
        receivers=receivers,
        task_workers=task_workers,
        immediate=immediate,
        total=total,
        periodic=not immediate,
    )
    if not ok:
        return ["the restarted run failed"]
    return verify(email_channel, new=new, replies=replies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--new", type=int, default=1500)
    parser.add_argument("--replies", type=int, default=500)
    parser.add_argument("--kill-test", action="store_true")
    parser.add_argument(
        "--receivers", type=int, default=1, help="delivering processes side by side (default 1)"
    )
    parser.add_argument(
        "--task-workers", type=int, default=2, help="the consumer's worker processes (default 2)"
    )
    parser.add_argument(
        "--immediate",
        action="store_true",
        help="no queue: each receiving process processes what it stored at once",
    )
    parser.add_argument(
        "--workers", type=int, help="with --immediate: receiving processes (default 2)"
    )
    parser.add_argument("--ingest-only", metavar="FOLDER", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.ingest_only:
        ingest_folder(
            Path(args.ingest_only),
            worker=args.worker,
            workers=args.workers or 1,
            immediate=args.immediate,
        )
        return

    receivers = args.workers or 2 if args.immediate else args.receivers
    email_channel = bench_channel()
    reset(email_channel)
    flush_queue()
    total = args.new + args.replies
    with tempfile.TemporaryDirectory(prefix="svardesk-email-bench-") as tmp:
        folder = Path(tmp)
        files = generate(folder, new=args.new, replies=args.replies)
        mode = (
            f"--immediate, {receivers} process(es) receiving and processing"
            if args.immediate
            else f"{receivers} receiver(s), task consumer with {args.task_workers} worker(s)"
        )
        print(
            f"{connection.vendor}: {len(files)} .eml files "
            f"({args.new} new, {args.replies} replies); {mode}"
        )
        if args.kill_test:
            problems = kill_test(
                folder,
                new=args.new,
                replies=args.replies,
                receivers=receivers,
                task_workers=args.task_workers,
                immediate=args.immediate,
            )
        else:
            _ok, elapsed = run(
                folder,
                receivers=receivers,
                task_workers=args.task_workers,
                immediate=args.immediate,
                total=total,
            )
            print(
                f"ingested {len(files)} messages in {elapsed:.1f} s: "
                f"{len(files) / elapsed:.0f} messages/second"
            )
            problems = verify(email_channel, new=args.new, replies=args.replies)
    if problems:
        print("FAILED: " + "; ".join(problems))
        raise SystemExit(1)
    print(
        f"OK: {args.new} tickets, {total} messages, every reply threaded, "
        "nothing lost or duplicated"
    )


if __name__ == "__main__":
    main()
