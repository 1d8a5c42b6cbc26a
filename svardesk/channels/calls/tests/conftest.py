"""Fixtures of the calls channel's tests: a connected number, and a provider that signs its
callbacks with `twilio`'s own RequestValidator and posts them over real HTTP."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
from twilio.request_validator import RequestValidator

from svardesk.channels.calls.models import CallChannel

NUMBER = "+46812345678"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f00dfeed" * 4
CALLER = "+46701234567"


@pytest.fixture
def call_channel(db) -> CallChannel:
    from svardesk.channels.calls.services import connect_call_channel
    from tests.factories import default_pipeline

    default_pipeline()
    return connect_call_channel(
        actor=None, phone_number=NUMBER, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN
    )


@dataclass
class Answer:
    status: int
    body: str
    content_type: str


class Provider:
    """Posts callbacks as Twilio does: form-encoded, signed over the URL it calls."""

    def __init__(self, base_url: str, call_channel: CallChannel) -> None:
        self.base_url = base_url
        self.call_channel = call_channel

    def url(self, kind: str) -> str:
        from svardesk.channels.calls.services import webhook_path

        return f"{self.base_url}{webhook_path(self.call_channel, kind)}"

    def post(
        self,
        kind: str,
        params: dict[str, str],
        *,
        token: str = AUTH_TOKEN,
        signature: str | None = None,
        url: str | None = None,
    ) -> Answer:
        target = url or self.url(kind)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signature is None:
            signature = RequestValidator(token).compute_signature(target, params)
        if signature:
            headers["X-Twilio-Signature"] = signature
        # The live server's http URL, never file: or another scheme.
        request = urllib.request.Request(  # noqa: S310
            target,
            data=urllib.parse.urlencode(params).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return Answer(
                    response.status,
                    response.read().decode(),
                    response.headers.get("Content-Type", ""),
                )
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.read().decode(), error.headers.get("Content-Type", ""))


@pytest.fixture
def provider(live_server, settings, call_channel) -> Provider:
    # The provider signs the public URL: BASE_URL is where it reaches us.
    settings.BASE_URL = live_server.url
    return Provider(live_server.url, call_channel)


def voice_params(call_sid: str, *, caller: str = CALLER, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": ACCOUNT_SID,
        "From": caller,
        "To": NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def status_params(call_sid: str, status: str, *, caller: str = CALLER, duration: str = "") -> dict:
    params = voice_params(call_sid, caller=caller, CallStatus=status)
    if duration:
        params["CallDuration"] = duration
    return params


def recording_params(call_sid: str, *, duration: str = "17") -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": call_sid,
        "RecordingSid": "RE" + "1" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'1' * 32}",
        "RecordingStatus": "completed",
        "RecordingDuration": duration,
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }


def transcription_params(call_sid: str, text: str, *, caller: str = CALLER) -> dict[str, str]:
    return {
        **voice_params(call_sid, caller=caller, CallStatus="completed"),
        "TranscriptionSid": "TR" + "2" * 32,
        "TranscriptionText": text,
        "TranscriptionStatus": "completed",
        "TranscriptionUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Transcriptions/TR{'2' * 32}",
        "RecordingSid": "RE" + "1" * 32,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'1' * 32}",
    }


@pytest.fixture(autouse=True)
def _process_in_the_request(settings):  # type: ignore[no-untyped-def]
    """Callbacks are processed in their request (no worker runs in tests); test_batches.py
    sets a delay to test the worker's batches."""
    settings.INBOUND_PROCESSING_DELAY = 0
