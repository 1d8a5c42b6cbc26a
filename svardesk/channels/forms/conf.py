"""The forms channel's settings (config/settings.py reads them from the environment once)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def rate_limit() -> int:
    """Submissions one client (IP address) may send per window."""
    return max(1, int(getattr(settings, "FORMS_RATE_LIMIT", 20)))


def rate_window_seconds() -> int:
    return max(1, int(getattr(settings, "FORMS_RATE_WINDOW_SECONDS", 60)))


def max_body_bytes() -> int:
    return int(getattr(settings, "FORMS_MAX_BODY_BYTES", 64 * 1024))


def base_url() -> str:
    """Where this Svardesk is reached from outside, for links that leave a request."""
    return str(getattr(settings, "BASE_URL", "") or "http://127.0.0.1:8000").rstrip("/")


def message_id_domain() -> str:
    return urlsplit(base_url()).hostname or "svardesk.invalid"
