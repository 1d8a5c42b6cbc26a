"""Query-count baseline of `record_inbound_messages`: a batch costs a fixed number of SQL
statements whatever its size — new conversations and replies alike — so a change that adds
a statement per message (an N+1, a per-ticket signal receiver) fails here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from svardesk.conversations.inbound import InboundItem, record_inbound_messages
from svardesk.conversations.models import Channel, ChannelKind, Inbox, InboxKind, Message
from svardesk.tickets.models import Ticket
from tests.factories import default_pipeline


def _item(channel: Channel, n: int, **overrides) -> InboundItem:
    values = {
        "channel": channel,
        "sender_name": f"Kund {n}",
        "sender_address": f"kund{n}@example.se",
        "to": ["support@acme.example"],
        "cc": [],
        "subject": f"Ärende {n}",
        "body_text": f"Hej! Fråga nummer {n}.",
        "body_html": f"<p>Hej! Fråga nummer {n}.</p>",
        "message_id": f"<m{n}@example.se>",
        "in_reply_to": "",
        "references": [],
        "attachments": [],
        "is_auto_generated": False,
        "received_at": timezone.now(),
    }
    values.update(overrides)
    return InboundItem(**values)


def _statements(items: list[InboundItem]) -> tuple[int, list[Message]]:
    with CaptureQueriesContext(connection) as queries:
        messages = record_inbound_messages(items)
    return len(queries), messages


@pytest.fixture
def channel(db) -> Channel:
    default_pipeline()
    inbox = Inbox.objects.create(name="Help desk", kind=InboxKind.HELP_DESK)
    return Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="support")


def test_new_conversations_cost_the_same_statements_in_any_batch(channel):
    _statements([_item(channel, 0)])  # makes the settings row (clears the local cache)
    _statements([_item(channel, 1)])  # reads the settings and stages into it
    one, _messages = _statements([_item(channel, 2)])
    ten, messages = _statements([_item(channel, n) for n in range(10, 20)])
    assert len(messages) == 10
    assert Ticket.objects.count() == 13
    assert one == ten, (one, ten)
    # 10 since tickets' contacts are associations too (one INSERT for the batch, after one
    # read of the contacts' companies); 13 since new senders' contacts get their address
    # rows (one INSERT), their company by email domain (one read of the domains' companies)
    # and a "created" entry on their timeline (one INSERT).
    assert ten <= 13


def test_replies_cost_the_same_statements_in_any_batch(channel):
    _statements([_item(channel, 0)])
    _statements([_item(channel, 1)])
    _count, started = _statements([_item(channel, n) for n in range(10, 22)])

    def replies(first: int, parents: list[Message]) -> list[InboundItem]:
        return [
            _item(
                channel,
                first + n,
                conversation=parent.conversation,
                sender_address=parent.sender_address,
                in_reply_to=parent.message_id,
            )
            for n, parent in enumerate(parents)
        ]

    _statements(replies(100, started[:1]))  # reads the pipeline's open stages
    one, _messages = _statements(replies(150, started[1:2]))
    ten, messages = _statements(replies(200, started[2:]))
    assert one == ten, (one, ten)
    # The conversation and ticket of each: one UPDATE each for the batch; the move to
    # "Waiting on us" one per stage.
    assert ten <= 14
    tickets = Ticket.objects.filter(pk__in=[m.conversation.ticket_id for m in messages])
    assert {t.last_activity_at for t in tickets} == {m.created_at for m in messages}
    assert all(t.preview.startswith("Hej! Fråga nummer 2") for t in tickets)
