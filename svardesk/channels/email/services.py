"""Connecting, changing and disconnecting a team email address, and its HTTP token.

Credentials (the IMAP password, an outbound SMTP URL with its password) are stored encrypted
(`core.crypto`); the raw-MIME endpoint's bearer token is stored as a SHA-256 hash and shown
once. `actor` is the person making the change, or None for the command line.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.channels.email.models import EmailChannel
from svardesk.config.mail import smtp_settings_from_url
from svardesk.conversations.models import Channel, ChannelKind, HelpDeskSettings
from svardesk.conversations.services import help_desk_inbox
from svardesk.core.crypto import encrypt_secret
from svardesk.core.exceptions import PermissionDeniedError, SvardeskError
from svardesk.core.local_cache import clear_local_cache
from svardesk.core.on_commit import after_commit

HTTP_TOKEN_BYTES = 32


class EmailChannelValidationError(SvardeskError):
    """A channel change breaks a rule (address taken, IMAP half filled in, bad SMTP URL)."""


@dataclass(frozen=True)
class ImapSettings:
    """Where to poll. An empty host turns polling off. `password` None keeps the stored one."""

    host: str = ""
    port: int = 993
    use_tls: bool = True
    user: str = ""
    password: str | None = None
    folder: str = "INBOX"


@dataclass(frozen=True)
class ConnectedChannel:
    channel: EmailChannel
    http_token: str  # the plaintext token, to show once; "" when none was made


def may_manage_channels(user: User | None) -> bool:
    """Super admins and users with Account access connect and change channels (SPEC §1)."""
    if user is None:
        return True  # the command line
    return bool(user.is_active and (user.is_superuser or user.has_account_access))


def _check_actor(actor: User | None) -> None:
    if not may_manage_channels(actor):
        raise PermissionDeniedError(_("Connecting channels needs the Account access permission."))


def may_manage_mail_servers(user: User | None) -> bool:
    """Where mail is fetched from and sent through (IMAP, outbound SMTP: host, port,
    credentials) and the quarantine's raw mail reach every team's mail, while Account access
    does not follow ticket access: these are for super admins (and the command line)."""
    if user is None:
        return True
    return bool(user.is_active and user.is_superuser)


def _check_servers_actor(actor: User | None) -> None:
    if not may_manage_mail_servers(actor):
        raise PermissionDeniedError(
            _("Only super admins set the mailbox (IMAP) and the outbound SMTP server.")
        )


def hash_http_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_http_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(HTTP_TOKEN_BYTES)
    return token, hash_http_token(token)


def normalise_address(address: str) -> str:
    return address.strip().lower()


def _validate_smtp_url(url: str) -> None:
    try:
        smtp_settings_from_url(url)
    except ValueError as exc:
        raise EmailChannelValidationError(
            _("The SMTP URL must start with smtp://, smtps:// or smtp+starttls://")
        ) from exc


def _apply_imap(email_channel: EmailChannel, imap: ImapSettings) -> list[str]:
    """Copy IMAP settings onto the channel; returns the changed field names. A different
    mailbox (host, user or folder) restarts UID tracking: its UIDs mean other messages."""
    host = imap.host.strip()
    if host and not imap.user.strip():
        raise EmailChannelValidationError(_("Give the IMAP user name as well as the host."))
    if not 0 < imap.port < 65536:
        raise EmailChannelValidationError(_("The IMAP port must be between 1 and 65535."))
    new: dict[str, Any] = {
        "imap_host": host,
        "imap_port": imap.port,
        "imap_use_tls": imap.use_tls,
        "imap_user": imap.user.strip() if host else "",
        "imap_folder": (imap.folder.strip() or "INBOX") if host else "INBOX",
    }
    changed = [name for name, value in new.items() if getattr(email_channel, name) != value]
    for name in changed:
        setattr(email_channel, name, new[name])
    if {"imap_host", "imap_user", "imap_folder"} & set(changed):
        email_channel.imap_uidvalidity = None
        email_channel.imap_last_uid = 0
        email_channel.imap_last_error = ""
        changed += ["imap_uidvalidity", "imap_last_uid", "imap_last_error"]
    if not host:
        if email_channel.imap_password_encrypted:
            email_channel.imap_password_encrypted = ""
            changed.append("imap_password_encrypted")
    elif imap.password is not None:
        email_channel.imap_password_encrypted = encrypt_secret(imap.password)
        changed.append("imap_password_encrypted")
    if host and not email_channel.imap_password_encrypted:
        raise EmailChannelValidationError(_("Give the IMAP password."))
    return changed


@transaction.atomic
def connect_email_channel(
    *,
    actor: User | None,
    address: str,
    display_name: str = "",
    imap: ImapSettings | None = None,
    smtp_url: str = "",
    with_http_token: bool = True,
) -> ConnectedChannel:
    """Connect `address` to the help desk: the SMTP receiver accepts mail for it at once, IMAP
    is polled when `imap.host` is set. An address disconnected earlier is connected again with
    its history. Raises EmailChannelValidationError when it is already connected. A mailbox
    or an SMTP URL needs `may_manage_mail_servers`."""
    _check_actor(actor)
    if (imap is not None and imap.host.strip()) or smtp_url.strip():
        _check_servers_actor(actor)
    address = normalise_address(address)
    if not address or "@" not in address:
        raise EmailChannelValidationError(_("Enter a valid email address."))
    existing = (
        EmailChannel.objects.select_for_update()
        .select_related("channel")
        .filter(address__iexact=address)
        .first()
    )
    if existing is not None and existing.channel.is_active:
        raise EmailChannelValidationError(
            _("%(address)s is already connected.") % {"address": address}
        )
    if smtp_url:
        _validate_smtp_url(smtp_url)
    if existing is None:
        channel = Channel.objects.create(
            inbox=help_desk_inbox(), kind=ChannelKind.EMAIL, name=address, is_active=True
        )
        email_channel = EmailChannel(channel=channel, address=address)
    else:
        email_channel = existing
        channel = existing.channel
        channel.is_active = True
        channel.name = address
        channel.save(update_fields=["is_active", "name", "updated_at"])
    email_channel.display_name = display_name.strip()
    _apply_imap(email_channel, imap or ImapSettings())
    email_channel.smtp_url_encrypted = encrypt_secret(smtp_url.strip())
    token = ""
    if with_http_token:
        token, email_channel.http_token_hash = _new_http_token()
    email_channel.save()
    return ConnectedChannel(channel=email_channel, http_token=token)


@transaction.atomic
def update_email_channel(
    email_channel: EmailChannel,
    *,
    actor: User | None,
    address: str,
    display_name: str,
    imap: ImapSettings | None = None,
    smtp_url: str | None = None,
) -> EmailChannel:
    """Change a connected address. `imap` None keeps the mailbox settings, `imap.password`
    None the stored password; `smtp_url` None keeps the stored URL, "" clears it (back to the
    global SMTP settings). Changing either needs `may_manage_mail_servers`."""
    _check_actor(actor)
    if imap is not None or smtp_url is not None:
        _check_servers_actor(actor)
    email_channel = EmailChannel.objects.select_for_update().get(pk=email_channel.pk)
    address = normalise_address(address)
    if not address or "@" not in address:
        raise EmailChannelValidationError(_("Enter a valid email address."))
    if EmailChannel.objects.filter(address__iexact=address).exclude(pk=email_channel.pk).exists():
        raise EmailChannelValidationError(
            _("%(address)s is already connected.") % {"address": address}
        )
    changed = _apply_imap(email_channel, imap) if imap is not None else []
    if address != email_channel.address:
        email_channel.address = address
        changed.append("address")
        Channel.objects.filter(pk=email_channel.channel_id).update(name=address)
    if display_name.strip() != email_channel.display_name:
        email_channel.display_name = display_name.strip()
        changed.append("display_name")
    if smtp_url is not None:
        if smtp_url.strip():
            _validate_smtp_url(smtp_url.strip())
        email_channel.smtp_url_encrypted = encrypt_secret(smtp_url.strip())
        changed.append("smtp_url_encrypted")
    if changed:
        email_channel.save(update_fields=[*set(changed), "updated_at"])
    return email_channel


@transaction.atomic
def disconnect_email_channel(email_channel: EmailChannel, *, actor: User | None) -> EmailChannel:
    """Stop receiving for the address: the receiver refuses it, polling stops, the HTTP token
    no longer works and stored credentials are erased. Its tickets, conversations and raw mail
    stay; connecting the address again continues them."""
    _check_actor(actor)
    email_channel = (
        EmailChannel.objects.select_for_update().select_related("channel").get(pk=email_channel.pk)
    )
    Channel.objects.filter(pk=email_channel.channel_id).update(is_active=False)
    email_channel.channel.is_active = False
    email_channel.imap_password_encrypted = ""
    email_channel.smtp_url_encrypted = ""
    email_channel.http_token_hash = ""
    email_channel.save(
        update_fields=[
            "imap_password_encrypted",
            "smtp_url_encrypted",
            "http_token_hash",
            "updated_at",
        ]
    )
    return email_channel


@transaction.atomic
def reconnect_email_channel(email_channel: EmailChannel, *, actor: User | None) -> str:
    """Connect a disconnected address again, with its history and settings (the credentials
    erased on disconnecting must be entered again). Returns a new HTTP token, shown once."""
    _check_actor(actor)
    email_channel = (
        EmailChannel.objects.select_for_update().select_related("channel").get(pk=email_channel.pk)
    )
    if email_channel.channel.is_active:
        raise EmailChannelValidationError(
            _("%(address)s is already connected.") % {"address": email_channel.address}
        )
    Channel.objects.filter(pk=email_channel.channel_id).update(is_active=True)
    email_channel.channel.is_active = True
    token, email_channel.http_token_hash = _new_http_token()
    email_channel.save(update_fields=["http_token_hash", "updated_at"])
    return token


@transaction.atomic
def rotate_http_token(email_channel: EmailChannel, *, actor: User | None) -> str:
    """A new bearer token for the raw-MIME endpoint; the old one stops working now. Returns
    the plaintext token, which is not stored and so can be shown only this once."""
    _check_actor(actor)
    token, token_hash = _new_http_token()
    EmailChannel.objects.filter(pk=email_channel.pk).update(http_token_hash=token_hash)
    email_channel.http_token_hash = token_hash
    return token


@transaction.atomic
def update_help_desk_settings(
    *,
    actor: User | None,
    reopen_closed_on_reply: bool,
    move_to_waiting_on_contact_on_reply: bool,
    move_to_waiting_on_us_on_customer_reply: bool,
    max_attachment_bytes: int,
) -> HelpDeskSettings:
    """Change the account-wide conversation rules."""
    _check_actor(actor)
    if max_attachment_bytes < 1:
        raise EmailChannelValidationError(_("The attachment size limit must be positive."))
    current = HelpDeskSettings.load()
    HelpDeskSettings.objects.filter(pk=current.pk).update(
        reopen_closed_on_reply=reopen_closed_on_reply,
        move_to_waiting_on_contact_on_reply=move_to_waiting_on_contact_on_reply,
        move_to_waiting_on_us_on_customer_reply=move_to_waiting_on_us_on_customer_reply,
        max_attachment_bytes=max_attachment_bytes,
    )
    clear_local_cache()  # ingest reads these rules through core.local_cache
    after_commit(clear_local_cache)
    current.refresh_from_db()
    return current
