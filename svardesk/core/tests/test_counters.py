"""Window counters for rate limits (core/counters.py): in one Redis round trip however many
counters, each key with its window's lifetime; the same counts in the per-process cache."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache

from svardesk.core.counters import count_in_windows

REDIS_URL = os.environ.get("SVARDESK_TEST_REDIS_URL_COUNTERS", "redis://127.0.0.1:6379/12")


@dataclass
class RedisUnderTest:
    client: Any
    prefix: str

    def own_keys(self) -> list[bytes]:
        """This test's keys (other test processes use the same database)."""
        return list(self.client.scan_iter(f"{self.prefix}:*"))

    def ttl(self, key: bytes) -> int:
        return int(self.client.ttl(key))


@pytest.fixture
def redis_cache(settings):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"test-counters-{uuid.uuid4().hex}"  # no flush: other test processes share it
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    under_test = RedisUnderTest(client, prefix)
    yield under_test
    for key in under_test.own_keys():
        client.delete(key)


@pytest.fixture
def round_trips(monkeypatch):  # type: ignore[no-untyped-def]
    from redis.connection import AbstractConnection

    sent: list[object] = []
    send = AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


def test_on_redis_several_counters_are_one_round_trip(redis_cache, round_trips):
    count_in_windows([("warm", 5)])  # the connection is opened (and greeted) first
    round_trips.clear()

    first = count_in_windows([("a", 10), ("b", 60)])
    second = count_in_windows([("a", 10), ("b", 60)])

    assert (first, second) == ([1, 1], [2, 2])
    assert len(round_trips) == 2
    ttls = {key.decode().rsplit(":", 1)[-1]: redis_cache.ttl(key) for key in redis_cache.own_keys()}
    assert 0 < ttls["a"] <= 11
    assert 50 < ttls["b"] <= 61


def test_nothing_to_count_asks_nothing(redis_cache, round_trips):
    assert count_in_windows([]) == []
    assert round_trips == []


@pytest.mark.django_db
def test_in_the_per_process_cache_the_counts_are_the_same():
    cache.clear()
    assert count_in_windows([("a", 10), ("b", 60)]) == [1, 1]
    assert count_in_windows([("a", 10)]) == [2]
    cache.clear()
