"""The provider's webhooks over real HTTP (live_server), signed with twilio's own validator:
what is refused stores nothing; what is accepted is stored, then merged into one call and one
message however often and in whatever order it comes."""

from __future__ import annotations

import pytest

from svardesk.channels.calls.models import Call, CallCallback, CallChannel
from svardesk.conversations.models import Conversation, Message
from svardesk.crm.models import Contact, ContactPhone
from svardesk.crm.services import create_contact
from svardesk.tickets.models import Source, Ticket

from .conftest import (
    AUTH_TOKEN,
    CALLER,
    recording_params,
    status_params,
    transcription_params,
    voice_params,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _nothing_stored() -> None:
    assert CallCallback.objects.count() == 0
    assert Call.objects.count() == 0
    assert Message.objects.count() == 0
    assert Ticket.objects.count() == 0
    assert Contact.objects.count() == 0


def test_an_incoming_call_is_answered_with_a_greeting_and_a_transcribed_recording(provider):
    answer = provider.post("voice", voice_params("CA0001"))

    assert answer.status == 200
    assert answer.content_type.startswith("text/xml")
    assert "<Say" in answer.body
    assert "Please leave a message" in answer.body
    assert 'transcribe="true"' in answer.body
    assert f'transcribeCallback="{provider.url("transcription")}"' in answer.body
    assert f'recordingStatusCallback="{provider.url("recording")}"' in answer.body
    assert f'action="{provider.url("voice")}"' in answer.body
    callback = CallCallback.objects.get()
    assert (callback.kind, callback.call_sid, callback.error) == ("voice", "CA0001", "")
    assert callback.params["From"] == CALLER
    assert callback.processed_at is not None
    call = Call.objects.get()
    assert (call.from_number, call.status, call.message_id) == (CALLER, "ringing", None)
    assert Message.objects.count() == 0  # a call going on is no ticket yet


def test_the_greeting_is_in_the_channels_language(provider, call_channel):
    CallChannel.objects.filter(pk=call_channel.pk).update(language="sv")

    answer = provider.post("voice", voice_params("CA0002"))

    assert answer.status == 200
    assert 'language="sv-SE"' in answer.body  # the text: Swedish once the catalogue has it


def test_the_recordings_end_is_told_to_hang_up(provider):
    answer = provider.post("voice", {**voice_params("CA0003"), **recording_params("CA0003")})

    assert answer.status == 200
    assert "<Hangup" in answer.body
    assert "<Record" not in answer.body


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("", id="missing"),
        pytest.param("bm90IGEgc2lnbmF0dXJlIGF0IGFsbCE=", id="forged"),
    ],
)
@pytest.mark.parametrize("kind", ["voice", "status", "recording", "transcription"])
def test_an_unsigned_or_forged_callback_is_refused_and_nothing_is_stored(provider, kind, signature):
    answer = provider.post(kind, status_params("CA0004", "no-answer"), signature=signature)

    assert answer.status == 403
    _nothing_stored()


def test_a_callback_signed_with_another_token_or_url_is_refused(provider, live_server):
    params = status_params("CA0005", "busy")
    wrong_token = provider.post("status", params, token="another-token")
    # Signed for the voice URL, sent to the status URL.
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(AUTH_TOKEN).compute_signature(provider.url("voice"), params)
    wrong_url = provider.post("status", params, signature=signature)

    assert (wrong_token.status, wrong_url.status) == (403, 403)
    _nothing_stored()


def test_an_unknown_key_is_refused(provider):
    url = provider.url("status").replace(provider.call_channel.url_key, "nope")
    answer = provider.post("status", status_params("CA0006", "busy"), url=url)

    assert answer.status == 403
    _nothing_stored()


def test_a_signed_callback_without_callsid_is_kept_with_its_error(provider):
    answer = provider.post("status", {"AccountSid": "AC1", "CallStatus": "busy"})

    assert answer.status == 400
    assert "CallSid" in answer.body
    callback = CallCallback.objects.get()
    assert callback.call_sid == ""
    assert callback.params == {"AccountSid": "AC1", "CallStatus": "busy"}
    assert "CallSid" in callback.error
    assert callback.processed_at is None
    assert Call.objects.count() == 0
    assert Message.objects.count() == 0


def test_a_missed_call_starts_a_ticket_with_a_new_contact_named_by_the_number(provider):
    provider.post("voice", voice_params("CA0010"))
    answer = provider.post("status", status_params("CA0010", "no-answer"))

    assert answer.status == 204
    message = Message.objects.get()
    assert message.subject == "Missed call from +46 70 123 45 67"
    assert message.message_id == "call:CA0010"
    assert "Status: No answer" in message.body_text
    ticket = Ticket.objects.get()
    assert ticket.source == Source.CALL
    assert ticket.name == "Missed call from +46 70 123 45 67"
    contact = Contact.objects.get()
    assert contact.display_name == "+46 70 123 45 67"
    assert list(ContactPhone.objects.values_list("number", flat=True)) == [CALLER]
    assert ticket.contact_id == contact.pk
    assert message.contact_id == contact.pk
    assert Call.objects.get().contact_id == contact.pk


def test_duplicate_callbacks_make_one_message(provider):
    for _ in range(2):
        provider.post("voice", voice_params("CA0020"))
        provider.post("status", status_params("CA0020", "busy"))

    assert CallCallback.objects.count() == 4
    assert Call.objects.count() == 1
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_callbacks_out_of_order_make_one_voicemail_with_recording_and_transcript(provider):
    provider.post("transcription", transcription_params("CA0030", "Hi, my order 1234 is late."))
    provider.post("recording", recording_params("CA0030", duration="17"))
    provider.post("status", status_params("CA0030", "completed", duration="42"))
    provider.post("status", status_params("CA0030", "ringing"))  # late and stale

    assert Ticket.objects.count() == 1
    message = Message.objects.get()
    assert message.subject == "Voicemail from +46 70 123 45 67"
    assert recording_params("CA0030")["RecordingUrl"] in message.body_text
    assert "Hi, my order 1234 is late." in message.body_text
    assert "Call duration: 0:42" in message.body_text
    assert "Recording length: 0:17" in message.body_text
    call = Call.objects.get()
    assert call.status == "completed"
    assert call.duration == 42
    assert CallCallback.objects.filter(processed_at__isnull=True).count() == 0


def test_a_transcript_after_the_voicemail_updates_its_message(provider):
    provider.post("voice", voice_params("CA0040"))
    provider.post("recording", recording_params("CA0040"))
    message = Message.objects.get()
    assert "Transcript: not received yet." in message.body_text

    provider.post("transcription", transcription_params("CA0040", "Please call me back."))
    provider.post("status", status_params("CA0040", "completed", duration="30"))

    message.refresh_from_db()
    assert "Please call me back." in message.body_text
    assert "not received yet" not in message.body_text
    assert Message.objects.count() == 1


def test_a_known_number_in_another_format_attaches_to_its_contact(provider):
    known = create_contact(actor=None, first_name="Kim", last_name="Kund", phones=["070-123 45 67"])

    provider.post("status", status_params("CA0050", "no-answer", caller="+46 70 123 45 67"))

    assert Contact.objects.count() == 1
    ticket = Ticket.objects.get()
    assert ticket.contact_id == known.pk
    assert Message.objects.get().sender_name == "Kim Kund"


def test_a_second_call_from_the_same_number_continues_the_conversation(provider):
    provider.post("status", status_params("CA0060", "no-answer"))
    provider.post("voice", voice_params("CA0061"))
    provider.post("recording", recording_params("CA0061"))

    assert Ticket.objects.count() == 1
    assert Conversation.objects.count() == 1
    assert Message.objects.count() == 2
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("caller", ["anonymous", "+266696687"])
def test_a_withheld_number_gets_no_contact(provider, caller):
    provider.post("status", status_params("CA0070", "no-answer", caller=caller))
    provider.post("status", status_params("CA0071", "busy", caller=caller))

    assert Contact.objects.count() == 0
    assert Ticket.objects.count() == 2  # nothing ties two withheld calls together
    assert set(Message.objects.values_list("subject", flat=True)) == {
        "Missed call from a withheld number"
    }


def test_a_disconnected_number_refuses_its_webhooks(provider, call_channel):
    from svardesk.channels.calls.services import disconnect_call_channel

    # The server process has looked the channel up (and keeps it a few seconds) before.
    assert provider.post("voice", voice_params("CA0079")).status == 200
    CallCallback.objects.all().delete()
    Call.objects.all().delete()
    disconnect_call_channel(call_channel, actor=None)

    assert provider.post("status", status_params("CA0080", "busy")).status == 403
    _nothing_stored()
