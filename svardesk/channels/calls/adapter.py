"""The calls channel as the conversation core sees it (conversations/registry.py).

A call takes no written reply: agents call back (and log the call on the ticket), or answer
on another of the ticket's conversations.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import Capabilities, ChannelAdapter, ChannelState
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.conversations.models import Channel, Message


class CallsAdapter(ChannelAdapter):
    kind = ChannelKind.CALL
    label = gettext_lazy("Call")
    description = gettext_lazy(
        "A phone number at a Twilio-compatible provider: missed calls and voicemails become "
        "tickets, with the recording and its transcript."
    )
    ticket_source = Source.CALL
    capabilities = Capabilities(replies=False)

    def deliver(self, message: Message) -> str:
        raise NotImplementedError("A call cannot take a written reply.")

    def reply_blocked_reason(self, conversation: object, *, now: dt.datetime) -> str:
        return _("A call cannot take a written reply. Call back, or reply by email.")

    def state(self, channel: Channel) -> ChannelState:
        from svardesk.channels.calls import queries

        call_channel = queries.call_channel_for(channel)
        if call_channel is None:
            return ChannelState()
        summary = queries.call_summary(call_channel)
        problems: list[str] = []
        if summary.failing:
            problems.append(
                ngettext(
                    "%(count)s callback waits to be processed again; it is retried every minute.",
                    "%(count)s callbacks wait to be processed again; they are retried every "
                    "minute.",
                    summary.failing,
                )
                % {"count": summary.failing}
                + (f" {summary.last_error}" if summary.last_error else "")
            )
        if summary.refused:
            problems.append(
                ngettext(
                    "%(count)s signed callback had no CallSid and was refused.",
                    "%(count)s signed callbacks had no CallSid and were refused.",
                    summary.refused,
                )
                % {"count": summary.refused}
            )
        return ChannelState(
            last_received_at=summary.last_call_at,
            problems=problems,
            details=[call_channel.phone_number],
            settings_url=reverse("calls_channel_settings:edit", args=[channel.pk]),
        )

    def connect_url(self) -> str:
        return reverse("calls_channel_settings:connect")

    def disconnect_url(self, channel: Channel) -> str:
        return reverse("calls_channel_settings:disconnect", args=[channel.pk])
