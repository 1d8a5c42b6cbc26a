"""Fixtures of the API tests: the official `hubspot-api-client` SDK pointed at a live
Svardesk (pytest-django's live_server), and raw HTTP for what the SDK does not wrap."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import pytest

ALL_SCOPES = [
    "tickets",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.companies.read",
    "crm.objects.companies.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.owners.read",
    "conversations.read",
    "conversations.write",
]


@pytest.fixture(autouse=True)
def _no_rate_limits(settings):
    """Most tests make many calls; the rate-limit tests set the limits they check."""
    settings.API_RATE_LIMIT = 0
    settings.API_SEARCH_RATE_LIMIT = 0
    settings.API_DAILY_LIMIT = 0


@pytest.fixture
def make_token(transactional_db):
    from svardesk.api.tokens import create_token

    def make(user, scopes=None, name="Test app"):
        _token, raw = create_token(user=user, name=name, scopes=scopes or ALL_SCOPES, actor=None)
        return raw

    return make


@pytest.fixture
def api_token(make_token, super_admin):
    return make_token(super_admin)


@pytest.fixture
def make_client(live_server):
    from hubspot import HubSpot
    from urllib3.util.retry import Retry

    def make(token: str, **kwargs: Any) -> HubSpot:
        # No retries: a test sees every status as the server sent it.
        kwargs.setdefault("retry", Retry(total=0, status=0, respect_retry_after_header=False))
        return HubSpot(access_token=token, host=live_server.url, base_url=live_server.url, **kwargs)

    return make


@pytest.fixture
def hubspot(make_client, api_token):
    """The SDK as a super admin with every scope."""
    return make_client(api_token)


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]
    raw: bytes


class RawApi:
    """Plain HTTP to the live server, for paths the SDK does not wrap and for checking exact
    bytes, statuses and headers."""

    def __init__(self, base: str, token: str | None) -> None:
        self.base = base
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = "default",  # noqa: S107
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> Answer:
        sent = dict(headers or {})
        use = self.token if token == "default" else token
        if use:
            sent.setdefault("Authorization", f"Bearer {use}")
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(  # noqa: S310 (http to the live server)
            self.base + path, data=data, method=method, headers=sent
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                status = response.status
                got = dict(response.headers.items())
        except urllib.error.HTTPError as error:
            raw = error.read()
            status = error.code
            got = dict(error.headers.items())
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Answer(status, parsed, got, raw)

    def get(self, path: str, **kwargs: Any) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("PATCH", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.request("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Answer:
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def raw_api(live_server, api_token):
    return RawApi(live_server.url, api_token)
