"""Sign-in throttling. The rule: failures by others never refuse a correct password.

- A *client* (its IP address; an IPv6 client by its /64, which one machine usually holds
  whole) that fails `LOGIN_FAILURE_LIMIT` times (never fewer than 10) inside the window is
  refused — whatever address and password it sends — for one window from then on. The
  address comes from the ASGI server, which believes X-Forwarded-For only from the proxies in
  `FORWARDED_ALLOW_IPS` (see `svardesk serve`).
- An *address*'s failures, from any client, only slow its sign-ins down: nothing for the first
  few, then a wait that doubles up to `LOGIN_SLOWDOWN_MAX_SECONDS`. The sign-in view awaits it
  on the event loop, so a waiting sign-in occupies no worker thread (views.sign_in).
- A successful sign-in and a password reset clear the address's failures. Neither clears a
  client's: whoever holds one account could otherwise reset their own count between guesses.
- Addresses are counted in the form sign-in matches them by (`queries.sign_in_address`), so no
  spelling of an address has a counter of its own.

Counts live in Django's cache: per process by default, shared through Redis with REDIS_URL.
"""

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from svardesk.accounts.queries import sign_in_address

# The client key is shared with the chat's and the forms' rate limits; re-exported here.
from svardesk.core.clients import client_from_address as client_from_address

# Below this a limit would let a few typos in an office that shares one address lock it out.
MINIMUM_CLIENT_LIMIT = 10
# An address's first failures cost nothing: people mistype.
FREE_FAILURES = 3
FIRST_DELAY_SECONDS = 0.5
# However it is configured, a wait stays "a few seconds": it holds the browser's request open.
LONGEST_DELAY_SECONDS = 10.0


def client_of(request: HttpRequest | None) -> str:
    if request is None:
        return "unknown"
    return client_from_address(str(request.META.get("REMOTE_ADDR") or ""))


def client_limit() -> int:
    return max(MINIMUM_CLIENT_LIMIT, int(settings.LOGIN_FAILURE_LIMIT))


def slowdown_after(failures: int) -> float:
    """Seconds a sign-in to an address waits after that many recent failures."""
    if failures < FREE_FAILURES:
        return 0
    longest = min(float(settings.LOGIN_SLOWDOWN_MAX_SECONDS), LONGEST_DELAY_SECONDS)
    return float(min(longest, FIRST_DELAY_SECONDS * 2 ** (failures - FREE_FAILURES)))


def _address_key(address: str) -> str:
    digest = hashlib.sha256(sign_in_address(address).encode()).hexdigest()[:32]
    return f"sign-in:address-failures:{digest}"


def _client_key(client: str) -> str:
    return f"sign-in:client-failures:{client}"


def _refused_key(client: str) -> str:
    return f"sign-in:client-refused-until:{client}"


def _seconds_left(refused_until: float | None) -> int:
    if refused_until is None:
        return 0
    return max(0, math.ceil(refused_until - time.time()))


def failures_of_address(address: str) -> int:
    return int(cache.get(_address_key(address), 0))


def failures_of_client(client: str) -> int:
    return int(cache.get(_client_key(client), 0))


def slowdown_for(address: str) -> float:
    return slowdown_after(failures_of_address(address))


def refused_for(client: str) -> int:
    """Seconds until a refused client may try again; 0 when it is not refused."""
    return _seconds_left(cache.get(_refused_key(client)))


async def slowdown_before_sign_in(*, address: str, client: str) -> float:
    """Seconds a sign-in must wait before its password is checked; 0 for a refused client,
    which is answered at once (the form refuses it)."""
    key = _address_key(address)
    found = await cache.aget_many([key, _refused_key(client)])
    if _seconds_left(found.get(_refused_key(client))):
        return 0
    return slowdown_after(int(found.get(key, 0)))


def _count(key: str, window: int) -> int:
    cache.add(key, 0, timeout=window)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1


def record_failure(*, address: str, client: str) -> None:
    window = int(settings.LOGIN_FAILURE_WINDOW_SECONDS)
    _count(_address_key(address), window)
    if _count(_client_key(client), window) >= client_limit():
        cache.add(_refused_key(client), time.time() + window, timeout=window)


def clear_address_failures(address: str) -> None:
    cache.delete(_address_key(address))
