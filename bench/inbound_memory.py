"""Peak memory of reading one large inbound message (tracemalloc; the raw bytes themselves,
allocated before, are not counted).

Usage: .venv/bin/python bench/inbound_memory.py [--mb 30]

Builds a message with one base64 attachment of `--mb` random megabytes (30 MB: a 42 MB
message) and reports the peak of `parsing.parse_email` next to the standard library's
reading of the same bytes (`email.message_from_bytes` + `get_payload(decode=True)`, what
parse_email did before it fed the parser in chunks and decoded base64 in one pass).
"""

from __future__ import annotations

import argparse
import email
import os
import sys
import time
import tracemalloc
from email.message import EmailMessage
from email.policy import compat32
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from svardesk.channels.email.parsing import parse_email


def big_message(megabytes: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = "kund@example.com"
    msg["To"] = "support@acme.example"
    msg["Subject"] = "Stor bilaga"
    msg["Message-ID"] = "<big@example.com>"
    msg.set_content("Se bilagan.\n")
    payload = os.urandom(megabytes * 1024 * 1024)
    msg.add_attachment(payload, maintype="application", subtype="octet-stream", filename="a.bin")
    return msg.as_bytes()


def measure(label: str, read) -> None:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.perf_counter()
    result = read()
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    print(f"{label:<44} peak {peak / 1e6:6.0f} MB  held {held / 1e6:5.0f} MB  {seconds:5.1f} s")


def standard_library(raw: bytes) -> list[bytes]:
    msg = email.message_from_bytes(raw, policy=compat32)
    return [p.get_payload(decode=True) for p in msg.walk() if not p.is_multipart()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=30)
    args = parser.parse_args()
    raw = big_message(args.mb)
    print(f"message: {len(raw) / 1e6:.1f} MB ({args.mb} MB attachment, base64)")
    measure("standard library (before)", lambda: standard_library(raw))
    measure("parse_email (now)", lambda: parse_email(raw))


if __name__ == "__main__":
    main()
