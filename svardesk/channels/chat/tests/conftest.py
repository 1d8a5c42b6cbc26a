"""Fixtures of the chat channel's tests."""

import pytest


@pytest.fixture(autouse=True)
def someone_available(monkeypatch):  # type: ignore[no-untyped-def]
    """An agent is available for chat (workspace open, status Available) unless a test says
    otherwise: the presence itself is accounts' to test."""
    monkeypatch.setattr("svardesk.channels.chat.consumers.agents_available", lambda: True)
