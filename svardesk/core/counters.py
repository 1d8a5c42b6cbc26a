"""Counters of fixed time windows in Django's cache (Redis with `REDIS_URL`, shared by every
process; per process without it), for rate limits: each key made with its window's lifetime
and incremented atomically."""

from __future__ import annotations

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


def _count(key: str, lifetime: int) -> int:
    # add() is a no-op when the key exists; incr() is atomic on Redis and on locmem.
    cache.add(key, 0, lifetime + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, lifetime + 1)
        return 1


def count_in_windows(counters: list[tuple[str, int]]) -> list[int]:
    """Count one event in each (key, lifetime in seconds) counter; the new counts, in order.
    On Redis in one round trip (a pipeline of SET NX EX, INCR and EXPIRE per counter),
    instead of three per counter (Django's incr() is EXISTS, then INCRBY)."""
    if not counters:  # nothing to count, no round trip
        return []
    backend = caches["default"]  # `cache` is a proxy: the backend itself tells what it is
    if not isinstance(backend, RedisCache):
        return [_count(key, lifetime) for key, lifetime in counters]
    client = backend._cache.get_client(write=True)
    pipe = client.pipeline(transaction=False)
    for key, lifetime in counters:
        stored = backend.make_and_validate_key(key)
        pipe.set(stored, 0, ex=lifetime + 1, nx=True)
        pipe.incr(stored)
        # A key that expired between the two (an event stalled past its window) would be
        # made again by INCR without a lifetime: every key keeps one. The key names its
        # window, so a later expiry only delays its removal.
        pipe.expire(stored, lifetime + 1)
    replies = pipe.execute()
    return [int(count) for count in replies[1::3]]
