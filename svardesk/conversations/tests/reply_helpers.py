"""Builders for the agent-side conversation tests (replies, comments, spam); their fixtures
are in conftest.py."""

import datetime as dt

from django.utils import timezone

from svardesk.channels.email.services import connect_email_channel
from svardesk.conversations.models import (
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
)
from tests.factories import ContactFactory, TicketFactory

TEAM_ADDRESS = "support@acme.test"


def connect_channel(address: str = TEAM_ADDRESS, display_name: str = "Acme Support"):  # type: ignore[no-untyped-def]
    return connect_email_channel(actor=None, address=address, display_name=display_name).channel


def email_ticket(  # type: ignore[no-untyped-def]
    *,
    channel,
    team=None,
    subject: str = "Printer on fire",
    message_id: str = "<cust-1@example.com>",
    references: list[str] | None = None,
    body_html: str = "<p>My printer is on fire.</p>",
    body_text: str = "My printer is on fire.",
    cc: list[str] | None = None,
    when: dt.datetime | None = None,
):
    """A ticket with an email conversation holding one customer message."""
    contact = ContactFactory(first_name="Åsa", last_name="Lindqvist", email="asa@kund.example")
    ticket = TicketFactory(name=subject, team=team, contact=contact, source="EMAIL")
    when = when or timezone.now() - dt.timedelta(hours=1)
    conversation = Conversation.objects.create(
        channel=channel.channel,
        inbox_id=channel.channel.inbox_id,
        ticket=ticket,
        contact=contact,
        subject=subject,
        last_message_at=when,
    )
    inbound = Message.objects.create(
        conversation=conversation,
        channel=channel.channel,
        direction=MessageDirection.INBOUND,
        contact=contact,
        sender_name="Åsa Lindqvist",
        sender_address="asa@kund.example",
        to=[TEAM_ADDRESS],
        cc=cc or [],
        subject=subject,
        body_html=body_html,
        body_text=body_text,
        message_id=message_id,
        references=references or [],
        delivery_status=DeliveryStatus.RECEIVED,
        created_at=when,
    )
    return ticket, conversation, inbound


def run_scheduled(huey, *, limit: int = 20) -> list[float]:  # type: ignore[no-untyped-def]
    """Run every scheduled (retrying) task now, as the consumer's scheduler would when each
    one falls due; returns the retry delays in seconds that were asked for."""
    delays: list[float] = []
    for _ in range(limit):
        far_future = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=365)
        due = huey.read_schedule(far_future)
        if not due:
            break
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for task in due:
            delays.append(round((task.eta - now).total_seconds()))
            task.eta = None
            huey.execute(task)
    return delays
