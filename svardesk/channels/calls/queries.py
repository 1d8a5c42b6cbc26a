"""Reads of the calls channel: a channel by its webhook key, and what Settings → Channels
shows about it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max

from svardesk.channels.calls.models import Call, CallCallback, CallChannel
from svardesk.conversations.models import Channel
from svardesk.core.local_cache import cached, forget

_KEY_CACHE = "calls:channel-by-key:"


def active_channel_by_key(key: str) -> CallChannel | None:
    """The connected channel whose webhooks use `key`; None for an unknown key or a
    disconnected channel. Read on every callback, so kept per process for a few seconds
    (core.local_cache); a change in this process forgets it at once (`forget_key`)."""
    if not key or len(key) > 64:
        return None
    return cached(
        _KEY_CACHE + key,
        lambda: (
            CallChannel.objects.select_related("channel")
            .filter(url_key=key, channel__is_active=True)
            .first()
        ),
    )


def forget_key(key: str) -> None:
    forget(_KEY_CACHE + key)


def call_channel_for(channel: Channel) -> CallChannel | None:
    return CallChannel.objects.select_related("channel").filter(channel=channel).first()


def get_call_channel(channel_id: int) -> CallChannel | None:
    return CallChannel.objects.select_related("channel").filter(channel_id=channel_id).first()


@dataclass(frozen=True)
class CallSummary:
    last_call_at: dt.datetime | None
    failing: int  # callbacks whose processing failed and wait for the sweep
    refused: int  # signed callbacks without a CallSid
    last_error: str


def call_summary(call_channel: CallChannel) -> CallSummary:
    last = Call.objects.filter(call_channel=call_channel).aggregate(at=Max("started_at"))["at"]
    pending = CallCallback.objects.filter(call_channel=call_channel, processed_at__isnull=True)
    failing = pending.exclude(call_sid="").exclude(error="")
    last_failure = failing.order_by("-received_at", "-id").values_list("error", flat=True).first()
    return CallSummary(
        last_call_at=last,
        failing=failing.count(),
        refused=pending.filter(call_sid="").count(),
        last_error=last_failure or "",
    )
