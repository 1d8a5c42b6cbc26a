"""The SLA status badges of the ticket list: the rows renderer (rendering.ticket_rows) with
three SLA status columns on a 50-row page, the badge cells (sla.properties) against the plain
text cells they replaced. In memory: no database, no template engine.

Usage:  .venv/bin/python bench/sla_badges.py [--pages 1000] [--repeat 5]

Each repeat prints ms per page, before and after, with the load average (shared machine).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "svardesk.config.settings")

import django

django.setup()

from svardesk.sla import properties  # noqa: E402
from svardesk.ticket_views.rendering import ticket_rows  # noqa: E402
from svardesk.tickets.models import SlaStatus, Ticket  # noqa: E402

KEYS = ["name", "sla_first_response_status", "sla_next_response_status", "sla_close_status"]


def plain_cell(name):  # type: ignore[no-untyped-def]
    """The cell before badges: the status's label as text."""

    def cell(ticket):  # type: ignore[no-untyped-def]
        value = getattr(ticket, name)
        return str(SlaStatus(value).label) if value else ""

    return cell


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    statuses = list(SlaStatus)
    tickets = [
        Ticket(
            pk=i + 1,
            name=f"Ticket {i}",
            preview="Hej",
            source="email",
            version=1,
            sla_first_response_status=statuses[i % 5].value,
            sla_next_response_status=statuses[(i + 1) % 5].value,
            sla_close_status=statuses[(i + 2) % 5].value,
        )
        for i in range(50)
    ]
    variants = {
        "before (plain text)": {key: plain_cell(key) for key in KEYS[1:]},
        "after (badges)": {key: properties._status_cell(key) for key in KEYS[1:]},
    }
    for _ in range(args.repeat):
        for label, cells in variants.items():
            started = time.perf_counter()
            for _page in range(args.pages):
                ticket_rows(tickets, KEYS, cell_text=lambda t, k, c=cells: c[k](t))
            ms = (time.perf_counter() - started) / args.pages * 1000
            print(f"{label}: {ms:.2f} ms per 50-row page; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
