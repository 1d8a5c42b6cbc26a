"""Phone numbers and ids as the provider sends them: E.164 through crm's `phonenumbers`
rules, withheld callers, account SIDs."""

from __future__ import annotations

import re

from svardesk.crm.phones import (
    PhoneNumberError,
    format_international,
    normalise,
)

__all__ = ["PhoneNumberError"]

# What Twilio sends as From when the caller withheld their number (the words, and the
# numbers that spell ANONYMOUS, RESTRICTED, BLOCKED and UNKNOWN on a keypad).
WITHHELD = {
    "",
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "+266696687",
    "+7378742833",
    "+2562533",
    "+8656696",
}
_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{4,14}$")


def is_withheld(number: str) -> bool:
    return (number or "").strip().lower() in WITHHELD


def is_e164(number: str) -> bool:
    return bool(_E164.match(number or ""))


def is_account_sid(value: str) -> bool:
    return bool(_ACCOUNT_SID.match(value or ""))


def normalise_number(raw: str) -> str:
    """E.164; raises PhoneNumberError (a message to show) for an invalid number."""
    return normalise(raw)


def normalise_or_keep(raw: str) -> str:
    """A caller's number in E.164 when it parses; a withheld or odd one as it came."""
    text = (raw or "").strip()
    if is_withheld(text):
        return text
    try:
        return normalise(text)
    except PhoneNumberError:
        return text


def display_number(number: str) -> str:
    """ "+46701234567" → "+46 70 123 45 67"."""
    return format_international(number) if is_e164(number) else number
