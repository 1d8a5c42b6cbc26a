"""The conversation core knows no channel: a reply, an automatic message and a follow-up go
through whichever adapter the conversation's channel registered (`conversations.registry`).

A fake channel kind registered in the test stands for chat (plain text, no To/Cc/Bcc, no
attachments); email is the real adapter, sending to a real SMTP server."""

import datetime as dt
import email.utils
import threading
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone

from svardesk.channels.email.ingest import process_inbound_email_now, receive_raw_email
from svardesk.channels.email.models import BlockedSender
from svardesk.channels.email.signing import is_signed_message_id
from svardesk.conversations import queries, registry, services
from svardesk.conversations.models import (
    Channel,
    Conversation,
    DeliveryStatus,
    Message,
    MessageDirection,
)
from svardesk.conversations.registry import (
    Capabilities,
    ChannelAdapter,
    ConversationAction,
    OutboundFields,
)
from svardesk.conversations.services import help_desk_inbox
from svardesk.tickets.models import Ticket
from tests.factories import ContactFactory, TicketFactory, stage_named

from .reply_helpers import TEAM_ADDRESS, email_ticket, run_scheduled

pytestmark = pytest.mark.django_db

KIND = "test_chat"
HTMX = {"HTTP_HX_REQUEST": "true"}


class FakeChatAdapter(ChannelAdapter):
    """A chat-like channel: plain text to the conversation's visitor, nothing else."""

    kind = KIND
    label = "Test chat"
    ticket_source = "CHAT"
    capabilities = Capabilities(rich_text=False, attachments=False, cc_bcc=False, subject=False)

    def __init__(self) -> None:
        self.delivered: list[int] = []
        self.fail = False
        self.blocked_reason = ""
        self.actions: list[ConversationAction] = []

    def compose_reply(self, conversation, *, actor, body_text, parent):  # type: ignore[no-untyped-def]
        return OutboundFields(to=["Visitor"], message_id=f"test-chat-{uuid.uuid4().hex}")

    def deliver(self, message):  # type: ignore[no-untyped-def]
        if self.fail:
            raise ConnectionError("the visitor's socket is gone")
        self.delivered.append(message.pk)
        return "test-chat"

    def reply_blocked_reason(self, conversation, *, now):  # type: ignore[no-untyped-def]
        return self.blocked_reason

    def conversation_actions(self, conversation, *, actor):  # type: ignore[no-untyped-def]
        return self.actions


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    adapter = FakeChatAdapter()
    registry.register(adapter)
    yield adapter
    registry.unregister(KIND)


@pytest.fixture
def fake_channel(fake):  # type: ignore[no-untyped-def]
    inbox = help_desk_inbox()  # made again after a transactional test's flush
    return Channel.objects.create(inbox=inbox, kind=KIND, name="Website chat")


def chat_ticket(channel: Channel, *, team=None) -> tuple[Ticket, Conversation]:  # type: ignore[no-untyped-def]
    contact = ContactFactory(first_name="Vera", last_name="Visitor", email="vera@kund.example")
    ticket = TicketFactory(name="Hello there", contact=contact, source="CHAT", team=team)
    when = timezone.now() - dt.timedelta(minutes=5)
    conversation = Conversation.objects.create(
        channel=channel,
        inbox_id=channel.inbox_id,
        ticket=ticket,
        contact=contact,
        last_message_at=when,
    )
    Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.INBOUND,
        contact=contact,
        sender_name="Vera Visitor",
        body_text="Hello there, is anyone around?",
        message_id="visitor-1",
        created_at=when,
    )
    return ticket, conversation


def _outbound() -> list[Message]:
    return list(Message.objects.filter(direction=MessageDirection.OUTBOUND))


# --- Replies go out through the conversation's adapter --------------------------------------


def test_a_reply_on_a_chat_conversation_is_delivered_by_its_adapter_not_by_email(
    fake,
    fake_channel,
    email_channel,
    agent,
    smtp_server,
    tasks_now,
    django_capture_on_commit_callbacks,
):
    ticket, conversation = chat_ticket(fake_channel)

    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, text="We are here.\nHow can I help?")

    message.refresh_from_db()
    assert message.conversation == conversation
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.delivered_via == "test-chat"
    assert fake.delivered == [message.pk]
    assert smtp_server.messages == []
    assert (message.to, message.cc, message.bcc, message.subject) == (["Visitor"], [], [], "")
    assert message.body_text == "We are here.\nHow can I help?"
    assert message.body_html == "<p>We are here.<br>How can I help?</p>"
    ticket.refresh_from_db()
    assert ticket.preview == "We are here.\nHow can I help?"
    assert ticket.last_message_author == agent


def test_a_plain_text_channel_stores_the_text_of_editor_html_escaped(
    fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conversation = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=False):
        message = services.send_reply(
            ticket, actor=agent, html="<p>Use <b>&lt;Ctrl&gt;</b></p><script>x()</script>"
        )
    assert message.body_text == "Use <Ctrl>"
    assert message.body_html == "<p>Use &lt;Ctrl&gt;</p>"


def test_a_to_sent_to_a_channel_without_recipients_is_ignored(
    fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conversation = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=False):
        message = services.send_reply(ticket, actor=agent, text="Hi", to="other@x.example")
    assert message.to == ["Visitor"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        pytest.param({"cc": "boss@kund.example"}, "cc", id="cc"),
        pytest.param({"bcc": ["audit@acme.test"]}, "cc", id="bcc"),
        pytest.param(
            {"attachments": [SimpleUploadedFile("a.txt", b"hello", "text/plain")]},
            "attachments",
            id="attachment",
        ),
        pytest.param({"text": "  "}, "html", id="blank"),
    ],
)
def test_what_the_channel_cannot_carry_is_refused_and_nothing_is_stored(
    fake, fake_channel, agent, extra, field, django_capture_on_commit_callbacks
):
    ticket, _conversation = chat_ticket(fake_channel)
    arguments = {"text": "Hi", **extra}
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.ReplyValidationError) as refused,
    ):
        services.send_reply(ticket, actor=agent, **arguments)
    assert set(refused.value.errors) == {field}
    assert _outbound() == []
    assert callbacks == []
    assert fake.delivered == []
    ticket.refresh_from_db()
    assert ticket.last_message_author is None


def test_the_channels_blocked_reason_refuses_the_reply(
    fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    fake.blocked_reason = "The reply window closed 2 days ago."
    ticket, _conversation = chat_ticket(fake_channel)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.ReplyValidationError) as refused,
    ):
        services.send_reply(ticket, actor=agent, text="Still there?")
    assert refused.value.errors == {"channel": "The reply window closed 2 days ago."}
    assert _outbound() == []
    assert callbacks == []
    ticket.refresh_from_db()
    assert ticket.stage == stage_named("New")


@pytest.mark.parametrize(
    ("last_message_ago", "refused"),
    [
        pytest.param(dt.timedelta(minutes=50), False, id="inside-the-window"),
        pytest.param(dt.timedelta(hours=2), True, id="window-closed"),
    ],
)
def test_a_reply_window_closes_after_the_customers_last_message(
    fake, fake_channel, agent, last_message_ago, refused, django_capture_on_commit_callbacks
):
    fake.capabilities = Capabilities(reply_window=dt.timedelta(hours=1))
    ticket, conversation = chat_ticket(fake_channel)
    conversation.messages.update(created_at=timezone.now() - last_message_ago)
    with django_capture_on_commit_callbacks(execute=False):
        if refused:
            with pytest.raises(services.ReplyValidationError) as error:
                services.send_reply(ticket, actor=agent, text="Late")
            assert error.value.errors["channel"] == (
                "Test chat takes replies only within 1\xa0hour of the customer's last "
                "message. Reply on another channel, or add a comment."
            )
        else:
            services.send_reply(ticket, actor=agent, text="In time")
    assert len(_outbound()) == (0 if refused else 1)


def test_a_channel_that_delivers_immediately_skips_the_queue(
    fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_all()
    fake.delivers_immediately = True
    ticket, _conversation = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, text="At once")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert fake.delivered == [message.pk]
    assert HUEY.pending_count() == 0


def test_an_immediate_delivery_that_fails_falls_back_to_the_queue(
    fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_all()
    fake.delivers_immediately = True
    fake.fail = True
    ticket, _conversation = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, text="Are you there?")

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED
    assert message.delivery_error == "ConnectionError: the visitor's socket is gone"
    assert (message.send_attempts, message.sending_since) == (1, None)
    assert HUEY.pending_count() == 1

    fake.fail = False
    task = HUEY.dequeue()
    assert task.name.endswith("deliver_message")
    HUEY.immediate = True  # as the consumer runs it, minus closing the test's connection
    try:
        HUEY.execute(task)
    finally:
        HUEY.immediate = False
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert (message.send_attempts, message.delivery_error) == (2, "")
    assert fake.delivered == [message.pk]
    HUEY.storage.flush_all()


def test_a_delivery_that_keeps_failing_ends_not_delivered_with_retry(
    fake, fake_channel, agent, tasks_now, django_capture_on_commit_callbacks
):
    fake.fail = True
    ticket, _conversation = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, text="Hello?")
    run_scheduled(tasks_now)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert "socket is gone" in message.delivery_error

    fake.fail = False
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_delivery(message, actor=agent)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT


def test_comments_sit_in_the_chat_conversation(fake, fake_channel, agent):
    ticket, conversation = chat_ticket(fake_channel)
    comment = services.add_comment(ticket, actor=agent, html="<p>VIP visitor</p>")
    assert comment.conversation == conversation
    assert comment.direction == MessageDirection.COMMENT
    assert fake.delivered == []


# --- Where a reply goes -----------------------------------------------------------------------


def test_a_ticket_whose_only_channel_cannot_start_a_conversation_has_nowhere_to_reply(
    fake, fake_channel, agent
):
    ticket = TicketFactory(contact=ContactFactory(email="vera@kund.example"))
    with pytest.raises(services.NoReplyChannelError):
        services.send_reply(ticket, actor=agent, text="Hi")
    assert services.NoEmailChannelError is services.NoReplyChannelError
    assert not Conversation.objects.filter(ticket=ticket).exists()


def test_a_channel_that_takes_no_replies_is_answered_by_email(
    email_channel, agent, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    class FormLike(ChannelAdapter):
        kind = "test_form"
        label = "Test form"
        capabilities = Capabilities(replies=False)

    registry.register(FormLike())
    try:
        inbox = help_desk_inbox()
        form_channel = Channel.objects.create(inbox=inbox, kind="test_form", name="Contact us")
        contact = ContactFactory(first_name="Fia", last_name="", email="fia@kund.example")
        ticket = TicketFactory(name="Invoice question", contact=contact, source="FORM")
        Conversation.objects.create(
            channel=form_channel, inbox=inbox, ticket=ticket, contact=contact
        )
        assert queries.reply_conversation_of(ticket) is None  # the form takes no replies
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_reply(
                ticket, actor=agent, html="<p>Thanks!</p>", to="fia@kund.example"
            )
    finally:
        registry.unregister("test_form")
    assert message.channel == email_channel.channel
    assert message.conversation.channel == email_channel.channel
    assert [m["To"] for m in smtp_server.messages] == ["fia@kund.example"]


def test_a_follow_up_conversation_takes_the_next_reply_to_email(
    fake,
    fake_channel,
    email_channel,
    agent,
    smtp_server,
    tasks_now,
    django_capture_on_commit_callbacks,
):
    ticket, chat = chat_ticket(fake_channel)

    follow_up = services.start_follow_up_conversation(ticket)

    assert follow_up is not None
    assert follow_up.channel == email_channel.channel
    assert follow_up.contact == ticket.contact
    assert follow_up.last_message_at > chat.last_message_at
    assert not follow_up.messages.exists()
    assert services.start_follow_up_conversation(ticket) == follow_up  # once
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(
            ticket, actor=agent, html="<p>Sorry we missed you.</p>", to="vera@kund.example"
        )
    assert message.conversation == follow_up
    assert fake.delivered == []
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert email.utils.parseaddr(sent["From"])[1] == TEAM_ADDRESS
    assert sent["Subject"] == f"Hello there [#{ticket.pk}]"


def test_no_follow_up_conversation_without_a_channel_that_starts_one(fake, fake_channel):
    ticket, _chat = chat_ticket(fake_channel)
    assert services.start_follow_up_conversation(ticket) is None
    assert Conversation.objects.filter(ticket=ticket).count() == 1


# --- Automatic messages -------------------------------------------------------------------------


def test_an_automatic_message_is_stored_and_sent_once_per_key(
    fake,
    fake_channel,
    email_channel,
    agent,
    smtp_server,
    tasks_now,
    django_capture_on_commit_callbacks,
):
    ticket, _chat = chat_ticket(fake_channel)
    stage = ticket.stage

    transcript = {
        "to": "vera@kund.example",
        "subject": "Your chat with Acme",
        "text": "Vera: Hello there\nAnna: Hi!",
        "dedupe_key": f"transcript:{ticket.pk}",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = services.send_automatic_message(ticket, **transcript)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = services.send_automatic_message(ticket, **transcript)
    assert callbacks == []  # nothing stored, nothing sent again

    assert again.pk == first.pk
    first.refresh_from_db()
    assert first.delivery_status == DeliveryStatus.SENT
    assert (first.author, first.is_auto_generated, first.direction) == (
        None,
        True,
        MessageDirection.OUTBOUND,
    )
    assert first.channel == email_channel.channel
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent["Message-ID"] == first.message_id
    assert is_signed_message_id(first.message_id)
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["To"] == "vera@kund.example"
    assert sent["Subject"] == f"Your chat with Acme [#{ticket.pk}]"
    assert email.utils.parseaddr(sent["From"]) == ("Acme Support", TEAM_ADDRESS)
    ticket.refresh_from_db()
    assert ticket.stage == stage
    assert ticket.last_message_author is None
    # Another key is another message.
    with django_capture_on_commit_callbacks(execute=True):
        services.send_automatic_message(
            ticket, to="vera@kund.example", subject="x", text="y", dedupe_key="other"
        )
    assert len(smtp_server.messages) == 2


def test_an_automatic_message_needs_a_valid_address_on_email(email_channel):
    ticket = TicketFactory()
    with pytest.raises(services.ReplyValidationError) as refused:
        services.send_automatic_message(
            ticket, to="not an address", subject="s", text="t", dedupe_key="k"
        )
    assert set(refused.value.errors) == {"to"}
    assert _outbound() == []


def test_an_answer_to_an_automatic_message_threads_into_its_ticket(
    fake, fake_channel, email_channel, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    ticket, _chat = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=True):
        sent = services.send_automatic_message(
            ticket,
            to="vera@kund.example",
            subject="We received your request",
            text="Thanks!",
            dedupe_key="form-confirmation:1",
        )
    raw = (
        "From: Vera Visitor <vera@kund.example>\r\n"
        f"To: {TEAM_ADDRESS}\r\n"
        "Subject: Re: We received your request\r\n"
        "Message-ID: <answer-1@kund.example>\r\n"
        f"In-Reply-To: {sent.message_id}\r\n"
        "\r\n"
        "One more thing.\r\n"
    ).encode()
    inbound = receive_raw_email(channel=email_channel, raw=raw, via="smtp")
    process_inbound_email_now(inbound.pk)

    answer = Message.objects.get(message_id="<answer-1@kund.example>")
    assert answer.conversation.ticket_id == ticket.pk
    assert answer.conversation == sent.conversation
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_automatic_messages_with_one_key_store_one(fake, fake_channel, email_channel):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one write transaction at a time")
    ticket, _chat = chat_ticket(fake_channel)
    barrier = threading.Barrier(3)
    results: list[object] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(
                services.send_automatic_message(
                    ticket,
                    to="vera@kund.example",
                    subject="Transcript",
                    text="…",
                    dedupe_key="transcript:race",
                )
            )
        except Exception as exc:  # reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(r, Message) for r in results), results
    assert len({r.pk for r in results if isinstance(r, Message)}) == 1
    assert Message.objects.filter(direction=MessageDirection.OUTBOUND).count() == 1
    assert Conversation.objects.filter(ticket=ticket, channel=email_channel.channel).count() == 1


# --- Blocking senders is the channel's ---------------------------------------------------------


def test_marking_spam_on_a_channel_that_cannot_block_blocks_nobody(fake, fake_channel, super_admin):
    ticket, _chat = chat_ticket(fake_channel)
    assert services.mark_ticket_spam(ticket, actor=super_admin, block_sender=True) == ""
    ticket.refresh_from_db()
    assert ticket.is_spam
    assert not BlockedSender.objects.exists()


def test_email_blocks_the_sender_through_its_adapter(email_channel, super_admin):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel)
    assert (
        services.mark_ticket_spam(ticket, actor=super_admin, block_sender=True)
        == "asa@kund.example"
    )
    assert list(BlockedSender.objects.values_list("address", flat=True)) == ["asa@kund.example"]
    assert (
        services.mark_ticket_not_spam(ticket, actor=super_admin, unblock_sender=True)
        == "asa@kund.example"
    )
    assert not BlockedSender.objects.exists()


# --- The ticket page follows the channel --------------------------------------------------------


def test_the_thread_names_each_messages_channel(
    client, fake, fake_channel, email_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _chat = chat_ticket(fake_channel)
    with django_capture_on_commit_callbacks(execute=False):
        services.send_automatic_message(
            ticket, to="vera@kund.example", subject="Transcript", text="…", dedupe_key="t"
        )
    client.force_login(agent)
    page = client.get(reverse("conversations:thread", args=[ticket.pk]), **HTMX).content.decode()
    assert page.count(f'data-message-channel="{KIND}"') == 1
    assert "Test chat" in page
    assert page.count('data-message-channel="email"') == 1
    assert "sent automatically" in page


def test_the_reply_editor_follows_a_chat_conversations_capabilities(
    client, fake, fake_channel, email_channel, agent
):
    fake.agent_script = "conversations/conversations.js"
    fake.actions = [ConversationAction(label="Close test chat", url="/x/close/", confirm="Sure?")]
    ticket, _chat = chat_ticket(fake_channel)
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk]), **HTMX).content.decode()
    reply_pane = page[page.index('data-pane="reply"') : page.index('data-pane="comment"')]
    assert 'name="text"' in reply_pane
    for absent in ('name="to"', 'name="cc"', 'name="bcc"', 'type="file"', "data-editor="):
        assert absent not in reply_pane, absent
    assert "Test chat" in reply_pane
    assert 'src="/static/conversations/conversations.js" defer data-channel-script' in page
    assert 'hx-post="/x/close/"' in reply_pane
    assert 'hx-confirm="Sure?"' in reply_pane
    assert "csrfmiddlewaretoken" in reply_pane


def test_the_reply_editor_shows_the_blocked_reason_instead_of_send(
    client, fake, fake_channel, agent
):
    fake.blocked_reason = "The reply window closed."
    ticket, _chat = chat_ticket(fake_channel)
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk]), **HTMX).content.decode()
    reply_pane = page[page.index('data-pane="reply"') : page.index('data-pane="comment"')]
    assert "The reply window closed." in reply_pane
    assert "data-reply-blocked" in reply_pane
    assert 'hx-post="' + reverse("conversations:reply", args=[ticket.pk]) not in reply_pane


def test_the_reply_editor_of_an_email_conversation_keeps_recipients_and_files(
    client, email_channel, agent
):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel)
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk]), **HTMX).content.decode()
    reply_pane = page[page.index('data-pane="reply"') : page.index('data-pane="comment"')]
    for present in ('name="to"', 'name="cc"', 'name="bcc"', 'type="file"', 'data-editor="reply"'):
        assert present in reply_pane, present
    assert 'name="text"' not in reply_pane
    assert f"From {TEAM_ADDRESS}" in reply_pane


def test_a_plain_text_reply_posted_from_the_editor_is_sent(
    client, fake, fake_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _chat = chat_ticket(fake_channel)
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            reverse("conversations:reply", args=[ticket.pk]),
            {"text": "Typed <b>plainly</b>", "html": ""},
            **HTMX,
        )
    assert response.status_code == 200
    message = Message.objects.get(direction=MessageDirection.OUTBOUND)
    assert message.body_text == "Typed <b>plainly</b>"
    assert message.body_html == "<p>Typed &lt;b&gt;plainly&lt;/b&gt;</p>"


def test_the_conversation_column_costs_the_same_queries_however_many_messages_and_channels(
    fake, fake_channel, email_channel, agent, django_capture_on_commit_callbacks
):
    from django.test.utils import CaptureQueriesContext

    ticket, _chat = chat_ticket(fake_channel)

    def count() -> int:
        from svardesk.core.local_cache import clear_local_cache

        clear_local_cache()  # the settings and our addresses are read the same way each time
        with CaptureQueriesContext(connection) as queries_run:
            queries.conversation_context(ticket, actor=agent, timeline=[])
        return len(queries_run.captured_queries)

    earlier = timezone.now() - dt.timedelta(hours=1)  # the chat stays the latest conversation

    def add(n: int) -> None:
        with django_capture_on_commit_callbacks(execute=False):
            services.send_automatic_message(
                ticket,
                to="vera@kund.example",
                subject="s",
                text="t",
                dedupe_key=f"k{n}",
                now=earlier,
            )
            services.send_reply(ticket, actor=agent, text=f"Reply {n}")

    add(0)
    # Warm: a first read on a fresh SQLite connection also asks the database whether it has
    # JSON (Django's feature check, once per connection); statements compiled once per
    # process (core.precompiled) may leave that to this read.
    count()
    before = count()
    for n in range(1, 5):
        add(n)
    assert Message.objects.filter(conversation__ticket=ticket).count() == 11
    assert count() == before
