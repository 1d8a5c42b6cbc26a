"""The chat's per-client message limit: a client is what sign-in throttling counts
(core.clients), so an IPv6 visitor shares one count across its /64."""

import pytest
from django.core.cache import cache

from svardesk.accounts import throttle
from svardesk.channels.chat.limits import WINDOW_SECONDS, Limits, take
from svardesk.core.clients import client_from_address
from svardesk.core.tests.test_counters import redis_cache, round_trips  # noqa: F401 (fixtures)

LIMITS = Limits(per_visitor=100, per_ip=2, max_message_chars=4000, max_frame_bytes=32 * 1024)
# The middle of one minute's window: every call below counts in the same window.
NOW = 29_000_000 * WINDOW_SECONDS + 10.0


@pytest.fixture(autouse=True)
def empty_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


def _send(ip: str, visitor: str) -> int:
    return take(visitor_key=visitor, ip=ip, limits=LIMITS, now=NOW)


def test_two_addresses_in_one_ipv6_64_share_a_count():
    assert _send("2001:db8:1:2::1", "a") == 0
    assert _send("2001:db8:1:2:ffff:0:0:9", "b") == 0
    assert _send("2001:db8:1:2::abcd", "c") == 50  # refused: seconds left in the window


def test_two_ipv6_64s_count_apart():
    assert _send("2001:db8:1:2::1", "a") == 0
    assert _send("2001:db8:1:2::2", "a") == 0
    assert _send("2001:db8:1:3::1", "b") == 0
    assert _send("2001:db8:1:3::2", "b") == 0
    assert _send("2001:db8:1:3::3", "b") > 0
    assert _send("2001:db8:1:4::1", "c") == 0


def test_ipv4_addresses_count_one_by_one():
    assert _send("192.0.2.1", "a") == 0
    assert _send("192.0.2.1", "a") == 0
    assert _send("192.0.2.2", "b") == 0
    assert _send("192.0.2.1", "c") == 50
    # An IPv4-mapped IPv6 address is the same IPv4 client.
    assert _send("::ffff:192.0.2.2", "d") == 0
    assert _send("::ffff:192.0.2.2", "d") > 0


def test_a_refused_message_counts_nothing_for_the_visitor():
    limits = Limits(per_visitor=1, per_ip=1, max_message_chars=4000, max_frame_bytes=1024)
    assert take(visitor_key="v", ip="2001:db8::1", limits=limits, now=NOW) == 0
    assert take(visitor_key="w", ip="2001:db8::2", limits=limits, now=NOW) > 0
    assert take(visitor_key="w", ip="2001:db8:0:1::1", limits=limits, now=NOW) == 0


def test_sign_in_throttling_and_the_chat_use_one_client_key():
    assert throttle.client_from_address is client_from_address
    assert client_from_address("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert client_from_address(" 192.0.2.7 ") == "192.0.2.7"
    assert client_from_address("not an address") == "unknown"


def test_on_redis_a_message_costs_one_round_trip_per_limit(redis_cache, round_trips):  # noqa: F811
    limits = Limits(per_visitor=2, per_ip=10, max_message_chars=4000, max_frame_bytes=1024)
    now = 29_000_000 * WINDOW_SECONDS + 10.0
    take(visitor_key="warm", ip=None, limits=limits, now=now)
    round_trips.clear()

    answers = [take(visitor_key="v", ip="192.0.2.1", limits=limits, now=now) for _ in range(3)]

    assert answers == [0, 0, 50]  # the third is over the visitor's limit
    assert len(round_trips) == 6  # the address's and the visitor's counter, each once
    [visitor_key] = [k for k in redis_cache.own_keys() if b"visitor:v" in k]
    assert 0 < redis_cache.ttl(visitor_key) <= WINDOW_SECONDS + 5
