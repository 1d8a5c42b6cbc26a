"""Processing without HTTP: failures kept for the sweep, completed calls that never got a
recording, the ticket announced when a transcript arrives, numbers and SIDs."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from svardesk.channels.calls import numbers, services
from svardesk.channels.calls.models import Call, CallCallback
from svardesk.conversations.models import Message
from svardesk.tickets.models import Ticket

from .conftest import recording_params, status_params, transcription_params, voice_params

pytestmark = pytest.mark.django_db


def _receive(call_channel, kind, params, *, now=None):
    now = now or timezone.now()
    callback = services.store_callback(call_channel, kind=kind, params=params, now=now)
    services.process_callback_safely(callback.pk, now=now)
    return callback


def test_a_processing_failure_is_kept_and_the_sweep_processes_it_later(call_channel, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_merge", broken)
    callback = _receive(call_channel, "status", status_params("CA0100", "busy"))
    callback.refresh_from_db()
    assert callback.processed_at is None
    assert callback.error == "RuntimeError: database went away"
    assert callback.attempts == 1
    assert Call.objects.count() == 0  # rolled back
    assert Message.objects.count() == 0

    monkeypatch.undo()
    result = services.sweep(now=timezone.now() + dt.timedelta(minutes=1))

    assert result.retried == 1
    callback.refresh_from_db()
    assert (callback.processed_at is not None, callback.error) == (True, "")
    assert Message.objects.get().subject.startswith("Missed call from")
    # Run again: nothing changes twice.
    assert services.sweep(now=timezone.now() + dt.timedelta(minutes=2)).retried == 0
    assert Message.objects.count() == 1


def test_a_completed_call_without_recording_is_missed_only_after_the_grace(call_channel):
    start = timezone.now()
    _receive(call_channel, "voice", voice_params("CA0110"), now=start)
    _receive(call_channel, "status", status_params("CA0110", "completed", duration="9"), now=start)
    assert Message.objects.count() == 0  # the recording may still come

    early = services.sweep(now=start + services.RECORDING_GRACE - dt.timedelta(seconds=1))
    assert early.missed_calls == 0
    late = services.sweep(now=start + services.RECORDING_GRACE)

    assert late.missed_calls == 1
    message = Message.objects.get()
    assert message.subject == "Missed call from +46 70 123 45 67"
    assert "Call duration: 0:09" in message.body_text
    assert services.sweep(now=start + dt.timedelta(hours=1)).missed_calls == 0


def test_a_recording_the_provider_calls_absent_makes_a_missed_call_at_once(call_channel):
    _receive(call_channel, "status", status_params("CA0120", "completed"))
    _receive(
        call_channel,
        "recording",
        {"CallSid": "CA0120", "RecordingStatus": "absent", "RecordingSid": "RE9"},
    )

    assert Message.objects.get().subject.startswith("Missed call from")


def test_a_late_recording_turns_the_missed_call_into_a_voicemail(call_channel):
    _receive(call_channel, "status", status_params("CA0130", "completed"))
    services.sweep(now=timezone.now() + dt.timedelta(minutes=5))
    _receive(call_channel, "recording", recording_params("CA0130"))

    message = Message.objects.get()
    assert message.subject == "Voicemail from +46 70 123 45 67"
    assert recording_params("CA0130")["RecordingUrl"] in message.body_text


def test_a_transcript_announces_the_ticket_after_commit(
    call_channel, django_capture_on_commit_callbacks
):
    from svardesk.tickets.signals import ticket_changed

    _receive(call_channel, "recording", recording_params("CA0140"))
    ticket = Ticket.objects.get()
    announced: list[int] = []

    def receiver(sender, ticket_id, **kwargs):
        announced.append(ticket_id)

    ticket_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _receive(call_channel, "transcription", transcription_params("CA0140", "Hej!"))
        assert announced == [ticket.pk]
        announced.clear()
        with django_capture_on_commit_callbacks(execute=True):
            _receive(call_channel, "transcription", transcription_params("CA0140", "Hej!"))
        assert announced == []  # the same transcript again changes nothing
    finally:
        ticket_changed.disconnect(receiver)


def test_a_failed_transcript_never_replaces_a_completed_one(call_channel):
    _receive(call_channel, "transcription", transcription_params("CA0150", "Call me."))
    failed = {**transcription_params("CA0150", ""), "TranscriptionStatus": "failed"}
    _receive(call_channel, "transcription", failed)

    call = Call.objects.get()
    assert (call.transcript_status, call.transcript) == ("completed", "Call me.")


def test_a_recording_url_that_is_not_http_is_not_kept(call_channel):
    params = {**recording_params("CA0160"), "RecordingUrl": "javascript:alert(1)"}
    _receive(call_channel, "recording", params)

    assert Call.objects.get().recording_url == ""
    assert Message.objects.count() == 0


def test_a_callback_processed_once_is_not_processed_again(call_channel):
    callback = _receive(call_channel, "status", status_params("CA0170", "busy"))

    assert services.process_callback(callback.pk) is None
    assert CallCallback.objects.get().attempts == 1


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        pytest.param("AC" + "0123456789abcdef" * 2, True, id="sid"),
        pytest.param("AC" + "0123456789ABCDEF" * 2, True, id="upper-case"),
        pytest.param("AC" + "0" * 31, False, id="short"),
        pytest.param("SK" + "0" * 32, False, id="api-key"),
        pytest.param("AC" + "g" * 32, False, id="not-hex"),
    ],
)
def test_account_sids(value, valid):
    assert numbers.is_account_sid(value) is valid


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        pytest.param("+46 70-123 45 67", "+46701234567", id="spaced"),
        pytest.param("0046701234567", "+46701234567", id="00-prefix"),
        pytest.param("anonymous", "anonymous", id="anonymous"),
        pytest.param("+266696687", "+266696687", id="anonymous-digits"),
    ],
)
def test_callers_numbers(raw, kept):
    assert numbers.normalise_or_keep(raw) == kept


def test_the_sweep_gives_up_after_its_tries(call_channel, monkeypatch):
    monkeypatch.setattr(services, "_merge", lambda *a, **k: 1 / 0)
    callback = _receive(call_channel, "status", status_params("CA0180", "busy"))
    CallCallback.objects.filter(pk=callback.pk).update(attempts=services.MAX_ATTEMPTS)

    assert services.sweep(now=timezone.now() + dt.timedelta(minutes=1)).retried == 0
    assert CallCallback.objects.get().attempts == services.MAX_ATTEMPTS


def test_a_callback_takes_few_queries(call_channel, django_assert_max_num_queries):
    """The request path stays lean: one transaction stores (INSERT), one processes (the
    callback and the call read locked, both updated); 4 more are the test's savepoints."""
    _receive(call_channel, "voice", voice_params("CA0190"))
    with django_assert_max_num_queries(9):
        _receive(call_channel, "status", status_params("CA0190", "in-progress"))
