"""The demo's conversations inbox: "Sales inbox", a team address (sales@svardesk.example)
connected to an inbox outside the help desk, with a few dozen historical conversations — so a
trial user can move a conversation into the help desk (… → Move to another inbox) or migrate
the whole address with its history (Settings → Inboxes), and see the tickets it makes.

Its messages go through the one way in (`conversations.inbound.record_inbound_messages`),
which starts conversations without tickets outside the help desk. Running the loader again
reuses the inbox and adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from svardesk.conversations.inbound import InboundItem, record_inbound_messages
from svardesk.conversations.models import Channel, ChannelKind, Conversation, Inbox, InboxKind

SALES_INBOX_NAME = "Sales inbox"
SALES_ADDRESS = "sales@svardesk.example"
SALES_CONVERSATIONS = 36

_SUBJECTS = (
    "Volume pricing for 40 seats",
    "Can we get a quote in SEK?",
    "Invoice address for our order",
    "Do you ship to Norway?",
    "Demo request for our support team",
    "Offert på 12 licenser",
    "Question about the annual plan",
    "Upgrade from the starter plan",
    "Återförsäljare i Göteborg?",
    "Discount for non-profits",
    "Trial extension",
    "Purchase order attached",
)
_BODIES = (
    "Hi,\n\nwe are a team of {n} and would like to know what it would cost per year.\n\n"
    "Best regards,\n{name}",
    "Hello!\n\nCould you send us a quote? We need it before the end of the month.\n\n{name}",
    "Hej,\n\nvi undrar om ni kan skicka en offert för {n} användare.\n\nMvh\n{name}",
    "Good morning,\n\nis there a discount if we pay for two years at once?\n\nThanks,\n{name}",
)
_NAMES = (
    "Ingrid Holm",
    "Jonas Berg",
    "Aisha Karimi",
    "Peter Lund",
    "Maja Ek",
    "Oskar Nyström",
    "Lena Sjöberg",
    "Tomas Wik",
    "Sara Dahl",
)


def _sales_channel(inbox: Inbox) -> Channel:
    """The sales address, connected and then moved into the conversations inbox (connecting
    puts a channel in the help desk)."""
    channel = Channel.objects.filter(inbox=inbox, kind=ChannelKind.EMAIL).order_by("pk").first()
    if channel is not None:
        return channel
    from svardesk.channels.email.models import EmailChannel
    from svardesk.channels.email.services import connect_email_channel

    existing = EmailChannel.objects.filter(address__iexact=SALES_ADDRESS).first()
    if existing is None:
        existing = connect_email_channel(
            actor=None, address=SALES_ADDRESS, display_name="Svardesk sales"
        ).channel
    channel = Channel.objects.get(pk=existing.channel_id)
    channel.inbox = inbox
    channel.save(update_fields=["inbox", "updated_at"])
    return channel


def ensure_sales_inbox(*, now: dt.datetime, seed: int, progress: Callable[[str], None]) -> Inbox:
    """The demo's conversations inbox with its sales address and historical conversations
    (created once)."""
    inbox = Inbox.objects.filter(kind=InboxKind.CONVERSATIONS, name=SALES_INBOX_NAME).first()
    if inbox is None:
        inbox = Inbox.objects.create(name=SALES_INBOX_NAME, kind=InboxKind.CONVERSATIONS)
    channel = _sales_channel(inbox)
    if Conversation.objects.filter(channel=channel).exists():
        return inbox
    rng = random.Random(f"{seed}:sales")
    items = []
    for number in range(SALES_CONVERSATIONS):
        name = rng.choice(_NAMES)
        address = f"{name.split()[0].lower()}.{number}@customer.example"
        at = now - dt.timedelta(days=rng.randint(0, 90), minutes=rng.randint(0, 1440))
        items.append(
            InboundItem(
                channel=channel,
                sender_name=name,
                sender_address=address,
                to=[SALES_ADDRESS],
                cc=[],
                subject=rng.choice(_SUBJECTS),
                body_text=rng.choice(_BODIES).format(n=rng.randint(3, 60), name=name),
                body_html="",
                message_id=f"<demo-sales-{number}@customer.example>",
                in_reply_to="",
                references=[],
                attachments=[],
                is_auto_generated=False,
                received_at=at,
            )
        )
    items.sort(key=lambda item: item.received_at)
    record_inbound_messages(items)
    progress(f"conversations inbox: {SALES_INBOX_NAME}, {len(items)} conversations")
    return inbox


def reset_sales_inbox() -> None:
    """Delete the Sales inbox's conversations (with their messages), so a reset demo makes them
    again with its contacts; the inbox and its address stay."""
    Conversation.objects.filter(
        inbox__kind=InboxKind.CONVERSATIONS, inbox__name=SALES_INBOX_NAME
    ).delete()
