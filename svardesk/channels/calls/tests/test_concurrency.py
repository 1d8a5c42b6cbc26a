"""Callbacks of one call arriving at the same moment, over real HTTP on a threaded server:
one call, one message, one ticket, every callback processed."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from svardesk.channels.calls.models import Call, CallCallback
from svardesk.conversations.models import Message
from svardesk.tickets.models import Ticket

from .conftest import recording_params, status_params, transcription_params, voice_params

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The SQLite test database is one in-memory file shared by the server's threads: no
    # isolation to test there (production SQLite serialises writers with IMMEDIATE).
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]


def test_simultaneous_callbacks_of_one_call_make_one_message(provider):
    sends = [
        ("voice", voice_params("CA0900")),
        ("status", status_params("CA0900", "completed", duration="20")),
        ("recording", recording_params("CA0900")),
        ("transcription", transcription_params("CA0900", "Ring mig.")),
    ] * 3

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda item: provider.post(*item).status, sends))

    assert sorted(set(statuses)) == [200, 204]
    assert CallCallback.objects.count() == len(sends)
    assert Call.objects.count() == 1
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1
    # A callback that lost a race is kept with its error for the sweep; none may be lost.
    from django.utils import timezone

    from svardesk.channels.calls.services import sweep

    sweep(now=timezone.now() + dt.timedelta(minutes=5))
    assert CallCallback.objects.filter(processed_at__isnull=True).count() == 0
    message = Message.objects.get()
    assert "Ring mig." in message.body_text
    assert "Call duration: 0:20" in message.body_text
