"""Form submissions per second, end to end: HTTP POST to a real server → stored → ticket.

Usage:
  .venv/bin/python bench/forms.py [--submissions 2000] [--concurrency 16]      # SQLite
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_formbench \\
      .venv/bin/python bench/forms.py [--submissions 2000] [--concurrency 16]

SQLite runs on a fresh data folder in a temporary directory (the embedded default,
synchronous=FULL). PostgreSQL uses DATABASE_URL's database: it is migrated, and the tickets,
contacts, conversations and submissions of earlier runs of this benchmark's form are left
(each run makes its own form and checks only its own rows).

It starts `svardesk serve` (uvicorn, one process, no SMTP receiver) with the per-client
rate limit raised out of the way, and a task consumer (`svardesk run_huey`, `--task-workers`
worker processes, as `svardesk serve` runs the worker), creates a form with `svardesk
connect_form`, reads the page's token with one GET, then `--concurrency` client threads (one
keep-alive connection each) POST `--submissions` valid submissions (Email, Name, Subject,
Description; a tenth of the senders repeat). Each POST stores its submission and answers;
the worker's batch task makes the contacts and tickets. The clock runs from the first POST
until no submission is pending (and, separately, until the last answer). With
`--task-workers 0` each POST processes its submission before answering (no worker). Then it
checks the database: one processed submission and one ticket per POST, none doubled.

Prints submissions/s and the latency of one POST (p50, p95, p99, max).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVARDESK = str(ROOT / ".venv" / "bin" / "svardesk")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SVARDESK_DATA_DIR": str(data_dir),
            "SVARDESK_FORMS_RATE_LIMIT": "100000000",
            "SVARDESK_LOG_LEVEL": "WARNING",
            "SVARDESK_TASKS_QUEUE": "svardesk-forms-bench",
        }
    )
    env.pop("REDIS_URL", None)
    return env


def wait_for(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not start on port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


WAIT = """
import time
from svardesk.channels.forms.models import Form
form = Form.objects.get(public_key="KEY")
while form.submissions.filter(status="pending").exists() or form.submissions.count() < TOTAL:
    time.sleep(0.05)
"""


def wait_processed(key: str, total: int, env: dict[str, str]) -> None:
    """Until no submission of the bench's form is pending (one process, polling every 50 ms)."""
    wait = WAIT.replace("KEY", key).replace("TOTAL", str(total))
    subprocess.run([SVARDESK, "shell", "-c", wait], env=env, check=True, timeout=900)  # noqa: S603


def run(
    submissions: int,
    concurrency: int,
    env: dict[str, str],
    servers: int = 1,
    task_workers: int = 2,
) -> dict[str, object]:
    subprocess.run([SVARDESK, "migrate", "-v0"], env=env, check=True)  # noqa: S603
    made = subprocess.run(  # noqa: S603
        [SVARDESK, "connect_form", f"Bench {time.time():.0f}"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    path = urllib.parse.urlsplit(made.stdout.strip().splitlines()[-1]).path
    key = path.rstrip("/").rsplit("/", 1)[-1]
    ports = [free_port() for _ in range(servers)]
    processes = [
        subprocess.Popen(  # noqa: S603
            [
                SVARDESK,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-migrate",
                "--no-worker",
                "--no-smtp",
            ],
            env=env,
        )
        for port in ports
    ]
    consumer = None
    if task_workers:
        # The worker's batch task makes the tickets (as `svardesk serve` runs it): a consumer
        # with worker processes, polling the queue every 10-50 ms.
        consumer = subprocess.Popen(  # noqa: S603
            [
                SVARDESK, "run_huey", "--quiet", "--no-periodic",
                "--workers", str(task_workers), "--worker-type", "process",
                "--delay", "0.01", "--max-delay", "0.05", "--backoff", "1.1",
            ],
            env=env,
            start_new_session=True,
        )  # fmt: skip
    port = ports[0]
    try:
        for each in ports:
            wait_for(each)
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        probe.request("GET", path)
        page = probe.getresponse().read().decode()
        token = re.search(r'name="form_token" value="([^"]+)"', page)
        if token is None:
            raise SystemExit("no token on the form page")
        latencies: list[float] = []
        failures: list[str] = []
        counter = iter(range(submissions))
        lock = threading.Lock()
        start = threading.Barrier(concurrency + 1)

        def client(port: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            start.wait()
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    break
                body = urllib.parse.urlencode(
                    {
                        "form_token": token.group(1),
                        "email": f"kund{n % max(1, submissions * 9 // 10)}@forms-bench.example",
                        "name": f"Kund {n} Svensson",
                        "subject": f"Beställning {n} har inte kommit",
                        "description": f"Hej! Min beställning {n} skulle ha kommit i tisdags. "
                        "Kan ni kontrollera vad som har hänt?",
                    }
                )
                began = time.perf_counter()
                connection.request(
                    "POST",
                    path,
                    body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                response = connection.getresponse()
                answer = response.read()
                took = time.perf_counter() - began
                with lock:
                    latencies.append(took)
                    if response.status != 200 or b"form-thanks" not in answer:
                        failures.append(f"{response.status} {answer[:200]!r}")
            connection.close()

        threads = [
            threading.Thread(target=client, args=(ports[n % servers],)) for n in range(concurrency)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        server_cpu = sum(cpu_seconds(p.pid) for p in processes)
        for thread in threads:
            thread.join()
        answered = time.perf_counter() - began
        server_cpu = sum(cpu_seconds(p.pid) for p in processes) - server_cpu
        if consumer is not None:
            wait_processed(key, submissions, env)
        elapsed = time.perf_counter() - began
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        if consumer is not None:
            os.killpg(consumer.pid, signal.SIGTERM)
            consumer.wait(timeout=30)
    check = subprocess.run(  # noqa: S603
        [SVARDESK, "shell", "-c", CHECK.replace("KEY", key)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "answered": answered,
        "elapsed": elapsed,
        "server_cpu": server_cpu,
        "latencies": latencies,
        "failures": failures,
        "check": check.stdout.strip().splitlines()[-1],
    }


CHECK = """
from svardesk.channels.forms.models import Form
from svardesk.conversations.models import Message
form = Form.objects.get(public_key="KEY")
subs = form.submissions
tickets = {s.ticket_id for s in subs.all()}
print(subs.count(), subs.filter(status="processed").count(), len(tickets),
      Message.objects.filter(channel=form.channel).count(),
      Message.objects.filter(channel=form.channel, conversation__ticket__source="FORM").count())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--servers", type=int, default=1, help="web processes (svardesk serve), clients spread"
    )
    parser.add_argument(
        "--task-workers",
        type=int,
        default=2,
        help="the task consumer's worker processes; 0: no worker, each POST processes its "
        "submission (SVARDESK_INBOUND_DELAY=0)",
    )
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "")
    data_dir = Path(tempfile.mkdtemp(prefix="svardesk-forms-bench-"))
    try:
        env = server_env(data_dir)
        if not args.task_workers:
            env["SVARDESK_INBOUND_DELAY"] = "0"
        result = run(args.submissions, args.concurrency, env, args.servers, args.task_workers)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    latencies = result["latencies"]
    if not isinstance(latencies, list) or not latencies:
        sys.exit("no answers measured")
    stored, processed, tickets, messages, from_form = (int(x) for x in str(result["check"]).split())
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    kind = "PostgreSQL" if database.startswith("postgres") else "SQLite (synchronous=FULL)"
    with open("/proc/loadavg") as load:
        load_average = load.read().split()[0]
    print(f"Database: {kind}; load average at the end {load_average}")
    answered = float(result["answered"])  # type: ignore[arg-type]
    print(
        f"{args.submissions} submissions, {args.concurrency} clients, {args.servers} web "
        f"process(es), {args.task_workers} task worker(s): all answered in {answered:.2f} s "
        f"({args.submissions / answered:.0f} POSTs/s); all processed (tickets made) in "
        f"{elapsed:.2f} s: {args.submissions / elapsed:.0f} submissions/s end to end"
    )
    ms = {
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies),
        "mean": statistics.mean(latencies),
    }
    server_cpu = float(result["server_cpu"])  # type: ignore[arg-type]
    print(
        f"Web processes' CPU: {server_cpu:.1f} s, {server_cpu / args.submissions * 1000:.2f} ms "
        f"per submission (one core's worth: {args.submissions / server_cpu:.0f}/s)"
    )
    print("POST latency ms: " + "  ".join(f"{k} {v * 1000:.1f}" for k, v in ms.items()))
    print(
        f"Checks: stored {stored}, processed {processed}, tickets {tickets}, "
        f"messages {messages} (source Form: {from_form}), failed answers {len(result['failures'])}"
    )
    ok = (
        stored == processed == tickets == messages == from_form == args.submissions
        and not result["failures"]
    )
    if not ok:
        for failure in list(result["failures"])[:5]:  # type: ignore[call-overload]
            print("  ", failure)
        sys.exit("CHECKS FAILED")
    print("Checks passed: every POST stored once, processed, one ticket each.")


if __name__ == "__main__":
    main()
