"""The calls channel as the conversation core sees it (conversations/registry.py).

A call takes no written reply: agents call back (and log the call on the ticket), or answer
on another of the ticket's conversations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from svardesk.conversations.models import ChannelKind
from svardesk.conversations.registry import Capabilities, ChannelAdapter
from svardesk.tickets.models import Source

if TYPE_CHECKING:
    from svardesk.conversations.models import Message


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
