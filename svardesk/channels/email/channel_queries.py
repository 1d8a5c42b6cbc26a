"""Reads about connected email channels for the ways in (receiver, poller, HTTP endpoint) and
the channel settings pages. Channel configuration is not ticket data: no ticket scoping here;
the settings views check Account access before calling these."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from django.db.models import Count, QuerySet

from svardesk.channels.email.models import EmailChannel, InboundEmail, InboundStatus
from svardesk.channels.email.services import hash_http_token, normalise_address


def list_email_channels() -> QuerySet[EmailChannel]:
    """Every email channel, connected ones first, by address."""
    return EmailChannel.objects.select_related("channel", "channel__inbox").order_by(
        "-channel__is_active", "address"
    )


def get_email_channel(channel_id: int) -> EmailChannel | None:
    """The email settings of channel `channel_id` (a conversations.Channel id)."""
    return EmailChannel.objects.select_related("channel").filter(channel_id=channel_id).first()


def active_channel_ids_for(addresses: Iterable[str]) -> dict[str, int]:
    """Map each of `addresses` that is connected and active to its EmailChannel id
    (addresses compared case-insensitively; the keys are the addresses as given)."""
    wanted = {normalise_address(address): address for address in addresses}
    if not wanted:
        return {}
    rows = EmailChannel.objects.filter(
        address__in=list(wanted), channel__is_active=True
    ).values_list("address", "pk")
    by_address = {normalise_address(address): pk for address, pk in rows}
    return {given: by_address[norm] for norm, given in wanted.items() if norm in by_address}


def channel_for_http_token(channel_id: int, token: str) -> EmailChannel | None:
    """The active email channel of Channel `channel_id` if `token` is its bearer token, else
    None. The hashes are compared in constant time; a missing channel costs the same."""
    presented = hash_http_token(token)
    channel = (
        EmailChannel.objects.select_related("channel")
        .filter(channel_id=channel_id, channel__is_active=True)
        .first()
    )
    stored = channel.http_token_hash if channel is not None else ""
    if not hmac.compare_digest(presented, stored or "0" * 64) or not stored or channel is None:
        return None
    return channel


def list_pollable_channel_ids() -> list[int]:
    """EmailChannel ids of the active channels with IMAP polling configured."""
    return list(
        EmailChannel.objects.filter(channel__is_active=True)
        .exclude(imap_host="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class QuarantinedEmail:
    inbound: InboundEmail
    sender: str
    subject: str
    size: int


def _headers(raw: bytes) -> tuple[str, str]:
    """From and Subject, read leniently: quarantined mail is often broken."""
    head = raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    try:
        parsed = BytesHeaderParser(policy=default_policy).parsebytes(head)
        return str(parsed.get("From", "") or ""), str(parsed.get("Subject", "") or "")
    except Exception:  # any header defect: show the raw text instead
        return "", ""


def list_quarantined(limit: int = 100) -> list[QuarantinedEmail]:
    """Inbound mail that could not be processed, newest first, with sender and subject."""
    rows = (
        InboundEmail.objects.filter(status=InboundStatus.QUARANTINED)
        .select_related("channel")
        .order_by("-received_at", "-id")[:limit]
    )
    result = []
    for inbound in rows:
        raw = bytes(inbound.raw)
        sender, subject = _headers(raw)
        result.append(QuarantinedEmail(inbound, sender, subject, len(raw)))
    return result


def count_quarantined_by_channel() -> dict[int, int]:
    """Quarantined messages per EmailChannel id."""
    return dict(
        InboundEmail.objects.filter(status=InboundStatus.QUARANTINED)
        .order_by()
        .values("channel_id")
        .annotate(n=Count("id"))
        .values_list("channel_id", "n")
    )


def count_quarantined() -> int:
    return InboundEmail.objects.filter(status=InboundStatus.QUARANTINED).count()


def get_quarantined(pk: int) -> InboundEmail | None:
    return (
        InboundEmail.objects.filter(pk=pk, status=InboundStatus.QUARANTINED)
        .select_related("channel")
        .first()
    )
