"""Django's cache on Redis keeps one connection pool per process: a request's context of its
own no longer means a new pool and new connections to Redis."""

from __future__ import annotations

import contextvars
import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.test import override_settings

from svardesk.core.redis_cache import ProcessRedisCache

URL = "redis://127.0.0.1:6379/11"


def test_two_cache_objects_of_a_process_share_one_client():
    first = ProcessRedisCache(URL, {})
    second = ProcessRedisCache(URL, {})  # what Django builds for the next request's context

    assert first._cache is second._cache
    first.set("svardesk-test:shared", "yes", 10)
    assert second.get("svardesk-test:shared") == "yes"
    # The stock backend builds a client — a pool, connections — per cache object.
    assert RedisCache(URL, {})._cache is not RedisCache(URL, {})._cache


def test_requests_in_contexts_of_their_own_use_one_pool():
    backend = {"BACKEND": "svardesk.core.redis_cache.ProcessRedisCache", "LOCATION": URL}
    with override_settings(CACHES={"default": backend}):

        def pool_of_this_request() -> int:
            caches["default"].get("svardesk-test:anything")
            return id(caches["default"]._cache._get_connection_pool(write=False))

        pools = {contextvars.Context().run(pool_of_this_request) for _request in range(5)}

    assert len(pools) == 1


def test_every_call_uses_one_redis_client_across_threads():
    cache = ProcessRedisCache(URL, {})
    clients = []

    def call() -> None:
        cache.set("svardesk-test:threads", threading.get_ident(), 10)
        clients.append(cache._cache.get_client(write=True))
        clients.append(cache._cache.get_client())

    threads = [threading.Thread(target=call) for _thread in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The stock client builds a new redis-py client (and its callbacks) for every call.
    assert len({id(client) for client in clients}) == 1
    assert cache.get("svardesk-test:threads") is not None
