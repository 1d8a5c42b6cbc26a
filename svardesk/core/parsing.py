"""Numbers and ids from a URL or a form: ASCII digits only.

Python's `int()` and `str.isdigit()` also take other scripts' digits and superscripts
(`int("٣") == 3`, `"²".isdigit()`, yet `int("²")` raises), so every id, count or number a
request carries goes through here instead; anything else is "not a number" (None), which the
caller turns into a 400 or a field error."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.dateparse import parse_datetime

# The largest id either database stores (a signed 64-bit integer).
MAX_ID = 2**63 - 1

_ASCII_DIGITS = re.compile(r"[0-9]+")


def is_ascii_digits(text: object) -> bool:
    return isinstance(text, str) and _ASCII_DIGITS.fullmatch(text) is not None


def parse_ascii_int(text: object, *, maximum: int = MAX_ID) -> int | None:
    """`text` as a whole number 0..maximum when it is ASCII digits only; else None."""
    if not is_ascii_digits(text):
        return None
    digits = str(text).lstrip("0") or "0"
    if len(digits) > len(str(maximum)):  # before int(): huge inputs never reach it
        return None
    number = int(digits)
    return number if number <= maximum else None


def parse_id(value: object) -> int | None:
    """A database id (1..MAX_ID): ASCII digits, or an int (as JSON decodes one); else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        number: int | None = value
    else:
        number = parse_ascii_int(value)
    return number if number is not None and 0 < number <= MAX_ID else None


def parse_aware_datetime(text: object) -> dt.datetime | None:
    """An ISO 8601 date and time with its offset, in UTC (as the database compares it); None
    for anything else: not ASCII (Django's parser reads any script's digits), impossible
    ("2024-02-30"), without an offset, or before year 1 once in UTC."""
    if not isinstance(text, str) or not text.isascii():
        return None
    try:
        moment = parse_datetime(text)
        return moment.astimezone(dt.UTC) if moment and timezone.is_aware(moment) else None
    except (ValueError, OverflowError):
        return None
