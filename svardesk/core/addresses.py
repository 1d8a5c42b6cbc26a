"""Email addresses as people write them ("Åsa Lindqvist <asa@kund.example>"): formatting one
for display and a header, and reading a list an agent typed. Shared by the conversation core
(a reply's To/Cc/Bcc), the email channel (parsed headers) and contacts."""

from __future__ import annotations

import re
from email.utils import getaddresses

# A display name with one of these must be quoted, or it would read as several addresses.
_SPECIALS = re.compile(r'[,;<>@"()\[\]:\\]')


def format_address(name: str, address: str) -> str:
    """ "Name <address>", quoting the name when needed; the bare address without a name.
    Unlike `email.utils.formataddr` it keeps a non-ASCII name readable (no RFC 2047 words):
    it is stored and shown, and Django encodes it when a header is written."""
    if not name or name == address:
        return address
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def _address_chunks(value: str) -> list[str]:
    """Split "a, "B, C" <b@x>; c@y" on commas and semicolons outside quotes and brackets."""
    chunks: list[str] = []
    current: list[str] = []
    quoted = False
    depth = 0
    for char in value or "":
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            depth += 1
        elif not quoted and char == ">":
            depth = max(depth - 1, 0)
        if char in ",;" and not quoted and not depth:
            chunks.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    chunks.append("".join(current).strip())
    return [c for c in chunks if c]


def split_address_list(value: str) -> tuple[list[str], list[str]]:
    """(addresses as "Name <a@x>" or "a@x", the pieces that are not an address)."""
    good: list[str] = []
    bad: list[str] = []
    for chunk in _address_chunks(value):
        parsed = [(n, a) for n, a in getaddresses([chunk]) if a]
        if len(parsed) != 1 or "@" not in parsed[0][1]:
            bad.append(chunk)
            continue
        name, address = parsed[0]
        good.append(format_address(name.strip(), address.strip()))
    return good, bad


def parse_address_list(value: str) -> list[str]:
    """ "Ann <a@x>, b@y" → ["Ann <a@x>", "b@y"], keeping names; what is not an address is
    dropped (see `split_address_list` to report it)."""
    return split_address_list(value)[0]


def address_of(entry: str) -> str:
    """The lower-case address of "Name <a@x>" (or "" when there is none)."""
    parsed = getaddresses([entry])
    return parsed[0][1].lower() if parsed and parsed[0][1] else ""
