"""Reading a CSV file as a stream of rows: UTF-8 with or without a byte-order mark, the
delimiter sniffed from the first lines (a comma, or the semicolon Swedish Excel writes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from django.utils.translation import gettext as _

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024
# A field larger than this is a broken file rather than data (csv's own default is 128 KiB).
FIELD_LIMIT = 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)


class UnreadableFileError(ValueError):
    """The file is not a CSV file we can read; the message says why and is safe to show."""


def sniff_delimiter(sample: str) -> str:
    """The delimiter of the sample's first lines: what csv.Sniffer says, or, when it cannot
    tell (one column), the most frequent of comma and semicolon on the header line."""
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        return ";" if first.count(";") > first.count(",") else ","


@contextmanager
def open_csv(path: str | Path) -> Iterator[tuple[list[str], Iterator[list[str]]]]:
    """(headers, rows) of the file, rows read as they are iterated (never all in memory)."""
    with open(path, "rb") as raw:
        if b"\x00" in raw.read(SNIFF_BYTES):  # a spreadsheet, an image: binary
            raise UnreadableFileError(_("The file is not a CSV file."))
    with open(path, encoding="utf-8-sig", newline="") as handle:
        headers, rows = _start(handle)
        yield headers, rows


def _start(handle: TextIO) -> tuple[list[str], Iterator[list[str]]]:
    try:
        sample = handle.read(SNIFF_BYTES)
    except UnicodeDecodeError as error:
        raise UnreadableFileError(
            _("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.")
        ) from error
    handle.seek(0)  # the decoder starts again and skips the byte-order mark again
    delimiter = sniff_delimiter(sample)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration as error:
        raise UnreadableFileError(_("The file is empty.")) from error
    except (csv.Error, UnicodeDecodeError) as error:
        raise UnreadableFileError(_("The file is not a CSV file.")) from error
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise UnreadableFileError(_("The file's first line has no column names."))
    return headers, _rows(reader)


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    for row in reader:
        if not row or not any(cell.strip() for cell in row):
            continue  # blank lines (Excel adds them at the end)
        yield row


def count_rows(path: str | Path) -> int:
    """How many data rows the file has (a pass over it, in constant memory)."""
    try:
        with open_csv(path) as (_headers, rows):
            return sum(1 for _row in rows)
    except (csv.Error, UnicodeDecodeError) as error:
        raise UnreadableFileError(_("The file is not a CSV file.")) from error


def preview(path: str | Path, rows: int = 5) -> tuple[list[str], list[list[str]]]:
    """The headers and the first `rows` data rows."""
    try:
        with open_csv(path) as (headers, reader):
            first: list[list[str]] = []
            for row in reader:
                first.append(row)
                if len(first) >= rows:
                    break
            return headers, first
    except (csv.Error, UnicodeDecodeError) as error:
        raise UnreadableFileError(_("The file is not a CSV file.")) from error


def write_rows(handle: io.TextIOBase | TextIO, rows: list[list[str]]) -> None:
    csv.writer(handle).writerows(rows)
