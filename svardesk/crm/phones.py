"""Phone numbers: parsed with `phonenumbers` (Google's libphonenumber) and stored in E.164
("+46701234567"); shown in national or international format; searched in any format.

A number written without a country code is read in a region: the caller's, or the account's
default (`CrmSettings.default_phone_region`, Sweden unless changed).
"""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

# What a query must look like to be tried as a phone number: digits with the usual
# separators, at least 5 digits.
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]+$")


class PhoneNumberError(ValueError):
    """The text is not a valid phone number; the message says why and is safe to show."""


def _region(region: str | None) -> str:
    if region:
        return region.upper()
    from svardesk.crm.queries import crm_settings  # settings row read lazily

    return crm_settings().default_phone_region.upper() or "SE"


def parse(raw: str, region: str | None = None) -> phonenumbers.PhoneNumber:
    """The number `raw` means (read in `region` unless it starts with + or 00), or
    PhoneNumberError when it is not a valid number."""
    text = (raw or "").strip()
    if not text:
        raise PhoneNumberError(_("Enter a phone number."))
    try:
        number = phonenumbers.parse(text, _region(region))
    except phonenumbers.NumberParseException as error:
        raise PhoneNumberError(
            _("“%(number)s” is not a phone number.") % {"number": text}
        ) from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError(
            _(
                "“%(number)s” is not a valid phone number. Numbers from another country need "
                "their country code, e.g. +44 20 7946 0958."
            )
            % {"number": text}
        )
    return number


def normalise(raw: str, region: str | None = None) -> str:
    """`raw` in E.164 ("+46701234567"); raises PhoneNumberError for an invalid number."""
    return phonenumbers.format_number(parse(raw, region), phonenumbers.PhoneNumberFormat.E164)


def normalise_or_keep(raw: str, region: str | None = None) -> str:
    """E.164 when `raw` parses, else `raw` as it was (for data written before validation)."""
    try:
        return normalise(raw, region)
    except PhoneNumberError:
        return raw


def _format(e164: str, style: int) -> str:
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164  # a stored value that never parsed is shown as it is
    return phonenumbers.format_number(number, style)


def format_national(e164: str) -> str:
    """ "+46701234567" → "070-123 45 67" (the number's own country's way)."""
    return _format(e164, phonenumbers.PhoneNumberFormat.NATIONAL)


def format_international(e164: str) -> str:
    """ "+46701234567" → "+46 70 123 45 67"."""
    return _format(e164, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_for_region(e164: str, region: str | None = None) -> str:
    """National format for numbers of the account's region, international for the rest."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if phonenumbers.region_code_for_number(number) == _region(region):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def looks_like_phone(query: str) -> bool:
    text = (query or "").strip()
    return bool(_PHONE_LIKE.match(text)) and sum(c.isdigit() for c in text) >= 5


def search_forms(raw: str, region: str | None = None) -> list[str]:
    """The E.164 numbers a search query in any format may mean, most likely first: the
    number read in the default region, and — for digits written without + — the same digits
    read as an international number ("4670…" → "+4670…"). Empty for text that is no phone
    number. Compare the result with stored E.164 values (ContactPhone.number)."""
    if not looks_like_phone(raw):
        return []
    text = raw.strip()
    forms: list[str] = []
    candidates = [text]
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and not text.startswith("00") and digits:
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, _region(region))
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_possible_number(number):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in forms:
            forms.append(e164)
    return forms


def is_valid_region(region: str) -> bool:
    return (region or "").upper() in phonenumbers.SUPPORTED_REGIONS
