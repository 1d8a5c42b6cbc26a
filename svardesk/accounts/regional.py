"""A user's language, region and time zone, as Django activates them.

Django writes dates in the formats of the active language code, so a user's language and
the way of writing dates they prefer are activated together as one code: "en-gb", "en-us",
"en-se", "sv-se", "sv-gb", "sv-us" (formats in svardesk/core/formats/; translations still
come from the language's catalogue).

The automatic choice: Swedish writes the Swedish way; English writes the US way in a US time
zone and the UK way (day first, 24-hour clock) everywhere else.
"""

from __future__ import annotations

import contextlib
import zoneinfo
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.utils import timezone, translation

from svardesk.accounts.models import DateStyle, Language

if TYPE_CHECKING:
    from svardesk.accounts.models import User

# The IANA zones of the United States (tzdata's zone1970.tab, country US, and the US/ links).
_US_ZONE_PREFIXES = (
    "US/",
    "America/Indiana/",
    "America/Kentucky/",
    "America/North_Dakota/",
)
_US_ZONES = frozenset(
    {
        "America/New_York", "America/Detroit", "America/Chicago", "America/Menominee",
        "America/Denver", "America/Boise", "America/Phoenix", "America/Los_Angeles",
        "America/Anchorage", "America/Juneau", "America/Sitka", "America/Metlakatla",
        "America/Yakutat", "America/Nome", "America/Adak", "Pacific/Honolulu",
        "Pacific/Guam", "Pacific/Pago_Pago", "Navajo",
    }
)  # fmt: skip


def date_style_of(user: User) -> str:
    """The user's chosen way of writing dates, or the automatic one."""
    if user.date_style in DateStyle.values and user.date_style != DateStyle.AUTOMATIC:
        return str(user.date_style)
    if user.language == Language.SWEDISH:
        return DateStyle.SWEDEN
    zone = user.time_zone or ""
    if zone in _US_ZONES or zone.startswith(_US_ZONE_PREFIXES):
        return DateStyle.US
    return DateStyle.UK


def language_code_of(user: User) -> str:
    """The code to activate for the user: their language and the region of their dates."""
    language = user.language if user.language in Language.values else Language.ENGLISH
    return f"{language}-{date_style_of(user)}"


def time_zone_of(user: User) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


@contextlib.contextmanager
def as_user(user: User) -> Iterator[None]:
    """Write (translate, format dates, convert times) as `user` reads, e.g. in a task."""
    with translation.override(language_code_of(user)), timezone.override(time_zone_of(user)):
        yield
