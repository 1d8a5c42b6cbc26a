"""The demo's calls number and Facebook Page can be tried end to end: `svardesk demo` connects
them, `svardesk demo_inbound` sends signed webhooks over HTTP to the running server (a
voicemail, a missed call, a Messenger message) and they become tickets; a reply on the
Messenger ticket is delivered through the demo's Graph stand-in."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from svardesk.conversations import services as conversation_services
from svardesk.conversations.delivery import deliver_message
from svardesk.conversations.models import Channel, ChannelKind, DeliveryStatus, Message
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Ticket


@pytest.fixture
def demo(live_server, settings, transactional_db):
    settings.BASE_URL = live_server.url
    settings.INBOUND_PROCESSING_DELAY = 0  # processed in the request: no worker runs here
    settings.GRAPH_API_URL = f"{live_server.url}/demo/graph"
    out = StringIO()
    call_command("demo", "--tickets=0", "--contacts=0", "--agents=1", "--teams=1", stdout=out)
    return out.getvalue()


def _inbound(*args: str) -> str:
    out = StringIO()
    call_command("demo_inbound", *args, stdout=out)
    return out.getvalue()


def test_the_demo_connects_a_calls_number_and_a_messenger_page(demo):
    kinds = set(Channel.objects.filter(is_active=True).values_list("kind", flat=True))

    assert {ChannelKind.CALL, ChannelKind.MESSENGER} <= kinds
    assert "Calls: +46855512345" in demo
    assert "/channels/messenger/" in demo


def test_a_demo_voicemail_becomes_a_call_ticket_with_its_transcript(demo):
    printed = _inbound("call", "--from", "+46 70 765 43 21", "--transcript", "Ring mig tack")

    assert [line.split()[0] for line in printed.splitlines()] == ["200", "204", "204", "204"]
    ticket = Ticket.objects.get(source=Source.CALL)
    message = Message.objects.get(conversation__ticket=ticket)
    assert "Ring mig tack" in message.body_text
    assert Contact.objects.filter(pk=ticket.contact_id).exists()


def test_a_demo_messenger_message_becomes_a_ticket_and_a_reply_is_delivered(demo, super_admin):
    _inbound("messenger", "Hej, var är mitt paket?")

    ticket = Ticket.objects.get(source=Source.MESSENGER)
    assert Message.objects.get(conversation__ticket=ticket).body_text.startswith("Hej, var")
    reply = conversation_services.send_reply(ticket, actor=super_admin, text="Det är på väg!")
    assert deliver_message(reply.pk, is_final_attempt=True) == "sent"
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT


def test_without_the_demo_the_command_says_what_to_do(db):
    with pytest.raises(CommandError, match="svardesk demo"):
        _inbound("messenger", "Hi")
