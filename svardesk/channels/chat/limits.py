"""Rate limits on visitor messages, per visitor and per client, in Django's cache (per
process by default, shared through Redis with REDIS_URL): fixed windows of a minute. A client
is what sign-in throttling counts too (core.clients): an IPv4 address, or an IPv6 address's
/64, so a visitor rotating addresses inside its /64 shares one count."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from django.conf import settings

from svardesk.core.clients import client_from_address
from svardesk.core.counters import count_in_windows

WINDOW_SECONDS = 60


@dataclass(frozen=True)
class Limits:
    per_visitor: int
    per_ip: int
    max_message_chars: int
    max_frame_bytes: int


def current_limits() -> Limits:
    """Settings CHAT_* override the defaults (tests do; an install may)."""
    return Limits(
        per_visitor=int(getattr(settings, "CHAT_MESSAGES_PER_VISITOR_PER_MINUTE", 20)),
        per_ip=int(getattr(settings, "CHAT_MESSAGES_PER_IP_PER_MINUTE", 60)),
        max_message_chars=int(getattr(settings, "CHAT_MAX_MESSAGE_CHARS", 4000)),
        max_frame_bytes=int(getattr(settings, "CHAT_MAX_FRAME_BYTES", 32 * 1024)),
    )


def _count(key: str, now: float) -> tuple[int, int]:
    """Add one to `key`'s counter in the current window: (count, seconds left). One round
    trip to Redis (core.counters)."""
    window = int(now // WINDOW_SECONDS)
    [count] = count_in_windows([(f"chat:rate:{key}:{window}", WINDOW_SECONDS + 4)])
    left = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
    return count, left


def take(*, visitor_key: str, ip: str | None, limits: Limits, now: float | None = None) -> int:
    """Count one message for the visitor and the IP's client (its /64 for IPv6). 0 when it
    may be stored, else the seconds until it may be tried again (then nothing is counted for
    the visitor)."""
    moment = time.time() if now is None else now
    if ip:
        count, left = _count(f"ip:{client_from_address(ip)}", moment)
        if count > limits.per_ip:
            return left
    count, left = _count(f"visitor:{visitor_key}", moment)
    if count > limits.per_visitor:
        return left
    return 0
