"""The email corpus (tests/data/email/*.eml) and builders for the inbound tests.

Imported explicitly by the test modules that use it. The replies in the corpus answer
messages we "sent" with ids signed under CORPUS_SECRET: tests that use them set
settings.SECRET_KEY = CORPUS_SECRET (see `corpus_settings`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.utils import timezone

from svardesk.channels.email.ingest import process_inbound_email_now, receive_raw_email
from svardesk.channels.email.models import EmailChannel, InboundEmail
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    DeliveryStatus,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.crm.models import Contact
from svardesk.tickets.models import Stage, Ticket
from svardesk.tickets.services import create_ticket, update_ticket
from tests.factories import default_pipeline

CORPUS = Path(__file__).resolve().parents[4] / "tests" / "data" / "email"
TEAM_ADDRESS = "support@acme.example"
CORPUS_SECRET = "svardesk-email-corpus"
SIGNED_A = "<sd.a1a1a1a1a1a1a1a1a1a1a1a1.3fd30c63921e64b02305@acme.example>"  # Gmail reply
SIGNED_B = "<sd.b2b2b2b2b2b2b2b2b2b2b2b2.43fe50f514362ecb0ce3@acme.example>"  # Outlook, OOF
SIGNED_C = "<sd.c3c3c3c3c3c3c3c3c3c3c3c3.d22d2adece9a73f3829d@acme.example>"  # Apple Mail
SIGNED_D = "<sd.d4d4d4d4d4d4d4d4d4d4d4d4.659c7f581b383c8de3b3@acme.example>"  # bounced


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def connect(address: str = TEAM_ADDRESS, *, inbox_kind: str = InboxKind.HELP_DESK) -> EmailChannel:
    inbox = Inbox.objects.filter(kind=inbox_kind).order_by("id").first()
    if inbox is None:
        inbox = Inbox.objects.create(name=str(inbox_kind), kind=inbox_kind)
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name=address)
    return EmailChannel.objects.create(channel=channel, address=address, display_name="Acme")


def ingest(email_channel: EmailChannel, raw: bytes | str, *, via: str = "smtp") -> InboundEmail:
    """Store and process a message (by corpus file name or raw bytes), like every transport."""
    data = corpus(raw) if isinstance(raw, str) else raw
    inbound = receive_raw_email(channel=email_channel, raw=data, via=via)
    process_inbound_email_now(inbound.pk)
    inbound.refresh_from_db()
    return inbound


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), name=name)


def ticket_with_outbound(
    email_channel: EmailChannel,
    *,
    message_id: str,
    contact_email: str,
    contact_name: str = "",
    subject: str = "Ärende",
    stage_name: str = "Waiting on contact",
) -> tuple[Ticket, Message]:
    """A ticket whose conversation holds one reply we sent (with `message_id`)."""
    first, _sep, last = contact_name.partition(" ")
    contact = Contact.objects.create(email=contact_email, first_name=first, last_name=last)
    ticket = create_ticket(
        actor=None,
        name=subject,
        pipeline=default_pipeline(),
        stage=stage(stage_name),
        contact=contact,
        source="EMAIL",
    )
    when = timezone.now() - dt.timedelta(hours=2)
    conversation = Conversation.objects.create(
        channel=email_channel.channel,
        inbox_id=email_channel.channel.inbox_id,
        ticket=ticket,
        contact=contact,
        subject=subject,
        last_message_at=when,
    )
    message = Message.objects.create(
        conversation=conversation,
        channel=email_channel.channel,
        direction=MessageDirection.OUTBOUND,
        sender_name="Anna Agent",
        sender_address=email_channel.address,
        to=[contact_email],
        subject=f"Re: {subject}",
        body_text="Hej!",
        message_id=message_id,
        delivery_status=DeliveryStatus.SENT,
        created_at=when,
    )
    return ticket, message


def close(ticket: Ticket) -> Ticket:
    update_ticket(ticket.pk, actor=None, changes={"stage": stage("Closed").pk})
    ticket.refresh_from_db()
    return ticket


def build_raw(
    *,
    sender: str = "Kund <kund@example.com>",
    to: str = TEAM_ADDRESS,
    subject: str = "Hej",
    message_id: str | None = "<m1@example.com>",
    in_reply_to: str = "",
    references: str = "",
    body: str = "Hej!\n",
    extra_headers: str = "",
    cc: str = "",
) -> bytes:
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}"]
    if cc:
        lines.append(f"Cc: {cc}")
    lines.append("Date: Mon, 3 Mar 2025 09:00:00 +0100")
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    if extra_headers:
        lines.append(extra_headers.strip("\n"))
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]
    lines += ["Content-Transfer-Encoding: 8bit", "", body]
    return "\n".join(lines).encode("utf-8")
