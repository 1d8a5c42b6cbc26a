"""The visitor token: which visitor a browser is, signed by the server (django.core.signing)
and kept in the browser's localStorage, so a reload resumes the chat. It names the channel
too: a token from one widget is refused by another."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing

SALT = "svardesk.chat.visitor"
MAX_AGE_SECONDS = 400 * 24 * 3600  # a returning visitor within a year and a bit


@dataclass(frozen=True)
class VisitorToken:
    chat_channel_id: int
    public_id: str


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def sign_visitor(token: VisitorToken) -> str:
    return signing.dumps({"c": token.chat_channel_id, "v": token.public_id}, salt=SALT)


def read_visitor(value: object, *, chat_channel_id: int) -> VisitorToken | None:
    """The token's visitor if `value` is a token we signed for this channel, else None."""
    if not isinstance(value, str) or not value or len(value) > 512:
        return None
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict):
        return None
    channel_id, public_id = data.get("c"), data.get("v")
    if channel_id != chat_channel_id or not isinstance(public_id, str) or not public_id:
        return None
    if len(public_id) > 32:
        return None
    return VisitorToken(chat_channel_id=chat_channel_id, public_id=public_id)
