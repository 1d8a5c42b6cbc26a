"""The Facebook Messenger channel as the conversation core sees it
(conversations/registry.py)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import Capabilities, ChannelAdapter
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.conversations.models import Message


class MessengerAdapter(ChannelAdapter):
    kind = ChannelKind.MESSENGER
    label = gettext_lazy("Facebook Messenger")
    description = gettext_lazy(
        "A Facebook Page: messages to the Page become tickets, and replies go back in Messenger."
    )
    ticket_source = Source.MESSENGER
    # Messenger's standard messaging window: a Page may answer within 24 hours of the
    # person's last message.
    capabilities = Capabilities(reply_window=dt.timedelta(hours=24))

    def deliver(self, message: Message) -> str:
        raise NotImplementedError
