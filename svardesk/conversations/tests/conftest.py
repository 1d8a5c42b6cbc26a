"""Fixtures for the agent-side conversation tests (replies, comments, spam)."""

import pytest

from .reply_helpers import connect_channel


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    """Huey runs tasks as they are enqueued (retries land in its in-memory schedule)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.fixture
def email_channel(db):  # type: ignore[no-untyped-def]
    return connect_channel()
