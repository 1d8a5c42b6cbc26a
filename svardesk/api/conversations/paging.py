"""Cursors of the conversation lists: opaque to the client, a position in the list's order
to the server (so a page never repeats or skips a row when rows are added meanwhile)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from svardesk.api.errors import validation_error
from svardesk.core.parsing import parse_ascii_int, parse_id

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Cursors name times within the years 1 to 9999 on either side of 1970, no further.
_MAX_MICROS = (dt.datetime(9999, 12, 31, tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(microseconds=1)
_MIN_MICROS = (_EPOCH - dt.datetime(1, 1, 2, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)


def id_cursor(pk: int) -> str:
    """An id-ordered list continues after this id: plain digits, as HubSpot's are."""
    return str(pk)


def parse_id_cursor(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise validation_error(f"Invalid after: {raw!r}")
    return int(raw)


def time_cursor(moment: dt.datetime | None, pk: int) -> str:
    """A list ordered by a timestamp, then id, continues after (moment, pk)."""
    micros = "" if moment is None else str(_micros(moment))
    return base64.urlsafe_b64encode(f"{micros}:{pk}".encode()).decode().rstrip("=")


def parse_time_cursor(raw: str | None) -> tuple[dt.datetime | None, int] | None:
    if raw is None or raw == "":
        return None
    invalid = validation_error(f"Invalid after: {raw!r}")
    try:
        padded = raw + "=" * (-len(raw) % 4)
        micros, _sep, digits = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    pk = parse_id(digits)
    negative = micros.startswith("-")
    number = parse_ascii_int(
        micros.removeprefix("-"), maximum=_MIN_MICROS if negative else _MAX_MICROS
    )
    if pk is None or (micros != "" and number is None):
        raise invalid
    if number is None:
        return None, pk
    return _EPOCH + dt.timedelta(microseconds=-number if negative else number), pk


def page(results: list[Any], after: str | None) -> dict[str, Any]:
    """The list body: `paging.next.after` only when there is a next page."""
    body: dict[str, Any] = {"results": results}
    if after is not None:
        body["paging"] = {"next": {"after": after}}
    return body
