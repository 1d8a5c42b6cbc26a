"""What the provider is told to do with an incoming call (TwiML, built by `twilio`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from svardesk.channels.calls.models import CallChannel

# The <Say> voices' language per settings.LANGUAGES code.
SAY_LANGUAGES = {"en": "en-US", "sv": "sv-SE"}
MAX_RECORDING_SECONDS = 180


def voice_response(call_channel: CallChannel, params: Mapping[str, Any]) -> str:
    """A short greeting in the channel's language, then a voicemail recording transcribed
    and reported to the sibling webhooks. When the recording ends the provider asks the
    voice URL again (with RecordingUrl): that request is told to hang up."""
    from svardesk.channels.calls.services import webhook_urls

    response = VoiceResponse()
    if params.get("RecordingUrl"):
        response.hangup()
        return str(response)
    urls = webhook_urls(call_channel)
    with translation.override(call_channel.language):
        greeting = _(
            "Thank you for calling. Nobody can take your call right now. Please leave a "
            "message after the tone, and we will get back to you."
        )
    response.say(greeting, language=SAY_LANGUAGES.get(call_channel.language, "en-US"))
    response.record(
        action=urls["voice"],
        method="POST",
        max_length=MAX_RECORDING_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=urls["transcription"],
        recording_status_callback=urls["recording"],
        recording_status_callback_method="POST",
    )
    response.hangup()
    return str(response)
