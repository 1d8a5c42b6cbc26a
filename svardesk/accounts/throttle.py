"""Login rate-limiting: failed sign-ins counted per email address and per client address in
the cache (shared through Redis when REDIS_URL is set). A success clears the address's count."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def is_throttled(*, email: str, client: str) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    counts = cache.get_many([_key("email", email), _key("client", client)])
    # A client gets more room than one address: an office shares one IP.
    return (
        counts.get(_key("email", email), 0) >= limit
        or counts.get(_key("client", client), 0) >= limit * 4
    )


def record_failure(*, email: str, client: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for key in (_key("email", email), _key("client", client)):
        cache.add(key, 0, timeout=window)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)


def clear_failures(*, email: str) -> None:
    cache.delete(_key("email", email))
