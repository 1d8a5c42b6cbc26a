"""Our own outgoing Message-IDs carry an HMAC so a reply that cites one threads for certain,
and a forged or foreign id that merely looks like ours is never trusted.

Format: <sd.{token}.{signature}@{domain}> — token is random, signature is the first 20 hex
digits of HMAC-SHA256(install secret, token).
"""

import hashlib
import hmac
import re
import secrets

from django.conf import settings

_OURS = re.compile(r"^<?sd\.(?P<token>[0-9a-f]{24})\.(?P<sig>[0-9a-f]{20})@(?P<domain>[^>\s]+)>?$")


def _signature(token: str) -> str:
    return hmac.new(_key(), token.encode(), hashlib.sha256).hexdigest()[:20]


def _key() -> bytes:
    return hashlib.sha256(b"svardesk-message-id:" + settings.SECRET_KEY.encode()).digest()


def make_message_id(domain: str, *, key: str = "") -> str:
    """A new signed Message-ID on `domain` (the channel address's domain), with angle brackets.
    With `key` the id is the same every time for that key (an automatic message sent once
    however often it is asked for); the token is still unguessable without the secret."""
    if key:
        token = hmac.new(_key(), b"auto:" + key.encode(), hashlib.sha256).hexdigest()[:24]
    else:
        token = secrets.token_hex(12)
    return f"<sd.{token}.{_signature(token)}@{domain}>"


def is_signed_message_id(message_id: str) -> bool:
    """True only for ids this install made: the signature must verify."""
    match = _OURS.match(message_id.strip())
    if not match:
        return False
    return hmac.compare_digest(match["sig"], _signature(match["token"]))
