"""`svardesk import_csv` throughput and peak memory.

Usage:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_importbench .venv/bin/svardesk migrate
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/svardesk_importbench \\
      .venv/bin/python bench/import_csv.py [--rows 100000] [--type contacts] [--rerun]
      [--semicolon] [--keep FILE]

Writes a CSV of `--rows` rows into a temporary folder — contacts: email, first and last name,
a Swedish mobile number in national format, a company name, a custom number property
(`bench_score`, created if missing) and an external ID; companies: name, domain, phone, city
— each address and ID unique to this run, so runs never collide. Then runs
`svardesk import_csv` on it as a child process (its progress bar off) and prints the wall
time and rows/second, the command's own CPU time (user + system: what it costs besides
the database, and a figure a busy machine distorts less), the child's peak resident memory
(ru_maxrss), and the command's last line. With `--rerun` the same file is imported a second time and measured too: every
row is then found and unchanged ("0 created, 0 updated, 0 failed").

The target (issue 13): at least 5,000 contact rows a second on PostgreSQL, and memory that
does not grow with the file (1,000,000 rows are never in memory together).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Per", "Sara", "Åsa", "Örjan"]
LAST = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Öberg"]


def write_contacts(path: Path, rows: int, run: str, delimiter: str) -> None:
    rnd = random.Random(13)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(
            ["email", "firstname", "lastname", "phone", "company", "bench_score", "external_id"]
        )
        for n in range(rows):
            writer.writerow(
                [
                    f"p{n}.{run}@import-bench.example",
                    rnd.choice(FIRST),
                    rnd.choice(LAST),
                    f"070-{n // 10000 % 1000:03d} {n // 100 % 100:02d} {n % 100:02d}",
                    f"Företag {n % 5000} AB",
                    str(rnd.randint(0, 1000)),
                    f"{run}-{n}",
                ]
            )


def write_companies(path: Path, rows: int, run: str, delimiter: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(["name", "domain", "phone", "city"])
        for n in range(rows):
            writer.writerow(
                [
                    f"Företag {n} AB",
                    f"f{n}-{run}.example",
                    f"08-{n % 1000:03d} {n % 100:02d} 00",
                    "Umeå",
                ]
            )


def ensure_custom_property() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from svardesk.tickets.models import PropertyDefinition
    from svardesk.tickets.services import create_property_definition

    if not PropertyDefinition.objects.filter(name="bench_score").exists():
        create_property_definition(
            actor=None,
            name="bench_score",
            label="Bench score",
            type="number",
            object_type="contact",
        )


def run_import(kind: str, path: Path) -> tuple[float, float, int, str]:
    """Wall seconds, the child's CPU seconds (user + system), its peak RSS in KiB, and its
    last stdout line."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = usage.ru_maxrss
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own command
        [
            sys.executable,
            "-m",
            "svardesk",
            "import_csv",
            "--type",
            kind,
            str(path),
            "--no-progress",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"import_csv failed ({done.returncode})")
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    # ru_maxrss of children is the largest of any child so far: the first run's is its own.
    return elapsed, cpu, max(peak, before), last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--type", choices=["contacts", "companies"], default="contacts")
    parser.add_argument("--rerun", action="store_true", help="import the same file again")
    parser.add_argument("--semicolon", action="store_true", help="write ; as Swedish Excel")
    parser.add_argument("--keep", help="keep the generated CSV at this path")
    args = parser.parse_args()

    os.environ.setdefault("SVARDESK_LOG_LEVEL", "ERROR")
    if args.type == "contacts":
        ensure_custom_property()
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="import-bench-") as folder:
        path = Path(args.keep) if args.keep else Path(folder) / f"{args.type}.csv"
        started = time.perf_counter()
        writer = write_contacts if args.type == "contacts" else write_companies
        writer(path, args.rows, run, ";" if args.semicolon else ",")
        size = path.stat().st_size
        print(
            f"wrote {args.rows:,} {args.type} rows ({size / 1e6:.1f} MB) "
            f"in {time.perf_counter() - started:.1f} s"
        )
        passes = ["first import", "re-run"] if args.rerun else ["first import"]
        for name in passes:
            elapsed, cpu, peak_kib, last = run_import(args.type, path)
            print(
                f"{name}: {elapsed:.1f} s, {args.rows / elapsed:,.0f} rows/s "
                f"(command's own CPU {cpu:.1f} s: {args.rows / cpu:,.0f} rows per CPU second), "
                f"peak RSS {peak_kib / 1024:.0f} MiB — {last}"
            )


if __name__ == "__main__":
    main()
