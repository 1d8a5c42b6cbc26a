"""The built-in SMTP receiver (aiosmtpd), for MX records or forwarding rules.

- RCPT is accepted only for connected, active addresses (550 otherwise), so it is never an
  open relay and unknown recipients bounce at the sender's server.
- A message over the size limit is refused with 552 (the SIZE extension announces it).
- The envelope sender is stamped on the message as its first "Return-Path:" (an empty one
  marks a bounce; see `loops.has_null_return_path`).
- "250" is answered only after the raw message is stored (`ingest.receive_raw_email`), once
  per connected recipient channel; if storing fails the answer is 451 and the sender's server
  tries again later — the (channel, Message-ID) key keeps that retry from duplicating.

The database work runs on a few worker threads (`sync_to_async` with its own executor).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import wraps
from typing import TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import connection, connections

from svardesk.channels.email.channel_queries import active_channel_ids_for
from svardesk.channels.email.imap import max_message_bytes
from svardesk.channels.email.ingest import receive_raw_email
from svardesk.channels.email.models import EmailChannel

logger = logging.getLogger(__name__)

DEFAULT_PORT = 2525
T = TypeVar("T")


DB_THREADS = 4


class DatabaseThreads:
    """The ORM is synchronous: database work runs on a few dedicated threads that keep their
    connection between messages (a new connection per message would cost more than storing
    it). A failure closes that thread's connection, so the next message reconnects."""

    def __init__(self, workers: int = DB_THREADS) -> None:
        self.workers = workers
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="smtp-receiver-db")

    def run(self, func: Callable[..., T]) -> Callable[..., Awaitable[T]]:
        @wraps(func)
        def guarded(*args: object) -> T:
            try:
                return func(*args)
            except Exception:
                connection.close()
                raise

        return sync_to_async(guarded, thread_sensitive=False, executor=self.executor)

    def close(self) -> None:
        """Close every thread's connection, then the threads."""
        barrier = threading.Barrier(self.workers)

        def close_here() -> None:
            connections.close_all()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)  # so each call runs on a different thread

        futures = [self.executor.submit(close_here) for _ in range(self.workers)]
        wait(futures, timeout=10)
        self.executor.shutdown(wait=True)


def _lookup_channel(address: str) -> int | None:
    return active_channel_ids_for([address]).get(address)


def _store(channel_ids: list[int], raw: bytes) -> int:
    """Store `raw` for each channel still active; returns how many channels took it."""
    channels = EmailChannel.objects.select_related("channel").filter(
        pk__in=channel_ids, channel__is_active=True
    )
    stored = 0
    for channel in channels:
        receive_raw_email(channel=channel, raw=raw, via="smtp")
        stored += 1
    return stored


def with_return_path(raw: bytes, envelope_sender: str) -> bytes:
    """The message with the envelope sender stamped on top as "Return-Path:", as the MTA
    that delivers to a mailbox does: an empty one (<>) is what makes a bounce. It comes
    before any Return-Path the sender wrote, and the first one is the one read."""
    newline = b"\r\n" if b"\r\n" in raw[:1000] else b"\n"
    sender = envelope_sender.strip().strip("<>").replace("\r", "").replace("\n", "")
    stamp = b"Return-Path: <" + sender.encode("utf-8", "surrogateescape") + b">" + newline
    return stamp + raw


class InboundHandler:
    """aiosmtpd handler: checks recipients, stores the message."""

    def __init__(self) -> None:
        self.db = DatabaseThreads()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            channel_id = await self.db.run(_lookup_channel)(address)
        except Exception:
            logger.exception("SMTP receiver: recipient lookup failed")
            return "451 4.3.0 Temporary failure, try again later"
        if channel_id is None:
            return "550 5.1.1 No such mailbox here"
        channels: list[int] = getattr(envelope, "svardesk_channels", [])
        if channel_id not in channels:
            channels.append(channel_id)
        envelope.svardesk_channels = channels  # type: ignore[attr-defined]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        channel_ids: list[int] = getattr(envelope, "svardesk_channels", [])
        if not raw or not channel_ids:
            return "554 5.6.0 No message"
        raw = with_return_path(bytes(raw), envelope.mail_from or "")
        try:
            stored = await self.db.run(_store)(channel_ids, raw)
        except Exception:
            logger.exception("SMTP receiver: storing a message failed; the sender will retry")
            return "451 4.3.0 Temporary failure, try again later"
        if not stored:
            return "550 5.1.1 No such mailbox here"
        return "250 2.0.0 Message accepted"


class _InboundSMTP(SMTP):
    # RFC 5321 lines are at most 1,000 octets, but real mailers send longer ones; refusing
    # them would lose mail.
    line_length_limit = 64 * 1024


class InboundController(Controller):
    handler: InboundHandler

    def factory(self) -> SMTP:
        return _InboundSMTP(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.handler.db.close()


def make_controller(
    *, host: str = "127.0.0.1", port: int = DEFAULT_PORT, max_bytes: int | None = None
) -> InboundController:
    """An unstarted receiver; `.start()` binds and serves in a thread, `.stop()` ends it."""
    # aiosmtpd logs every connection at INFO; keep its warnings and errors only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    return InboundController(
        InboundHandler(),
        hostname=host,
        port=port,
        server_hostname=socket.getfqdn(),
        ident="Svardesk",
        data_size_limit=max_bytes if max_bytes is not None else max_message_bytes(),
        enable_SMTPUTF8=True,
        decode_data=False,
    )
