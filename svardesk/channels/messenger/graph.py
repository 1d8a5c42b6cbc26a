"""The few Graph API calls the channel makes: a sender's profile, a file a person sent, and
the Send API. The base URL and version are settings (GRAPH_API_URL, GRAPH_API_VERSION), so
tests talk to a local fake Graph server.

The page access token travels in the query string (as Meta documents it), so it must never
reach a log or an error message: every failure is raised as GraphError with the token
scrubbed out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import requests
from django.conf import settings

TIMEOUT_SECONDS = 10.0
FILE_TIMEOUT_SECONDS = 15.0
# Messenger refuses a text over 2,000 characters: a longer reply goes out in parts.
MAX_TEXT_CHARS = 2000

_session = requests.Session()
# Profile lookups of a burst of new people run side by side (services.PROFILE_FETCHERS per
# batch, two batches at once): keep that many connections to Graph open, not requests' 10.
POOL_CONNECTIONS = 32
for _scheme in ("https://", "http://"):
    _session.mount(_scheme, requests.adapters.HTTPAdapter(pool_maxsize=POOL_CONNECTIONS))


class GraphError(RuntimeError):
    """A Graph API call failed; the message is Graph's own (never the token)."""


class FileTooLargeError(GraphError):
    """A person's file is larger than the help desk takes."""


@dataclass(frozen=True)
class Profile:
    first_name: str
    last_name: str


@dataclass(frozen=True)
class FetchedFile:
    payload: bytes
    content_type: str
    filename: str


def _url(path: str) -> str:
    return f"{settings.GRAPH_API_URL}/{settings.GRAPH_API_VERSION}/{path.lstrip('/')}"


def _scrub(text: str, token: str) -> str:
    if not token:
        return text
    for form in {token, quote(token, safe=""), quote_plus(token)}:
        text = text.replace(form, "…")
    return text


def _graph_message(response: requests.Response) -> str:
    """Graph's own error text ({"error": {"message", "type", "code"}}), else the status."""
    try:
        data = response.json()
    except ValueError:
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "").strip()
        code = error.get("code")
        detail = f" (code {code})" if code is not None else ""
        return f"Graph API: {message or 'error'}{detail}; HTTP {response.status_code}"
    return f"Graph API answered HTTP {response.status_code}"


def _call(method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = _session.request(
            method,
            _url(path),
            params={**kwargs.pop("params", {}), "access_token": token},
            timeout=TIMEOUT_SECONDS,
            **kwargs,
        )
    except requests.RequestException as exc:
        # requests puts the URL (and so the token) in its messages.
        raise GraphError(
            _scrub(f"Graph API unreachable: {type(exc).__name__}: {exc}", token)
        ) from None
    if not 200 <= response.status_code < 300:
        raise GraphError(_scrub(_graph_message(response), token))
    try:
        data = response.json()
    except ValueError:
        raise GraphError(f"Graph API answered HTTP {response.status_code} without JSON") from None
    if not isinstance(data, dict):
        raise GraphError("Graph API answered something other than a JSON object")
    if isinstance(data.get("error"), dict):
        raise GraphError(_scrub(_graph_message(response), token))
    return data


def fetch_profile(psid: str, *, token: str) -> Profile:
    """The person's name as the Page may see it (needs the token's profile permission)."""
    data = _call(
        "GET", quote(psid, safe=""), token, params={"fields": "first_name,last_name,profile_pic"}
    )
    return Profile(
        first_name=str(data.get("first_name") or "")[:100],
        last_name=str(data.get("last_name") or "")[:100],
    )


def send_text(psid: str, text: str, *, token: str) -> list[str]:
    """Send `text` to the person (in parts of at most MAX_TEXT_CHARS); their message ids."""
    ids: list[str] = []
    for start in range(0, max(len(text), 1), MAX_TEXT_CHARS):
        data = _call(
            "POST",
            "me/messages",
            token,
            json={
                "recipient": {"id": psid},
                "messaging_type": "RESPONSE",
                "message": {"text": text[start : start + MAX_TEXT_CHARS]},
            },
        )
        ids.append(str(data.get("message_id") or ""))
    return ids


def send_file(psid: str, *, filename: str, content_type: str, payload: bytes, token: str) -> str:
    """Upload one file to the person (multipart, as the Send API takes attachments)."""
    data = _call(
        "POST",
        "me/messages",
        token,
        data={
            "recipient": json.dumps({"id": psid}),
            "messaging_type": "RESPONSE",
            "message": json.dumps(
                {"attachment": {"type": "file", "payload": {"is_reusable": False}}}
            ),
        },
        files={"filedata": (filename, payload, content_type or "application/octet-stream")},
    )
    return str(data.get("message_id") or "")


def _filename(url: str, content_type: str, kind: str) -> str:
    name = urlsplit(url).path.rsplit("/", 1)[-1][:150]
    if name and "." in name:
        return name
    extension = {
        "image/jpeg": ".jpg",
        "image/png": ".png",
        "image/gif": ".gif",
        "video/mp4": ".mp4",
        "audio/mpeg": ".mp3",
        "application/pdf": ".pdf",
    }.get(content_type, "")
    return f"{kind or 'file'}{extension}"


def fetch_file(url: str, *, max_bytes: int, kind: str = "file") -> FetchedFile:
    """Download a file a person sent (Meta's CDN URL from the signed webhook), at most
    `max_bytes` (FileTooLargeError beyond), with a timeout."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise GraphError("The attachment's address is not http(s)")
    try:
        with _session.get(url, stream=True, timeout=FILE_TIMEOUT_SECONDS) as response:
            if response.status_code != 200:
                raise GraphError(
                    f"The attachment could not be fetched: HTTP {response.status_code}"
                )
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLargeError(f"The attachment is {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLargeError(f"The attachment is over {max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    except requests.RequestException as exc:
        raise GraphError(f"The attachment could not be fetched: {type(exc).__name__}") from None
    content_type = content_type or "application/octet-stream"
    return FetchedFile(
        payload=b"".join(chunks),
        content_type=content_type,
        filename=_filename(url, content_type, kind),
    )
