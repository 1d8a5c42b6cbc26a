"""With a processing delay the webhooks only store their callbacks (the voice webhook still
answers its TwiML at once) and one batch task per burst is scheduled; the batch merges each
call's callbacks — duplicated, out of order — into one call and one message."""

from __future__ import annotations

import pytest

from svardesk.channels.calls import services
from svardesk.channels.calls.models import Call, CallCallback
from svardesk.conversations.models import Message
from svardesk.tickets.models import Ticket

from .conftest import recording_params, status_params, transcription_params, voice_params

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_CALLER = "+46709876543"


@pytest.fixture
def deferred(settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A delay, tasks not run (the queue in its own file): the webhooks only store."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import SqliteStorage

    settings.INBOUND_PROCESSING_DELAY = 1.0
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(
        HUEY, "storage", SqliteStorage(name="calls-batches", filename=str(tmp_path / "q.db"))
    )
    return HUEY


def test_the_webhooks_only_store_and_the_voice_webhook_still_answers(provider, deferred):
    voice = provider.post("voice", voice_params("CA0100"))
    status = provider.post("status", status_params("CA0100", "no-answer"))

    assert voice.status == 200
    assert voice.content_type.startswith("text/xml")
    assert "<Record" in voice.body
    assert status.status == 204
    assert CallCallback.objects.filter(processed_at__isnull=True).count() == 2
    assert Call.objects.count() == 0
    assert Message.objects.count() == 0
    assert deferred.pending_count() + deferred.scheduled_count() == 1  # one batch for both


def test_one_batch_merges_duplicated_and_out_of_order_callbacks_once(provider, deferred):
    # A voicemail whose callbacks come out of order and twice, a missed call, and a stale
    # status after the final one.
    provider.post("transcription", transcription_params("CA0200", "Call me about 1234."))
    provider.post("recording", recording_params("CA0200", duration="17"))
    provider.post("recording", recording_params("CA0200", duration="17"))
    provider.post("status", status_params("CA0200", "completed", duration="42"))
    provider.post("status", status_params("CA0200", "ringing"))
    provider.post("voice", voice_params("CA0201", caller=OTHER_CALLER))
    provider.post("status", status_params("CA0201", "busy", caller=OTHER_CALLER))
    provider.post("status", status_params("CA0201", "busy", caller=OTHER_CALLER))

    assert services.process_pending_batches() == 8

    assert CallCallback.objects.filter(processed_at__isnull=True).count() == 0
    assert CallCallback.objects.exclude(error="").count() == 0
    voicemail = Call.objects.get(call_sid="CA0200")
    assert (voicemail.status, voicemail.duration, voicemail.recording_duration) == (
        "completed",
        42,
        17,
    )
    assert "Call me about 1234." in voicemail.message.body_text
    missed = Call.objects.get(call_sid="CA0201")
    assert missed.status == "busy"
    assert Message.objects.count() == 2
    assert Ticket.objects.count() == 2
    # Nothing twice: the next batch finds nothing, a late duplicate changes nothing.
    assert services.process_pending_batches() == 0
    provider.post("status", status_params("CA0201", "busy", caller=OTHER_CALLER))
    assert services.process_pending_batches() == 1
    assert Message.objects.count() == 2
    assert Call.objects.count() == 2


def test_a_later_batch_completes_a_call_an_earlier_batch_began(provider, deferred):
    provider.post("voice", voice_params("CA0300"))
    provider.post("recording", recording_params("CA0300"))
    services.process_pending_batches()
    assert Message.objects.count() == 1
    assert "Call me" not in Message.objects.get().body_text

    provider.post("transcription", transcription_params("CA0300", "Call me back."))
    services.process_pending_batches()

    assert Message.objects.count() == 1
    assert "Call me back." in Message.objects.get().body_text


def test_a_failed_batch_is_processed_callback_by_callback(provider, deferred, monkeypatch):
    provider.post("status", status_params("CA0400", "no-answer"))
    provider.post("status", status_params("CA0401", "busy", caller=OTHER_CALLER))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the batch broke")

    monkeypatch.setattr(services, "process_batch", broken)
    services.process_pending_batches()

    assert sorted(Call.objects.values_list("call_sid", flat=True)) == ["CA0400", "CA0401"]
    assert Message.objects.count() == 2
    assert CallCallback.objects.filter(processed_at__isnull=True).count() == 0


def test_a_callers_second_call_in_the_same_batch_continues_their_conversation(provider, deferred):
    for sid in ("CA0500", "CA0501"):
        provider.post("voice", voice_params(sid))
        provider.post("status", status_params(sid, "no-answer"))
    provider.post("status", status_params("CA0502", "busy", caller=OTHER_CALLER))

    services.process_pending_batches()

    first, second, other = (Call.objects.get(call_sid=s) for s in ("CA0500", "CA0501", "CA0502"))
    assert first.message.conversation_id == second.message.conversation_id
    assert first.contact_id == second.contact_id is not None
    assert other.message.conversation_id != first.message.conversation_id
    assert other.contact_id not in (None, first.contact_id)
    assert Ticket.objects.count() == 2
    assert first.message.contact_id == first.contact_id


def test_the_sweep_leaves_a_waiting_batch_its_callbacks_unless_the_batch_was_lost(
    provider, deferred
):
    import datetime as dt

    from django.utils import timezone

    provider.post("status", status_params("CA0600", "no-answer"))

    assert services.sweep(now=timezone.now() + dt.timedelta(minutes=1)).retried == 0
    assert Message.objects.count() == 0
    assert services.sweep(now=timezone.now() + dt.timedelta(minutes=3)).retried == 1
    assert Message.objects.count() == 1


def test_new_callers_of_a_batch_cost_no_statements_of_their_own(call_channel):
    """A batch's new callers get their contacts (with the number) in one INSERT per table, and
    the messages carry them from the start: each further call costs one statement, its own
    row's UPDATE, however new its caller."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from svardesk.core.local_cache import clear_local_cache
    from svardesk.crm.models import ContactPhone

    def batch_of_new_callers(prefix: str, count: int) -> int:
        now = timezone.now()
        ids = [
            services.store_callback(
                call_channel,
                kind="status",
                params=status_params(
                    f"CA{prefix}{n:04d}", "no-answer", caller=f"+4670{prefix}{n:06d}"
                ),
                now=now,
            ).pk
            for n in range(count)
        ]
        clear_local_cache()  # each batch starts cold: the per-process caches expire by time
        with CaptureQueriesContext(connection) as run:
            calls = services.process_batch(ids)
        assert len(calls) == count
        return len(run.captured_queries)

    batch_of_new_callers("1", 1)  # rows made on first use (the help desk's settings)

    two, nine = batch_of_new_callers("2", 2), batch_of_new_callers("3", 9)
    assert nine - two == 9 - 2

    calls = list(Call.objects.filter(call_sid__startswith="CA3").select_related("message"))
    assert len(calls) == 9
    assert len({c.contact_id for c in calls}) == 9
    for call in calls:
        phone = ContactPhone.objects.get(contact_id=call.contact_id)
        assert phone.number == call.from_number
        assert call.message.contact_id == call.contact_id
        assert call.message.conversation.contact_id == call.contact_id
        assert call.message.conversation.ticket.contact_id == call.contact_id
