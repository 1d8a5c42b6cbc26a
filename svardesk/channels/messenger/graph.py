"""The few Graph API calls the channel makes: a sender's profile, a file a person sent, and
the Send API. The base URL and version are settings (GRAPH_API_URL, GRAPH_API_VERSION), so
tests talk to a local fake Graph server.

The page access token travels in the query string (as Meta documents it), so it must never
reach a log or an error message: every failure is raised as GraphError with the token
scrubbed out.
"""

from __future__ import annotations

import functools
import json
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

import urllib3
from django.conf import settings

TIMEOUT_SECONDS = 10.0
FILE_TIMEOUT_SECONDS = 15.0
# Messenger refuses a text over 2,000 characters: a longer reply goes out in parts.
MAX_TEXT_CHARS = 2000

# Profile lookups of a burst of new people run side by side (services.PROFILE_FETCHERS per
# batch, two batches at once): keep that many connections to a host open.
POOL_CONNECTIONS = 32
# urllib3 directly: requests' session costs ~0.7 ms more CPU a call (it merges the proxy,
# netrc and certificate settings from the environment on every request), and a burst of new
# people is one call each.
_TIMEOUT = urllib3.Timeout(total=TIMEOUT_SECONDS)
_FILE_TIMEOUT = urllib3.Timeout(total=FILE_TIMEOUT_SECONDS)
# A file's CDN address may redirect; a failed connection or read is not tried again (the
# delivery's retry does that).
_CDN_RETRIES = urllib3.Retry(connect=0, read=0, status=0, redirect=5)


@functools.lru_cache(maxsize=64)
def _pool(scheme: str, host: str) -> urllib3.PoolManager:
    """The connection pool for a host, through the proxy the environment names for it
    (HTTPS_PROXY / HTTP_PROXY, NO_PROXY), as requests would choose; read once a process."""
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        return urllib3.ProxyManager(proxy, maxsize=POOL_CONNECTIONS, block=False)
    return urllib3.PoolManager(maxsize=POOL_CONNECTIONS, block=False)


def _request(method: str, url: str, **kwargs: Any) -> urllib3.BaseHTTPResponse:
    parts = urlsplit(url)
    return _pool(parts.scheme, parts.hostname or "").request(method, url, **kwargs)


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


def _json(response: urllib3.BaseHTTPResponse) -> Any:
    try:
        return json.loads(response.data)
    except ValueError:  # not JSON (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        return None


def _graph_message(response: urllib3.BaseHTTPResponse) -> str:
    """Graph's own error text ({"error": {"message", "type", "code"}}), else the status."""
    data = _json(response)
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "").strip()
        code = error.get("code")
        detail = f" (code {code})" if code is not None else ""
        return f"Graph API: {message or 'error'}{detail}; HTTP {response.status}"
    return f"Graph API answered HTTP {response.status}"


def _call(
    method: str,
    path: str,
    token: str,
    *,
    params: dict[str, str] | None = None,
    json_body: dict[str, Any] | None = None,
    fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Graph call: `params` in the query string with the token, and a JSON body or
    multipart `fields` (a file as (filename, bytes, content type))."""
    url = f"{_url(path)}?{urlencode({**(params or {}), 'access_token': token})}"
    body: dict[str, Any] = {}
    if json_body is not None:
        body["json"] = json_body
    elif fields is not None:
        body.update(fields=fields, encode_multipart=True)
    try:
        response = _request(method, url, timeout=_TIMEOUT, retries=False, **body)
    except urllib3.exceptions.HTTPError as exc:
        # urllib3 puts the URL (and so the token) in its messages.
        raise GraphError(
            _scrub(f"Graph API unreachable: {type(exc).__name__}: {exc}", token)
        ) from None
    if not 200 <= response.status < 300:
        raise GraphError(_scrub(_graph_message(response), token))
    data = _json(response)
    if data is None:
        raise GraphError(f"Graph API answered HTTP {response.status} without JSON")
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
            json_body={
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
        fields={
            "recipient": json.dumps({"id": psid}),
            "messaging_type": "RESPONSE",
            "message": json.dumps(
                {"attachment": {"type": "file", "payload": {"is_reusable": False}}}
            ),
            "filedata": (filename, payload, content_type or "application/octet-stream"),
        },
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
        response = _request(
            "GET", url, timeout=_FILE_TIMEOUT, preload_content=False, retries=_CDN_RETRIES
        )
        try:
            if response.status != 200:
                raise GraphError(f"The attachment could not be fetched: HTTP {response.status}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLargeError(f"The attachment is {declared} bytes")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLargeError(f"The attachment is over {max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as exc:
        raise GraphError(f"The attachment could not be fetched: {type(exc).__name__}") from None
    content_type = content_type or "application/octet-stream"
    return FetchedFile(
        payload=b"".join(chunks),
        content_type=content_type,
        filename=_filename(url, content_type, kind),
    )
