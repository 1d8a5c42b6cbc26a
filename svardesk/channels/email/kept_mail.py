"""Kept outgoing mail: the embedded default mail backend when no mail server is configured.

With `SVARDESK_SMTP_URL` unset, every message Svardesk sends — agents' replies, chat
transcripts, form confirmations, mention emails, password resets (everything on Django's
default connection) — is stored as a `KeptMail` row instead of being sent, and Settings →
Outgoing mail lists it, so a trial install shows what would have gone out. Only the newest
`settings.KEPT_MAIL_LIMIT` messages stay; `prune_kept_mail` deletes the rest.

The server log gets one line per message ("Kept outgoing mail #N to …"), never the body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message as MimeMessage
from typing import Any, cast

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from svardesk.channels.email.models import KeptMail

logger = logging.getLogger(__name__)

# What Message.delivered_via records for a kept reply: "kept:<KeptMail id>" (or "kept").
DESTINATION = "kept"


def _html_part(message: EmailMessage) -> str:
    if message.content_subtype == "html":
        return str(message.body)
    if isinstance(message, EmailMultiAlternatives):
        for content, mimetype in message.alternatives:
            if mimetype == "text/html":
                if isinstance(content, str):
                    return content
                if isinstance(content, bytes):
                    return content.decode("utf-8", "replace")
    return ""


def _header(mime: MimeMessage, name: str) -> str:
    value = mime.get(name)
    return str(value).strip() if value is not None else ""


def keep_message(message: EmailMessage) -> KeptMail:
    """Store one outgoing message as it would have been sent (the same MIME bytes an SMTP
    backend would transmit)."""
    mime = message.message()
    # As Django's SMTP backend sends it (its MIME classes take linesep).
    raw = cast(Any, mime).as_bytes(linesep="\r\n")
    html = _html_part(message)
    text = "" if message.content_subtype == "html" else str(message.body)
    kept = KeptMail.objects.create(
        from_address=_header(mime, "From") or str(message.from_email),
        to=[str(a) for a in message.to],
        cc=[str(a) for a in message.cc],
        bcc=[str(a) for a in message.bcc],
        subject=_header(mime, "Subject"),
        text=text,
        html=html,
        raw=raw,
        message_id=_header(mime, "Message-ID")[:998],
    )
    recipients = ", ".join(message.recipients())
    logger.info("Kept outgoing mail #%s to %s", kept.pk, recipients)
    return kept


class KeptMailBackend(BaseEmailBackend):
    """A Django mail backend that keeps every message in the database (see the module doc).

    `kept_ids` lists what this connection kept, so a delivery can say where its reply went
    (`describe`)."""

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self.kept_ids: list[int] = []

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                kept = keep_message(message)
            except Exception:
                if not self.fail_silently:
                    raise
                logger.exception("Keeping an outgoing message failed")
                continue
            self.kept_ids.append(kept.pk)
            sent += 1
        return sent

    def describe(self) -> str:
        """The destination a ticket shows: "kept:<id>" for the one message this connection
        kept, else "kept"."""
        if len(self.kept_ids) == 1:
            return f"{DESTINATION}:{self.kept_ids[0]}"
        return DESTINATION


# --- Reads ------------------------------------------------------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class KeptMailPage:
    items: list[KeptMail]
    next_before: int | None  # the id to pass as `before` for the next (older) page


def list_kept_mail(*, before: int | None = None, limit: int | None = None) -> KeptMailPage:
    """The newest kept messages (keyset paging on id, newest first), without their bodies;
    `limit` defaults to PAGE_SIZE."""
    limit = PAGE_SIZE if limit is None else limit
    rows = KeptMail.objects.defer("raw", "text", "html").order_by("-id")
    if before is not None:
        rows = rows.filter(id__lt=before)
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return KeptMailPage(items=items, next_before=items[-1].pk if more and items else None)


def get_kept_mail(pk: int) -> KeptMail | None:
    return KeptMail.objects.filter(pk=pk).first()


def count_kept_mail() -> int:
    return KeptMail.objects.count()


# --- Pruning ----------------------------------------------------------------------------------


def prune_kept_mail_rows(*, keep: int | None = None) -> int:
    """Delete all but the newest `keep` (default settings.KEPT_MAIL_LIMIT) kept messages;
    returns how many went. Safe to run twice or concurrently (a plain ranged delete)."""
    keep = settings.KEPT_MAIL_LIMIT if keep is None else max(keep, 0)
    boundary = KeptMail.objects.order_by("-id").values_list("id", flat=True)[keep : keep + 1]
    first_old = next(iter(boundary), None)
    if first_old is None:
        return 0
    deleted, _by_model = KeptMail.objects.filter(id__lte=first_old).delete()
    return deleted


@db_periodic_task(crontab(minute="*/10"), retries=0)
def prune_kept_mail() -> None:
    """Keep Outgoing mail at its limit (settings.KEPT_MAIL_LIMIT)."""
    prune_kept_mail_rows()
