"""Outbound SMTP from one URL: smtp://user:pass@host:port, smtps:// for TLS on connect."""

from typing import Any
from urllib.parse import unquote, urlparse


def smtp_settings_from_url(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme not in {"smtp", "smtps", "smtp+starttls"}:
        raise ValueError("SVARDESK_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")
    return {
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if parsed.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": parsed.scheme == "smtp+starttls",
        "EMAIL_TIMEOUT": 20,
    }
