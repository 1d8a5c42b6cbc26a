"""Django's Redis cache with one client, and so one connection pool, per process.

Django keeps its cache objects per context (`caches` is an asgiref Local): every request runs
in a context of its own, so the stock backend built a new client with a new connection pool
for each request, and each cache call of that request opened a new TCP connection to Redis —
sessions, the API's rate-limit counters and sidebar counts. Measured: a rate-limited API GET
went from 3.2 to 10 ms of CPU. redis-py's pools are thread-safe and start afresh in a forked
child (they check the process id).

The stock client also builds a new redis-py client object for every call (`get_client`), whose
constructor registers ~170 response callbacks: ~0.4 ms of CPU per cache call, a session read
and the sidebar counts on every page. A redis-py client holds no connection of its own (it
borrows from the pool per command), so one per pool serves every thread."""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property

_lock = threading.Lock()


class _ReusingClient(RedisCacheClient):
    """Django's cache client with one redis-py client per connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._redis_clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._redis_clients.get(id(pool))
        if client is None:
            make = self._client  # type: ignore[attr-defined]
            client = self._redis_clients[id(pool)] = make(connection_pool=pool)
        return client


_clients: dict[str, _ReusingClient] = {}


class ProcessRedisCache(RedisCache):
    @cached_property
    def _cache(self) -> Any:
        servers, options = self._servers, self._options  # type: ignore[attr-defined]
        key = repr((servers, sorted(options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _ReusingClient(servers, **options)
        return client
