"""Per-token rate limits with HubSpot's headers and 429 body.

Three counters per token in Django's cache (Redis with `REDIS_URL`, shared by every process;
per process without it): requests in the current ten-second window (default 190), requests
today (UTC; default 1,000,000), and search requests in the current second (default 5). Fixed
windows: a counter is created with its window's lifetime and incremented atomically, in one
round trip to Redis for all of a request's counters. Limits come from settings
(`SVARDESK_API_RATE_LIMIT`, `SVARDESK_API_SEARCH_RATE_LIMIT`, `SVARDESK_API_DAILY_LIMIT`);
0 lifts a limit."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings

from svardesk.api.errors import RATE_LIMITS, ApiError
from svardesk.core.counters import count_in_windows

INTERVAL_SECONDS = 10
_DAY = 86_400


@dataclass(frozen=True)
class Allowance:
    headers: dict[str, str]


def check(token_id: int, *, search: bool = False, now: float | None = None) -> Allowance:
    """Count one request of `token_id`; ApiError 429 when a limit is exceeded."""
    now = time.time() if now is None else now
    burst_limit = int(settings.API_RATE_LIMIT)
    daily_limit = int(settings.API_DAILY_LIMIT)
    search_limit = int(settings.API_SEARCH_RATE_LIMIT)
    headers: dict[str, str] = {}
    day = int(now // _DAY)
    second = int(now)
    window = int(now // INTERVAL_SECONDS)
    # Search has its own per-second limit and is exempt from the ten-second one (HubSpot's
    # rule), also when the search limit is lifted.
    counters: list[tuple[str, int]] = []
    if daily_limit:
        counters.append((f"api:rl:d:{token_id}:{day}", _DAY))
    if search and search_limit:
        counters.append((f"api:rl:s:{token_id}:{second}", 1))
    elif not search and burst_limit:
        counters.append((f"api:rl:b:{token_id}:{window}", INTERVAL_SECONDS))
    counts = iter(count_in_windows(counters))

    if daily_limit:
        used_today = next(counts)
        headers["X-HubSpot-RateLimit-Daily"] = str(daily_limit)
        headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(max(daily_limit - used_today, 0))
        if used_today > daily_limit:
            raise _limited("DAILY", "daily", headers, (day + 1) * _DAY - now)

    if search:
        if search_limit and next(counts) > search_limit:
            raise _limited("SECONDLY", "secondly", headers, second + 1 - now)
        return Allowance(headers)

    if burst_limit:
        used = next(counts)
        headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(INTERVAL_SECONDS * 1000)
        headers["X-HubSpot-RateLimit-Max"] = str(burst_limit)
        headers["X-HubSpot-RateLimit-Remaining"] = str(max(burst_limit - used, 0))
        if used > burst_limit:
            reset = (window + 1) * INTERVAL_SECONDS - now
            raise _limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling", headers, reset)
    return Allowance(headers)


def _limited(policy: str, name: str, headers: dict[str, str], wait: float) -> ApiError:
    return ApiError(
        429,
        RATE_LIMITS,
        f"You have reached your {name} limit.",
        headers={**headers, "Retry-After": str(max(math.ceil(wait), 1))},
        extra={
            "errorType": "RATE_LIMIT",
            "policyName": policy,
            "groupName": "publicapi:private-app",
        },
    )
