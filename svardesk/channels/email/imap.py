"""IMAP polling: fetch new messages of a channel's mailbox folder and store each through
`ingest.receive_raw_email`.

Why nothing is skipped or repeated:
- The folder's UIDVALIDITY and the last stored UID are kept on the channel. A poll fetches
  only UIDs above it, with BODY.PEEK[] (which leaves the \\Seen flag alone).
- `imap_last_uid` advances only after a message is stored, so a crash in between fetches it
  again — and the (channel, Message-ID) key stores it once.
- \\Seen is set afterwards as a courtesy for people reading the mailbox; a failed flag update
  changes nothing here, because the poll never looks at flags.
- If UIDVALIDITY changes, the UIDs mean other messages now: the folder is scanned from the
  start and Message-ID dedupe drops what was stored before.
- A lease on the channel row (compare-and-set on both databases) keeps two polls of one
  channel from overlapping; a crashed poll's lease expires.

Polling must run outside a transaction (each message commits on its own).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import logging
import re
import secrets
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone

from svardesk.channels.email.ingest import receive_raw_email
from svardesk.channels.email.models import EmailChannel
from svardesk.core.crypto import SecretDecryptionError, decrypt_secret
from svardesk.core.exceptions import SvardeskError

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=5)
TIMEOUT_SECONDS = 60
DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024

_SIZE_ITEM = re.compile(rb"UID (\d+)[^)]*?RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+)[^)]*?UID (\d+)")
_UID_ITEM = re.compile(rb"UID (\d+)")


class ImapPollError(SvardeskError):
    """The poll failed (connection, login, folder, protocol); the reason is on the channel's
    `imap_last_error`."""


@dataclass
class PollResult:
    stored: int = 0  # messages handed to receive_raw_email (new or already known)
    too_large: int = 0  # left in the mailbox, over the size limit
    rescanned: bool = False  # UIDVALIDITY changed, the folder was read from the start
    locked: bool = False  # another poll of this channel was running; nothing done


def max_message_bytes() -> int:
    return int(getattr(settings, "EMAIL_MAX_MESSAGE_BYTES", DEFAULT_MAX_MESSAGE_BYTES))


def quote_mailbox(name: str) -> str:
    """An IMAP quoted string for a folder name (spaces, quotes and backslashes allowed)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _acquire_lease(email_channel_id: int) -> str | None:
    token = secrets.token_hex(16)
    now = timezone.now()
    taken = (
        EmailChannel.objects.filter(pk=email_channel_id)
        .filter(Q(imap_lock_until__isnull=True) | Q(imap_lock_until__lt=now))
        .update(imap_lock_token=token, imap_lock_until=now + LEASE)
    )
    return token if taken else None


def _release_lease(email_channel_id: int, token: str) -> None:
    EmailChannel.objects.filter(pk=email_channel_id, imap_lock_token=token).update(
        imap_lock_token="", imap_lock_until=None
    )


class _LeaseLostError(Exception):
    pass


def _save_progress(email_channel_id: int, token: str, **fields: object) -> None:
    """Write poll progress while still holding the lease, and renew it."""
    updated = EmailChannel.objects.filter(pk=email_channel_id, imap_lock_token=token).update(
        imap_lock_until=timezone.now() + LEASE, **fields
    )
    if not updated:
        raise _LeaseLostError


def open_connection(channel: EmailChannel) -> imaplib.IMAP4:
    """Connect and sign in to the channel's IMAP server (TLS on connect unless turned off)."""
    password = decrypt_secret(channel.imap_password_encrypted)
    if not password:
        raise ValueError("No IMAP password is stored; enter it in the channel's settings.")
    connection: imaplib.IMAP4
    if channel.imap_use_tls:
        connection = imaplib.IMAP4_SSL(
            channel.imap_host,
            channel.imap_port,
            ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )
    else:
        connection = imaplib.IMAP4(channel.imap_host, channel.imap_port, timeout=TIMEOUT_SECONDS)
    try:
        connection.login(channel.imap_user, password)
    except Exception:
        _close(connection)
        raise
    return connection


def _close(connection: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        connection.logout()


def _check(typ: str, data: Sequence[object], what: str) -> None:
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode(errors="replace")
        raise imaplib.IMAP4.error(f"{what} failed: {detail}")


def _select(connection: imaplib.IMAP4, folder: str) -> int:
    """Open the folder read-write; returns its UIDVALIDITY."""
    typ, data = connection.select(quote_mailbox(folder))
    _check(typ, data, f"SELECT {folder}")
    _name, values = connection.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise imaplib.IMAP4.error("The server sent no UIDVALIDITY")
    return int(values[-1])


def _new_uids_with_sizes(connection: imaplib.IMAP4, last_uid: int) -> list[tuple[int, int]]:
    """(uid, size) of every message above `last_uid`, in UID order."""
    typ, data = connection.uid("FETCH", f"{last_uid + 1}:*", "(UID RFC822.SIZE)")
    _check(typ, data, "FETCH sizes")
    found: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        match = _SIZE_ITEM.search(line)
        if match is None:
            continue
        if match.group(1):
            uid, size = int(match.group(1)), int(match.group(2))
        else:
            uid, size = int(match.group(4)), int(match.group(3))
        # "N:*" always includes the highest UID, even when it is below N.
        if uid > last_uid:
            found[uid] = size
    return sorted(found.items())


def _fetch_raw(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    """The message exactly as stored on the server, or None if it is gone (expunged)."""
    typ, data = connection.uid("FETCH", str(uid), "(BODY.PEEK[])")
    _check(typ, data, f"FETCH {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) >= 2 and isinstance(item[1], bytes):
            uid_match = _UID_ITEM.search(item[0])
            # Skip unsolicited FETCH responses about other messages.
            if uid_match is None or int(uid_match.group(1)) == uid:
                return item[1]
    return None


def _flag_seen(connection: imaplib.IMAP4, uid: int) -> None:
    """Mark as read for people using the mailbox. Failing is harmless: see the module doc."""
    try:
        typ, data = connection.uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
    except imaplib.IMAP4.abort:
        raise  # the connection is gone; end this poll (the message is already stored)
    except imaplib.IMAP4.error as exc:
        logger.warning("IMAP: could not flag UID %s as seen: %s", uid, exc)
        return
    if typ != "OK":
        logger.warning("IMAP: could not flag UID %s as seen: %s", uid, data)


def _describe(exc: BaseException) -> str:
    """A readable reason for the settings page (never contains the password)."""
    text = str(exc) or exc.__class__.__name__
    if isinstance(exc, imaplib.IMAP4.error):
        # imaplib shows server answers as bytes reprs: b'[AUTHENTICATIONFAILED] …'
        text = re.sub(r"""b(['"])(.*?)\1""", r"\2", text)
        return f"IMAP: {text}"[:2000]
    return f"{exc.__class__.__name__}: {text}"[:2000]


def poll_channel(email_channel_id: int) -> PollResult:
    """Fetch and store every new message of the channel's folder.

    Returns PollResult(locked=True) without doing anything when another poll of this channel
    holds the lease. Raises ImapPollError after recording the reason on the channel."""
    token = _acquire_lease(email_channel_id)
    if token is None:
        return PollResult(locked=True)
    result = PollResult()
    try:
        channel = EmailChannel.objects.select_related("channel").get(pk=email_channel_id)
        if not channel.imap_host or not channel.channel.is_active:
            return result
        _poll(channel, token, result)
    except _LeaseLostError:
        logger.warning(
            "IMAP poll of channel %s lost its lease; the next poll goes on", email_channel_id
        )
        return result
    except Exception as exc:
        with contextlib.suppress(DatabaseError):  # the database may be what failed
            EmailChannel.objects.filter(pk=email_channel_id).update(
                imap_last_error=_describe(exc), imap_last_polled_at=timezone.now()
            )
        if isinstance(exc, (imaplib.IMAP4.error, OSError, SecretDecryptionError, ValueError)):
            raise ImapPollError(_describe(exc)) from exc
        raise
    finally:
        _release_lease(email_channel_id, token)
    return result


def _poll(channel: EmailChannel, token: str, result: PollResult) -> None:
    limit = max_message_bytes()
    connection = open_connection(channel)
    notes: list[str] = []
    try:
        uidvalidity = _select(connection, channel.imap_folder)
        last_uid = channel.imap_last_uid
        if channel.imap_uidvalidity != uidvalidity:
            result.rescanned = channel.imap_uidvalidity is not None
            last_uid = 0
            _save_progress(channel.pk, token, imap_uidvalidity=uidvalidity, imap_last_uid=0)
        for uid, size in _new_uids_with_sizes(connection, last_uid):
            if size > limit:
                # Left unread in the mailbox, so nothing is lost; said on the settings page.
                result.too_large += 1
                notes.append(
                    f"Message UID {uid} ({size} bytes) is over the {limit} byte limit and "
                    "was left in the mailbox."
                )
            else:
                raw = _fetch_raw(connection, uid)
                if raw is not None:
                    receive_raw_email(channel=channel, raw=raw, via="imap")
                    result.stored += 1
            _save_progress(channel.pk, token, imap_last_uid=uid)
            if size <= limit:
                _flag_seen(connection, uid)
    finally:
        _close(connection)
    _save_progress(
        channel.pk,
        token,
        imap_last_error="\n".join(notes)[:2000],
        imap_last_polled_at=timezone.now(),
    )
