"""Fixtures of the Messenger tests: the fake Graph server and a connected Page."""

import hashlib
import hmac

import pytest

from .fake_graph import TOKEN, VERSION, FakeGraph, start

APP_SECRET = "app-secret-0123456789abcdef"
VERIFY_TOKEN = "verify-me-please"
PAGE_ID = "1029384756"


@pytest.fixture
def graph(settings):  # type: ignore[no-untyped-def]
    fake = FakeGraph()
    server, thread = start(fake)
    settings.GRAPH_API_URL = fake.url
    settings.GRAPH_API_VERSION = VERSION
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)
    assert fake.problems == []  # every request had the Graph API's wire format


@pytest.fixture
def page(db):  # type: ignore[no-untyped-def]
    from svardesk.channels.messenger.services import connect_page

    return connect_page(
        actor=None,
        page_id=PAGE_ID,
        page_token=TOKEN,
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        page_name="Acme on Facebook",
    )


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    """Huey runs tasks as they are enqueued (retries land in its in-memory schedule)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.fixture(autouse=True)
def _process_in_the_request(settings):  # type: ignore[no-untyped-def]
    """Webhooks are processed in their request (no worker runs in tests); test_batches.py
    sets a delay to test the worker's batches."""
    settings.INBOUND_PROCESSING_DELAY = 0
