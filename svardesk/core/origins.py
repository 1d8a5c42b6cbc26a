"""Website origins as channels store and compare them (the chat's websites, a form's embedding
sites, the demo's address): scheme://host[:port]."""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOriginError(ValueError):
    """Not an http(s) origin."""


def normalise_origin(value: str, *, page_url_allowed: bool = False) -> str:
    """ "HTTPS://Shop.Example:443/" → "https://shop.example". Raises InvalidOriginError for
    anything but an http or https origin. A path, query or fragment is refused unless
    `page_url_allowed` (then a page's URL is cut to its origin); a user part always is."""
    text = value.strip()
    if not text or any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise InvalidOriginError(value)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidOriginError(value) from exc
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise InvalidOriginError(value)
    if parts.username or (
        not page_url_allowed and (parts.path not in ("", "/") or parts.query or parts.fragment)
    ):
        raise InvalidOriginError(value)
    try:
        host = host.encode("idna").decode("ascii") if not host.startswith("[") else host
    except UnicodeError as exc:
        raise InvalidOriginError(value) from exc
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # urlsplit drops an IPv6 address's brackets
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_or_none(value: str | None) -> str | None:
    """The normalised origin of a request's Origin header, or None (absent, "null", bad)."""
    if not value:
        return None
    try:
        return normalise_origin(value)
    except InvalidOriginError:
        return None
