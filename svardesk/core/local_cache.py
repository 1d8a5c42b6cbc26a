"""Small, rarely changed rows that hot paths read for every message (the help desk settings,
pipeline stages), kept in this process for a few seconds.

A change saved in this process clears the cache at once (the owning apps connect
`clear_local_cache` to their models' save and delete signals); another process sees the change
within `TTL_SECONDS`. Only for data where a few seconds of staleness is harmless: a message
stored with a just-renamed stage still lands on a valid stage, and a just-deleted one makes the
write fail and the task retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

TTL_SECONDS = 5.0

T = TypeVar("T")

_entries: dict[str, tuple[float, Any]] = {}


def cached(key: str, load: Callable[[], T], *, ttl: float = TTL_SECONDS) -> T:
    """`load()`'s result, reused for `ttl` seconds in this process."""
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and now - entry[0] < ttl:
        return entry[1]
    value = load()
    _entries[key] = (now, value)
    return value


def forget(key: str) -> None:
    """Forget one entry: the next `cached` call with `key` loads it again."""
    _entries.pop(key, None)


def clear_local_cache(*_args: object, **_kwargs: object) -> None:
    """Forget everything (usable as a signal receiver)."""
    _entries.clear()
