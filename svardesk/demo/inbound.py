"""What a telephony provider and Facebook would send to the demo's channels, sent the way they
send it: signed HTTP POSTs to the running server's webhooks (settings.BASE_URL), so a trial
user sees a voicemail or a Messenger message become a ticket end to end without a Twilio
account or a Facebook app (`svardesk demo_inbound call|messenger`).

The signatures are made with the channel's own secrets: Twilio's `RequestValidator` for
calls, HMAC-SHA256 of the body with the app secret for Messenger — exactly what the
webhooks check.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from svardesk.channels.calls.models import CallChannel
from svardesk.channels.calls.services import webhook_urls
from svardesk.channels.messenger.models import MessengerPage
from svardesk.channels.messenger.views import webhook_url
from svardesk.core.crypto import decrypt_secret
from svardesk.demo.channels import DEMO_CALL_NUMBER, DEMO_PAGE_ID

TIMEOUT = 30


class DemoInboundError(Exception):
    """The demo channel is missing, or the server refused or could not be reached."""


@dataclass(frozen=True)
class Sent:
    url: str
    status: int


def _post(url: str, body: bytes, headers: dict[str, str]) -> Sent:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return Sent(url, response.status)
    except urllib.error.HTTPError as exc:
        raise DemoInboundError(f"{url} answered {exc.code}") from exc
    except OSError as exc:
        raise DemoInboundError(
            f"{url} could not be reached ({exc}); is `svardesk serve` running there?"
        ) from exc


def simulate_call(*, caller: str, transcript: str, missed: bool = False) -> list[Sent]:
    """A call to the demo number: ringing, then (unless `missed`) a voicemail with its
    recording and transcript, then the final status — four signed callbacks."""
    call_channel = (
        CallChannel.objects.filter(phone_number=DEMO_CALL_NUMBER, channel__is_active=True)
        .order_by("-pk")
        .first()
    )
    if call_channel is None:
        raise DemoInboundError("The demo has no calls channel: run `svardesk demo` first.")
    validator = RequestValidator(decrypt_secret(call_channel.auth_token_encrypted))
    urls = webhook_urls(call_channel)  # from settings.BASE_URL, as the server checks them
    call_sid = "CA" + secrets.token_hex(16)
    common = {
        "AccountSid": call_channel.account_sid,
        "CallSid": call_sid,
        "From": caller,
        "To": call_channel.phone_number,
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
    }
    steps: list[tuple[str, dict[str, str]]] = [("voice", {**common, "CallStatus": "ringing"})]
    recording_sid = "RE" + secrets.token_hex(16)
    if not missed:
        recording_url = f"https://api.twilio.com/2010-04-01/Accounts/{call_channel.account_sid}/Recordings/{recording_sid}"
        steps += [
            (
                "recording",
                {
                    **common,
                    "RecordingSid": recording_sid,
                    "RecordingUrl": recording_url,
                    "RecordingStatus": "completed",
                    "RecordingDuration": "14",
                },
            ),
            (
                "transcription",
                {
                    **common,
                    "RecordingSid": recording_sid,
                    "RecordingUrl": recording_url,
                    "TranscriptionSid": "TR" + secrets.token_hex(16),
                    "TranscriptionStatus": "completed",
                    "TranscriptionText": transcript,
                },
            ),
        ]
    final = "no-answer" if missed else "completed"
    steps.append(
        ("status", {**common, "CallStatus": final, "CallDuration": "0" if missed else "21"})
    )
    sent = []
    for kind, params in steps:
        url = urls[kind]
        body = urllib.parse.urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }
        sent.append(_post(url, body, headers))
    return sent


def simulate_messenger_message(*, psid: str, text: str) -> Sent:
    """A message to the demo Page from the person `psid`, as Meta delivers it."""
    page = (
        MessengerPage.objects.filter(page_id=DEMO_PAGE_ID, channel__is_active=True)
        .order_by("-pk")
        .first()
    )
    if page is None:
        raise DemoInboundError("The demo has no Messenger page: run `svardesk demo` first.")
    now_ms = int(time.time() * 1000)
    event = {
        "object": "page",
        "entry": [
            {
                "id": page.page_id,
                "time": now_ms,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": page.page_id},
                        "timestamp": now_ms,
                        "message": {"mid": "m_demo_" + secrets.token_hex(12), "text": text},
                    }
                ],
            }
        ],
    }
    body = json.dumps(event).encode()
    digest = hmac.new(
        decrypt_secret(page.app_secret_encrypted).encode(), body, hashlib.sha256
    ).hexdigest()
    url = webhook_url(page)
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={digest}"}
    return _post(url, body, headers)
