"""The forms channel as the conversation core sees it (conversations/registry.py).

A form takes no reply itself: the agents' replies to a form's ticket go out by email — on the
conversation the confirmation email starts, or one the core starts for the ticket's contact.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import Capabilities, ChannelAdapter, ChannelState
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.conversations.models import Channel, Message


class FormAdapter(ChannelAdapter):
    kind = ChannelKind.FORM
    label = gettext_lazy("Form")
    description = gettext_lazy(
        "A contact form, hosted by Svardesk or embedded in your website: each submission "
        "becomes a ticket."
    )
    ticket_source = Source.FORM
    capabilities = Capabilities(starts_conversations=False)

    def deliver(self, message: Message) -> str:
        raise NotImplementedError("A form cannot take a reply; replies go out by email.")

    def reply_blocked_reason(self, conversation: object, *, now: dt.datetime) -> str:
        return _("A form cannot take a reply. Reply by email instead.")

    def state(self, channel: Channel) -> ChannelState:
        from svardesk.channels.forms import queries

        form = queries.form_for_channel(channel)
        if form is None:
            return ChannelState()
        summary = queries.submission_summary(form, now=timezone.now())
        details = [
            ngettext("%(count)s submission today", "%(count)s submissions today", summary.today)
            % {"count": summary.today},
        ]
        if summary.spam_today:
            details.append(
                ngettext("%(count)s of them spam", "%(count)s of them spam", summary.spam_today)
                % {"count": summary.spam_today}
            )
        problems: list[str] = []
        if summary.waiting:
            problems.append(
                ngettext(
                    "%(count)s submission waits to be processed; it is retried every minute.",
                    "%(count)s submissions wait to be processed; they are retried every minute.",
                    summary.waiting,
                )
                % {"count": summary.waiting}
                + (f" {summary.last_error}" if summary.last_error else "")
            )
        return ChannelState(
            last_received_at=summary.last_received_at,
            problems=problems,
            details=details,
            settings_url=reverse("forms_channel_settings:edit", args=[form.pk]),
        )

    def connect_url(self) -> str:
        return reverse("forms_channel_settings:connect")
