"""Calls: calls logged by agents are the ticket's (`tickets.calls`); this channel brings calls
in from a Twilio-compatible telephony provider (voice webhook, status, recording and
transcription callbacks), so a missed call or a voicemail creates or continues the caller's
ticket."""
