"""Which SMTP server sends a channel's mail: its own (an encrypted SMTP URL on the channel) or
the install's (`SVARDESK_SMTP_URL` / Django's EMAIL_* settings)."""

from __future__ import annotations

from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend

from svardesk.channels.email.kept_mail import KeptMailBackend
from svardesk.channels.email.models import EmailChannel
from svardesk.config.mail import smtp_settings_from_url
from svardesk.core.crypto import decrypt_secret


def smtp_connection_for(
    channel: EmailChannel | None, *, fail_silently: bool = False
) -> BaseEmailBackend:
    """An (unopened) Django mail connection for sending as `channel`. Pass it as
    `connection=` to EmailMessage; it opens on the first send.

    Raises core.crypto.SecretDecryptionError when the channel's stored URL cannot be read."""
    url = decrypt_secret(channel.smtp_url_encrypted) if channel is not None else ""
    if not url:
        return get_connection(fail_silently=fail_silently)
    params = smtp_settings_from_url(url)
    return EmailBackend(
        host=params["EMAIL_HOST"],
        port=params["EMAIL_PORT"],
        # "" rather than None: None would fall back to the global EMAIL_HOST_USER/PASSWORD.
        username=params["EMAIL_HOST_USER"],
        password=params["EMAIL_HOST_PASSWORD"],
        use_tls=params["EMAIL_USE_TLS"],
        use_ssl=params["EMAIL_USE_SSL"],
        timeout=params["EMAIL_TIMEOUT"],
        fail_silently=fail_silently,
    )


def describe_destination(connection: BaseEmailBackend) -> str:
    """Where mail handed to `connection` ends up, in words a ticket can show: "smtp://host:port"
    for a mail server, "kept:<id>" when it was kept in Outgoing mail (the embedded default
    without SVARDESK_SMTP_URL), "console" when it was only written to the server's output,
    else the backend's short name ("locmem", "filebased")."""
    if isinstance(connection, EmailBackend):
        return f"smtp://{connection.host}:{connection.port}"
    if isinstance(connection, KeptMailBackend):
        return connection.describe()  # "kept:<id>": listed in Settings → Outgoing mail
    module = type(connection).__module__
    return (
        module.rsplit(".", 1)[-1]
        if module.startswith("django.core.mail.backends.")
        else (type(connection).__name__)
    )
