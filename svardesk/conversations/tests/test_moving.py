"""move_conversation: out of the help desk the ticket stays; back in, the conversation rejoins
its ticket or gets a new one; only super admins and Account access users move."""

import datetime as dt

import pytest
from django.utils import timezone

from svardesk.conversations.inbound import record_inbound_message
from svardesk.conversations.models import Conversation, Inbox, InboxKind, Message, MessageDirection
from svardesk.conversations.moving import ConversationMoveError, move_conversation
from svardesk.conversations.queries import conversation_context, reply_conversation_of
from svardesk.conversations.services import ReplyValidationError, add_comment, send_reply
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.tickets.models import Source, Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.queries import list_timeline
from svardesk.tickets.signals import ticket_changed
from tests.factories import UserFactory, stage_named

from .reply_helpers import email_ticket


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sales(db):  # type: ignore[no-untyped-def]
    return Inbox.objects.create(name="Sales", kind=InboxKind.CONVERSATIONS)


@pytest.fixture
def admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(is_superuser=True, first_name="Ada", last_name="Admin")


def _events(ticket: Ticket) -> list[TicketEvent]:
    return list(TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.CONVERSATION_MOVED))


def _reply_from_customer(conversation: Conversation, message_id: str = "<cust-2@example.com>"):  # type: ignore[no-untyped-def]
    return record_inbound_message(
        channel=conversation.channel,
        sender_name="Åsa Lindqvist",
        sender_address="asa@kund.example",
        to=["support@acme.test"],
        cc=[],
        subject="Re: Printer on fire",
        body_text="Still burning.",
        body_html="",
        message_id=message_id,
        in_reply_to="<cust-1@example.com>",
        references=["<cust-1@example.com>"],
        attachments=[],
        is_auto_generated=False,
        received_at=timezone.now(),
        conversation=conversation,
    )


def test_moving_out_of_the_help_desk_keeps_the_ticket_and_records_the_move(
    email_channel, sales, admin, django_capture_on_commit_callbacks
):
    # Given a ticket with one email conversation in the help desk
    ticket, conversation, _inbound = email_ticket(channel=email_channel)
    help_desk_id = conversation.inbox_id
    assignee = UserFactory(first_name="Bo", last_name="Berg")
    announced: list[int] = []

    def listen(sender, ticket_id, **kwargs):  # type: ignore[no-untyped-def]
        announced.append(ticket_id)

    ticket_changed.connect(listen)
    try:
        # When a super admin moves it to the Sales inbox, assigned to Bo, with a comment
        with django_capture_on_commit_callbacks(execute=True):
            move_conversation(
                conversation, to_inbox=sales, actor=admin, assignee=assignee, comment="Lead!"
            )
    finally:
        ticket_changed.disconnect(listen)

    # Then the conversation is in Sales, assigned to Bo, still linked to its ticket
    conversation.refresh_from_db()
    assert conversation.inbox_id == sales.pk
    assert conversation.assignee_id == assignee.pk
    assert conversation.ticket_id == ticket.pk
    # The ticket stays in the help desk, unchanged but for its timeline
    ticket.refresh_from_db()
    assert ticket.owner_id is None
    (event,) = _events(ticket)
    assert event.actor_id == admin.pk
    assert event.data["to_inbox"] == "Sales"
    assert event.data["from_inbox"] == Inbox.objects.get(pk=help_desk_id).name
    assert event.data["assignee"] == assignee.display_name
    assert event.data["conversation_id"] == conversation.pk
    # The comment is an internal note on the conversation
    comment = Message.objects.get(conversation=conversation, direction=MessageDirection.COMMENT)
    assert comment.body_text == "Lead!"
    assert comment.author_id == admin.pk
    assert announced == [ticket.pk]


def test_a_moved_out_conversation_leaves_the_tickets_thread_and_replies(
    email_channel, sales, admin
):
    ticket, conversation, inbound = email_ticket(channel=email_channel)
    move_conversation(conversation, to_inbox=sales, actor=admin)

    ticket = Ticket.objects.get(pk=ticket.pk)
    context = conversation_context(ticket, actor=admin, timeline=list(list_timeline(ticket)))
    messages = [item.message.pk for item in context["thread"] if item.kind == "message"]
    assert inbound.pk not in messages
    moved = [item for item in context["thread"] if item.kind == "event"]
    assert [e.event.kind for e in moved][-1] == TicketEventKind.CONVERSATION_MOVED
    # No reply goes out on it from the ticket
    assert reply_conversation_of(ticket) is None
    assert context["reply_defaults"].conversation_id != conversation.pk
    with pytest.raises(ReplyValidationError):
        send_reply(ticket, actor=admin, text="Hello", conversation=conversation)
    assert not Message.objects.filter(
        conversation=conversation, direction=MessageDirection.OUTBOUND
    ).exists()
    # A comment on the ticket does not land in the moved conversation either
    note = add_comment(ticket, actor=admin, html="<p>internal</p>")
    assert note.conversation_id != conversation.pk


def test_a_new_message_on_a_moved_out_conversation_does_not_touch_the_ticket(
    email_channel, sales, admin
):
    # Given a closed ticket whose conversation was moved out
    ticket, conversation, _inbound = email_ticket(channel=email_channel)
    closed = stage_named("Closed")
    Ticket.objects.filter(pk=ticket.pk).update(stage=closed, is_open=False)
    move_conversation(conversation, to_inbox=sales, actor=admin)
    before = Ticket.objects.get(pk=ticket.pk)
    tickets_before = Ticket.objects.count()

    # When the customer writes again on that thread
    message = _reply_from_customer(Conversation.objects.get(pk=conversation.pk))

    # Then it stays in the conversations inbox and the ticket is untouched
    assert message.conversation_id == conversation.pk
    conversation.refresh_from_db()
    assert conversation.inbox_id == sales.pk
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.stage_id, after.is_open, after.last_activity_at, after.preview) == (
        before.stage_id,
        before.is_open,
        before.last_activity_at,
        before.preview,
    )
    assert Ticket.objects.count() == tickets_before


def test_moving_back_rejoins_the_ticket_and_sets_its_owner(email_channel, sales, admin):
    ticket, conversation, inbound = email_ticket(channel=email_channel)
    help_desk = Inbox.objects.get(pk=conversation.inbox_id)
    move_conversation(conversation, to_inbox=sales, actor=admin)
    owner = UserFactory()

    move_conversation(conversation, to_inbox=help_desk, actor=admin, assignee=owner)

    conversation.refresh_from_db()
    assert (conversation.inbox_id, conversation.ticket_id) == (help_desk.pk, ticket.pk)
    assert conversation.assignee_id is None
    ticket.refresh_from_db()
    assert ticket.owner_id == owner.pk
    # The owner change is on the timeline, and both moves
    kinds = [e.kind for e in list_timeline(ticket)]
    assert kinds.count(TicketEventKind.CONVERSATION_MOVED) == 2
    assert TicketEventKind.PROPERTY_CHANGED in kinds
    assert Ticket.objects.count() == 1
    assert reply_conversation_of(ticket) == conversation
    context = conversation_context(ticket, actor=admin, timeline=[])
    assert inbound.pk in [i.message.pk for i in context["thread"] if i.kind == "message"]


def test_a_conversation_without_a_ticket_gets_one_in_the_help_desk(email_channel, sales, admin):
    # Given a thread that started in a conversations inbox (no ticket)
    conversation = Conversation.objects.create(
        channel=email_channel.channel,
        inbox=sales,
        subject="",
        last_message_at=timezone.now() - dt.timedelta(minutes=5),
    )
    Message.objects.create(
        conversation=conversation,
        channel=email_channel.channel,
        direction=MessageDirection.INBOUND,
        sender_address="lead@example.com",
        body_text="Do you ship to Norway and Finland?",
        created_at=timezone.now() - dt.timedelta(minutes=5),
    )
    help_desk = Inbox.objects.get(pk=email_channel.channel.inbox_id)

    move_conversation(conversation, to_inbox=help_desk, actor=admin, comment="For support")

    conversation.refresh_from_db()
    ticket = conversation.ticket
    assert ticket is not None
    assert ticket.name == "Do you ship to Norway and Finland?"
    assert ticket.source == Source.EMAIL
    assert ticket.stage == stage_named("New")
    assert [e.kind for e in list_timeline(ticket)] == [
        TicketEventKind.CREATED,
        TicketEventKind.CONVERSATION_MOVED,
    ]
    assert Message.objects.filter(
        conversation=conversation, direction=MessageDirection.COMMENT, body_text="For support"
    ).exists()


def test_an_agent_without_account_access_may_not_move(email_channel, sales):
    ticket, conversation, _inbound = email_ticket(channel=email_channel)
    agent = UserFactory(has_account_access=False)

    with pytest.raises(PermissionDeniedError):
        move_conversation(conversation, to_inbox=sales, actor=agent, comment="x")

    conversation.refresh_from_db()
    assert conversation.inbox_id != sales.pk
    assert _events(ticket) == []
    assert not Message.objects.filter(direction=MessageDirection.COMMENT).exists()


def test_an_account_access_user_may_move(email_channel, sales):
    _ticket, conversation, _inbound = email_ticket(channel=email_channel)
    manager = UserFactory(has_account_access=True)

    move_conversation(conversation, to_inbox=sales, actor=manager)

    assert Conversation.objects.get(pk=conversation.pk).inbox_id == sales.pk


@pytest.mark.parametrize("target", ["same", "unknown", "none"])
def test_the_inbox_it_is_in_or_an_unknown_one_is_refused(email_channel, admin, target):
    ticket, conversation, _inbound = email_ticket(channel=email_channel)
    inbox = {
        "same": Inbox.objects.get(pk=conversation.inbox_id),
        "unknown": Inbox(pk=987654, name="Gone", kind=InboxKind.CONVERSATIONS),
        "none": None,
    }[target]

    with pytest.raises(ConversationMoveError) as caught:
        move_conversation(conversation, to_inbox=inbox, actor=admin)

    assert "to_inbox" in caught.value.errors
    assert _events(ticket) == []


def test_an_assignee_without_a_seat_is_refused(email_channel, sales, admin):
    _ticket, conversation, _inbound = email_ticket(channel=email_channel)
    seatless = UserFactory(has_seat=False)

    with pytest.raises(ConversationMoveError) as caught:
        move_conversation(conversation, to_inbox=sales, actor=admin, assignee=seatless)

    assert list(caught.value.errors) == ["assignee"]
    assert Conversation.objects.get(pk=conversation.pk).inbox_id != sales.pk


def test_nothing_is_announced_when_the_move_fails(
    email_channel, admin, django_capture_on_commit_callbacks
):
    _ticket, conversation, _inbound = email_ticket(channel=email_channel)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ConversationMoveError):
        move_conversation(
            conversation, to_inbox=Inbox.objects.get(pk=conversation.inbox_id), actor=admin
        )
    assert callbacks == []
