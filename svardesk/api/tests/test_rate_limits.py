"""Per-token rate limits with HubSpot's headers and 429 body: through the SDK and raw HTTP,
the SDK's own retry on `Retry-After`, and counts shared through Redis by every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from hubspot.crm.tickets import PublicObjectSearchRequest
from hubspot.crm.tickets.exceptions import ApiException
from urllib3.util.retry import Retry

from svardesk.api import ratelimit
from svardesk.api.errors import ApiError
from svardesk.api.models import ApiToken

TICKETS = "/crm/v3/objects/tickets"
REDIS_URL = os.environ.get("SVARDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/6")


def _fresh_window(margin: float = 2.5) -> None:
    """Wait for a new ten-second window when this one is about to end, so that the calls a
    test makes all fall into one window."""
    left = ratelimit.INTERVAL_SECONDS - time.time() % ratelimit.INTERVAL_SECONDS
    if left < margin:
        time.sleep(left + 0.05)


def _fresh_second(margin: float = 0.5) -> None:
    left = 1 - time.time() % 1
    if left < margin:
        time.sleep(left + 0.01)


# --- The counters themselves, at fixed times -----------------------------------------------


def test_the_ten_second_window_counts_down_and_resets(settings):
    settings.API_RATE_LIMIT = 3
    start = 1_700_000_000.0  # a window boundary

    remaining = [
        ratelimit.check(1, now=start + i).headers["X-HubSpot-RateLimit-Remaining"] for i in range(3)
    ]
    with pytest.raises(ApiError) as limited:
        ratelimit.check(1, now=start + 8.2)
    after = ratelimit.check(1, now=start + 10)

    assert remaining == ["2", "1", "0"]
    assert limited.value.status == 429
    assert limited.value.headers["Retry-After"] == "2"  # 1.8 s left, rounded up
    assert after.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    # Another token has its own counts.
    assert ratelimit.check(2, now=start + 9).headers["X-HubSpot-RateLimit-Remaining"] == "2"


def test_search_has_its_own_per_second_limit_outside_the_ten_second_one(settings):
    settings.API_RATE_LIMIT = 2
    settings.API_SEARCH_RATE_LIMIT = 2
    start = 1_700_000_000.0

    for i in range(4):  # two seconds of searches, more than the ten-second limit
        ratelimit.check(1, search=True, now=start + i // 2)
    with pytest.raises(ApiError) as limited:
        ratelimit.check(1, search=True, now=start + 1.5)

    assert limited.value.body()["policyName"] == "SECONDLY"
    assert limited.value.headers["Retry-After"] == "1"
    # The searches used none of the ten-second allowance.
    assert ratelimit.check(1, now=start + 1.6).headers["X-HubSpot-RateLimit-Remaining"] == "1"


def test_a_lifted_search_limit_does_not_count_searches_as_burst(settings):
    settings.API_RATE_LIMIT = 1
    settings.API_SEARCH_RATE_LIMIT = 0
    start = 1_700_000_000.0

    for _ in range(5):
        ratelimit.check(1, search=True, now=start)

    assert ratelimit.check(1, now=start).headers["X-HubSpot-RateLimit-Remaining"] == "0"


def test_the_daily_limit_resets_at_midnight_utc(settings):
    settings.API_DAILY_LIMIT = 2
    settings.API_RATE_LIMIT = 0
    midnight = 1_700_006_400.0  # 2023-11-15T00:00:00Z

    ratelimit.check(1, now=midnight - 60)
    ratelimit.check(1, now=midnight - 50)
    with pytest.raises(ApiError) as limited:
        ratelimit.check(1, now=midnight - 40)
    fresh = ratelimit.check(1, now=midnight + 1)

    body = limited.value.body()
    assert body["policyName"] == "DAILY"
    assert body["message"] == "You have reached your daily limit."
    assert limited.value.headers["Retry-After"] == "40"
    assert limited.value.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert fresh.headers["X-HubSpot-RateLimit-Daily"] == "2"
    assert fresh.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"


# --- Over HTTP -----------------------------------------------------------------------------


def test_normal_responses_carry_hubspots_rate_limit_headers(raw_api, settings):
    settings.API_RATE_LIMIT = 5
    settings.API_DAILY_LIMIT = 1000
    _fresh_window()

    first = raw_api.get(TICKETS)
    second = raw_api.get(TICKETS)

    assert first.status == 200
    assert first.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "4"
    assert second.headers["X-HubSpot-RateLimit-Remaining"] == "3"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "1000"
    assert second.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "998"


def test_the_sixth_call_in_a_window_is_429_with_hubspots_body(raw_api, settings):
    settings.API_RATE_LIMIT = 5
    _fresh_window(margin=5)

    answers = [raw_api.get(TICKETS) for _ in range(6)]

    assert [a.status for a in answers] == [200, 200, 200, 200, 200, 429]
    limited = answers[-1]
    assert limited.body["status"] == "error"
    assert limited.body["errorType"] == "RATE_LIMIT"
    assert limited.body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.body["category"] == "RATE_LIMITS"
    assert limited.body["message"] == "You have reached your ten_secondly_rolling limit."
    uuid.UUID(limited.body["correlationId"])
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert 1 <= int(limited.headers["Retry-After"]) <= 10


def test_the_sdk_sees_the_429_when_it_does_not_retry(hubspot, settings):
    settings.API_RATE_LIMIT = 5
    _fresh_window(margin=5)
    for _ in range(5):
        hubspot.crm.tickets.basic_api.get_page()

    with pytest.raises(ApiException) as error:
        hubspot.crm.tickets.basic_api.get_page()

    assert error.value.status == 429
    body = json.loads(error.value.body)
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
    assert error.value.headers["Retry-After"]


def test_limits_count_per_token(raw_api, settings, make_token, agent):
    settings.API_RATE_LIMIT = 2
    other = make_token(agent, name="Other app")
    _fresh_window(margin=5)

    mine = [raw_api.get(TICKETS).status for _ in range(3)]
    theirs = raw_api.get(TICKETS, token=other)

    assert mine == [200, 200, 429]
    assert theirs.status == 200
    assert theirs.headers["X-HubSpot-RateLimit-Remaining"] == "1"


def test_a_401_is_not_counted_against_any_token(raw_api, settings):
    settings.API_RATE_LIMIT = 2
    _fresh_window(margin=5)

    for _ in range(5):
        assert raw_api.get(TICKETS, token="pat-sd1-nope").status == 401

    assert raw_api.get(TICKETS).headers["X-HubSpot-RateLimit-Remaining"] == "1"


def _late_in_window(lead: float = 2.5) -> None:
    """Wait until `lead` seconds before the current ten-second window ends, so that a 429's
    Retry-After is short."""
    left = ratelimit.INTERVAL_SECONDS - time.time() % ratelimit.INTERVAL_SECONDS
    time.sleep(left - lead if left > lead else left + ratelimit.INTERVAL_SECONDS - lead)


def test_the_sdks_default_retry_waits_out_a_429_with_retry_after(make_client, api_token, settings):
    """The SDK's default urllib3 Retry(3) honours Retry-After on a GET: the script never sees
    the 429, it just takes until the next window."""
    settings.API_RATE_LIMIT = 2
    default_sdk = make_client(api_token, retry=None)  # the SDK's own default
    strict = make_client(api_token)
    for _attempt in range(3):  # a busy machine may cross into the next window in between
        _late_in_window()
        default_sdk.crm.tickets.basic_api.get_page()
        default_sdk.crm.tickets.basic_api.get_page()
        try:
            strict.crm.tickets.basic_api.get_page()
        except ApiException as error:
            refused = error
            break
    else:
        pytest.fail("the third call in a window was never refused")
    wait = int(refused.headers["Retry-After"])

    started = time.monotonic()
    page = default_sdk.crm.tickets.basic_api.get_page()

    assert refused.status == 429
    assert 1 <= wait <= 3
    assert page.results == []
    assert time.monotonic() - started >= 0.5  # it slept for Retry-After, then succeeded


def test_search_over_its_limit_is_retried_by_an_sdk_that_allows_posts(
    make_client, api_token, settings
):
    """Search is a POST, which urllib3 does not retry by default; a client that allows it
    (as docs/api.md shows) waits out the one-second window transparently."""
    settings.API_SEARCH_RATE_LIMIT = 1
    sdk = make_client(api_token, retry=Retry(total=3, allowed_methods=None))
    strict = make_client(api_token)
    request = PublicObjectSearchRequest(limit=1)
    sdk.crm.tickets.search_api.do_search(public_object_search_request=request)  # warm-up

    for _attempt in range(5):  # a busy machine may cross into the next second in between
        _fresh_second()
        first = sdk.crm.tickets.search_api.do_search(public_object_search_request=request)
        try:
            strict.crm.tickets.search_api.do_search(public_object_search_request=request)
        except ApiException as error:
            refused = error
            break
    else:
        pytest.fail("the second search in a second was never refused")
    started = time.monotonic()
    second = sdk.crm.tickets.search_api.do_search(public_object_search_request=request)

    assert first.total == second.total == 0
    assert refused.status == 429
    body = json.loads(refused.body)
    assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "SECONDLY")
    assert refused.headers["Retry-After"] == "1"
    assert time.monotonic() - started >= 0.2


# --- Shared through Redis ------------------------------------------------------------------


@pytest.fixture
def redis_cache(settings):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    client.flushdb()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    yield client
    client.flushdb()


def _count_in_another_process(token_id: int, calls: int) -> list[str]:
    """Count `calls` requests of the token from a separate Python process on the same Redis,
    as a second `svardesk serve` worker would; its Remaining headers, in order."""
    script = (
        "import django, json\n"
        "django.setup()\n"
        "from svardesk.api import ratelimit\n"
        f"print(json.dumps([ratelimit.check({token_id}).headers['X-HubSpot-RateLimit-Remaining']"
        f" for _ in range({calls})]))\n"
    )
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "SVARDESK_API_RATE_LIMIT": "5",
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "svardesk.config.settings"
        ),
    }
    done = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_counts_are_shared_through_redis_by_every_process(raw_api, redis_cache, settings):
    settings.API_RATE_LIMIT = 5
    token_id = ApiToken.objects.get().pk
    _fresh_window(margin=6)  # a subprocess start takes a few seconds on a busy machine

    served = [raw_api.get(TICKETS) for _ in range(2)]
    elsewhere = _count_in_another_process(token_id, 2)
    last_allowed = raw_api.get(TICKETS)
    limited = raw_api.get(TICKETS)

    assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in served] == ["4", "3"]
    assert elsewhere == ["2", "1"]
    assert last_allowed.status == 200
    assert last_allowed.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.status == 429
    keys = [k.decode() for k in redis_cache.keys("*api:rl:b:*")]
    assert len(keys) == 1
    assert f"api:rl:b:{token_id}:" in keys[0]
    assert int(redis_cache.get(keys[0])) == 6
    assert 0 < redis_cache.ttl(keys[0]) <= ratelimit.INTERVAL_SECONDS + 1


def test_on_redis_a_request_is_counted_in_one_round_trip(redis_cache, settings, monkeypatch):
    from redis.connection import AbstractConnection

    settings.API_RATE_LIMIT = 3
    settings.API_DAILY_LIMIT = 100
    settings.API_SEARCH_RATE_LIMIT = 1
    start = 1_700_000_000.0  # a window boundary
    sent = []
    send = AbstractConnection.send_packed_command

    def counted(connection, command, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(command)
        return send(connection, command, *args, **kwargs)

    ratelimit.check(8, now=start)  # the connection is opened (and greeted) before counting
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    remaining = [ratelimit.check(7, now=start + i).headers for i in range(3)]
    round_trips = len(sent)
    with pytest.raises(ApiError) as limited:
        ratelimit.check(7, now=start + 8.2)
    ratelimit.check(7, search=True, now=start + 9)
    with pytest.raises(ApiError) as searched:
        ratelimit.check(7, search=True, now=start + 9.5)

    assert round_trips == 3  # one a request, whatever the number of counters
    assert [h["X-HubSpot-RateLimit-Remaining"] for h in remaining] == ["2", "1", "0"]
    assert [h["X-HubSpot-RateLimit-Daily-Remaining"] for h in remaining] == ["99", "98", "97"]
    assert limited.value.body()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert searched.value.body()["policyName"] == "SECONDLY"
    day_key = next(k for k in redis_cache.keys("*api:rl:d:7:*"))
    burst_key = next(k for k in redis_cache.keys("*api:rl:b:7:*"))
    assert int(redis_cache.get(day_key)) == 6  # every request, refused ones too
    assert int(redis_cache.get(burst_key)) == 4
    assert 86_000 < redis_cache.ttl(day_key) <= 86_401
    assert 0 < redis_cache.ttl(burst_key) <= ratelimit.INTERVAL_SECONDS + 1


def test_on_redis_a_counter_always_keeps_a_lifetime(redis_cache, settings):
    """A request stalled past its window can find its counter expired between SET NX and INCR;
    INCR then makes it again with no lifetime. Every count sets the lifetime again."""
    from django.core.cache import caches

    settings.API_RATE_LIMIT = 3
    settings.API_DAILY_LIMIT = 0
    start = 1_700_000_000.0
    window = int(start // ratelimit.INTERVAL_SECONDS)
    stored = caches["default"].make_and_validate_key(f"api:rl:b:9:{window}")
    redis_cache.set(stored, 1)  # as INCR leaves a key it had to make again
    assert redis_cache.ttl(stored) == -1

    allowance = ratelimit.check(9, now=start)

    assert allowance.headers["X-HubSpot-RateLimit-Remaining"] == "1"
    assert 0 < redis_cache.ttl(stored) <= ratelimit.INTERVAL_SECONDS + 1


def test_with_every_limit_lifted_nothing_is_asked_of_redis(redis_cache, settings, monkeypatch):
    from django.core.cache import caches

    settings.API_RATE_LIMIT = 0
    settings.API_DAILY_LIMIT = 0
    settings.API_SEARCH_RATE_LIMIT = 0

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("Redis was asked")

    monkeypatch.setattr(caches["default"]._cache, "get_client", refuse)

    assert ratelimit.check(7).headers == {}
    assert ratelimit.check(7, search=True).headers == {}
