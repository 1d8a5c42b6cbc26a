"""HubSpot's v3 request signature, so a receiver written for HubSpot's webhooks verifies ours:
base64(HMAC-SHA256(secret, method + URI + body + timestamp)), the timestamp in epoch
milliseconds and sent beside it."""

from __future__ import annotations

import base64
import hashlib
import hmac


def signature_v3(secret: str, *, method: str, uri: str, body: str, timestamp: str) -> str:
    source = f"{method}{uri}{body}{timestamp}".encode()
    digest = hmac.new(secret.encode(), msg=source, digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_headers(secret: str, *, uri: str, body: str, timestamp_ms: int) -> dict[str, str]:
    """The headers of a signed POST of `body` to `uri`."""
    timestamp = str(timestamp_ms)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(
            secret, method="POST", uri=uri, body=body, timestamp=timestamp
        ),
        "X-HubSpot-Signature-Version": "v3",
        "X-HubSpot-Request-Timestamp": timestamp,
    }
