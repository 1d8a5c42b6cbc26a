"""`ticket_message`: one message of a ticket, read as the thread reads it, from a statement
compiled once (a live channel's Send answers with it)."""

import pytest

from svardesk.conversations import queries
from svardesk.conversations.models import Attachment

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db


def test_ticket_message_is_the_threads_message_with_its_attachments(email_channel):
    ticket, _conversation, inbound = email_ticket(channel=email_channel)
    other_ticket, _other, other_message = email_ticket(
        channel=email_channel, message_id="<other@example.com>"
    )
    Attachment.objects.create(message=inbound, file="attachments/a.pdf", filename="a.pdf", size=3)

    for _round in range(2):  # compiling, then the compiled statement
        found = queries.ticket_message(ticket, inbound.pk)
        expected = queries.list_ticket_messages(ticket).get(pk=inbound.pk)
        assert found is not None
        assert (found.pk, found.body_text, found.direction) == (
            expected.pk,
            expected.body_text,
            expected.direction,
        )
        assert found.channel == expected.channel
        assert found.contact == expected.contact
        assert "attachments" in found._prefetched_objects_cache
        assert [a.filename for a in found.attachments.all()] == ["a.pdf"]
        # Another ticket's message is not this ticket's.
        assert queries.ticket_message(ticket, other_message.pk) is None
        assert queries.ticket_message(other_ticket, other_message.pk) is not None
