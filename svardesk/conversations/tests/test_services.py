"""Replies, comments, delivery and spam, with outbound mail captured by a real SMTP server."""

import datetime as dt
import email.utils

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from svardesk.channels.email.models import BlockedSender
from svardesk.channels.email.signing import is_signed_message_id
from svardesk.conversations import delivery, services
from svardesk.conversations.models import (
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Message,
    MessageDirection,
    Notification,
)
from svardesk.conversations.tasks import SEND_RETRIES, send_email_message
from svardesk.core.exceptions import NotFoundError
from svardesk.ticket_views.queries import list_view_tickets
from svardesk.tickets.models import Ticket, TicketEvent
from tests.factories import ContactFactory, TicketFactory, UserFactory, stage_named
from tests.mail_server import SmtpServer, free_port

from .reply_helpers import TEAM_ADDRESS, connect_channel, email_ticket, run_scheduled

pytestmark = pytest.mark.django_db


def _parts(captured):  # type: ignore[no-untyped-def]
    body = captured.get_body(("related", "html", "plain"))
    alternative = next(
        p for p in captured.walk() if p.get_content_type() == "multipart/alternative"
    )
    kinds = [p.get_content_type() for p in alternative.iter_parts()]
    html = next(p for p in alternative.iter_parts() if p.get_content_type() == "text/html")
    text = next(p for p in alternative.iter_parts() if p.get_content_type() == "text/plain")
    return kinds, html.get_content(), text.get_content().replace("\r\n", "\n"), body


def test_reply_is_sent_with_threading_headers_and_both_parts(
    smtp_server, tasks_now, email_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conversation, _inbound = email_ticket(
        channel=email_channel,
        references=["<root@example.com>"],
        cc=["Bo <bo@kund.example>"],
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = services.send_reply(
            ticket,
            actor=agent,
            html='<p>Hello <strong>Åsa</strong>,</p><p>unplug it.<script>alert("x")</script></p>',
            to="Åsa Lindqvist <asa@kund.example>",
            cc="bo@kund.example",
            bcc="audit@acme.test",
        )
    assert len(callbacks) >= 2  # delivery task and the live announcement, after commit

    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.SENT
    assert message.send_attempts == 1
    assert message.body_html == "<p>Hello <strong>Åsa</strong>,</p><p>unplug it.</p>"
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]

    assert email.utils.parseaddr(sent["From"]) == ("Anna Agent at Acme Support", TEAM_ADDRESS)
    assert sent["Message-ID"] == message.message_id
    assert is_signed_message_id(sent["Message-ID"])
    assert sent["Message-ID"].endswith("@acme.test>")
    assert sent["In-Reply-To"] == "<cust-1@example.com>"
    assert sent["References"].split() == ["<root@example.com>", "<cust-1@example.com>"]
    assert sent["Subject"] == f"Re: Printer on fire [#{ticket.pk}]"
    assert email.utils.getaddresses([sent["To"]]) == [("Åsa Lindqvist", "asa@kund.example")]
    assert sent["Cc"] == "bo@kund.example"
    assert "Bcc" not in sent  # Bcc goes in the envelope only

    kinds, html, text, _body = _parts(sent)
    assert kinds == ["text/plain", "text/html"]
    assert "<strong>Åsa</strong>" in html
    assert "<script" not in html
    assert "My printer is on fire." in html  # the customer's message, quoted under the reply
    assert text.startswith("Hello Åsa,\n\nunplug it.")
    assert "> My printer is on fire." in text
    assert message.references == ["<root@example.com>", "<cust-1@example.com>"]
    assert message.in_reply_to == "<cust-1@example.com>"


def test_reply_updates_ticket_and_moves_it_to_waiting_on_contact(
    email_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    with django_capture_on_commit_callbacks(execute=False):
        services.send_reply(ticket, actor=agent, html="<p>On it.</p>", to="asa@kund.example")
    ticket.refresh_from_db()
    assert ticket.last_message_author == agent
    assert ticket.preview == "On it."
    assert ticket.stage == stage_named("Waiting on contact")
    event = TicketEvent.objects.filter(ticket=ticket, data__property="stage").get()
    assert (event.actor, event.data["new_display"]) == (agent, "Waiting on contact")
    # The Sent view lists it for the agent who wrote last, and for no one else.
    assert [t.pk for t in list_view_tickets(agent, "sent").tickets] == [ticket.pk]
    other = UserFactory()
    assert list_view_tickets(other, "sent").tickets == []


def test_reply_leaves_status_alone_when_the_setting_is_off(email_channel, agent):
    HelpDeskSettings.objects.update_or_create(
        pk=1, defaults={"move_to_waiting_on_contact_on_reply": False}
    )
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    services.send_reply(ticket, actor=agent, html="<p>On it.</p>", to="asa@kund.example")
    ticket.refresh_from_db()
    assert ticket.stage == stage_named("New")
    assert not TicketEvent.objects.filter(ticket=ticket, data__property="stage").exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        pytest.param({"html": "<p> </p>"}, "html", id="empty-text"),
        pytest.param({"html": "<script>x</script>"}, "html", id="only-script"),
        pytest.param({"to": "not an address"}, "to", id="bad-to"),
        pytest.param({"to": ""}, "to", id="no-recipient"),
        pytest.param({"to": TEAM_ADDRESS}, "to", id="only-ourselves"),
        pytest.param({"cc": "x@"}, "cc", id="bad-cc"),
    ],
)
def test_invalid_reply_stores_and_sends_nothing(
    smtp_server, tasks_now, email_channel, agent, kwargs, field, django_capture_on_commit_callbacks
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    arguments = {"html": "<p>Hi</p>", "to": "asa@kund.example", **kwargs}
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.ReplyValidationError) as exc,
    ):
        services.send_reply(ticket, actor=agent, **arguments)
    assert field in exc.value.errors
    assert callbacks == []
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()
    assert smtp_server.messages == []
    ticket.refresh_from_db()
    assert ticket.last_message_author is None


def test_attachment_over_the_limit_is_refused(smtp_server, tasks_now, email_channel, agent):
    HelpDeskSettings.objects.update_or_create(pk=1, defaults={"max_attachment_bytes": 1000})
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    big = SimpleUploadedFile("big.pdf", b"x" * 1001, content_type="application/pdf")
    with pytest.raises(services.ReplyValidationError) as exc:
        services.send_reply(
            ticket,
            actor=agent,
            html="<p>See attached</p>",
            to="asa@kund.example",
            attachments=[big],
        )
    assert "big.pdf" in exc.value.errors["attachments"]
    assert "1000" in exc.value.errors["attachments"] or "1,000" in exc.value.errors["attachments"]
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()
    assert smtp_server.messages == []


def test_attachments_travel_with_the_reply(
    smtp_server, tasks_now, email_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    upload = SimpleUploadedFile("invoice.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(
            ticket,
            actor=agent,
            html="<p>Attached.</p>",
            to="asa@kund.example",
            attachments=[upload],
        )
    assert [(a.filename, a.size) for a in message.attachments.all()] == [("invoice.pdf", 13)]
    sent = smtp_server.messages[0]
    assert sent.get_content_type() == "multipart/mixed"
    attached = list(sent.iter_attachments())
    assert [(a.get_filename(), a.get_content_type()) for a in attached] == [
        ("invoice.pdf", "application/pdf")
    ]
    assert attached[0].get_content() == b"%PDF-1.4 test"


def test_manual_ticket_gets_a_new_email_conversation(
    smtp_server, tasks_now, agent, django_capture_on_commit_callbacks
):
    connect_channel("help@second.test", display_name="")
    first = connect_channel("support@first.test", display_name="First")  # connected later
    contact = ContactFactory(first_name="Per", last_name="Persson", email="per@kund.example")
    ticket = TicketFactory(name="Call me back", contact=contact)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(
            ticket, actor=agent, html="<p>Calling you now.</p>", to="per@kund.example"
        )
    conversation = Conversation.objects.get(ticket=ticket)
    assert conversation.channel.email.address == "help@second.test"  # the first connected
    assert first.address != conversation.channel.email.address
    assert (conversation.contact, conversation.subject) == (contact, "Call me back")
    assert message.in_reply_to == ""
    sent = smtp_server.messages[0]
    assert sent["Subject"] == f"Call me back [#{ticket.pk}]"
    assert "In-Reply-To" not in sent
    assert email.utils.parseaddr(sent["From"]) == ("Anna Agent", "help@second.test")


def test_auto_replies_are_never_answered(
    smtp_server, tasks_now, email_channel, agent, django_capture_on_commit_callbacks
):
    from svardesk.conversations.queries import reply_defaults

    ticket, conversation, human = email_ticket(channel=email_channel)
    Message.objects.create(
        conversation=conversation,
        channel=email_channel.channel,
        direction=MessageDirection.INBOUND,
        sender_name="Mail Delivery System",
        sender_address="mailer-daemon@kund.example",
        to=[TEAM_ADDRESS],
        subject="Out of office",
        body_text="I am away.",
        message_id="<auto-1@kund.example>",
        is_auto_generated=True,
        created_at=human.created_at + dt.timedelta(minutes=5),
    )
    defaults = reply_defaults(ticket)
    assert defaults.to == ["Åsa Lindqvist <asa@kund.example>"]
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to=defaults.to)
    assert message.in_reply_to == human.message_id
    assert [m["To"] for m in smtp_server.messages] == ["Åsa Lindqvist <asa@kund.example>"]


def test_reply_without_any_email_channel_is_refused(agent):
    ticket = TicketFactory(contact=ContactFactory(email="per@kund.example"))
    with pytest.raises(services.NoEmailChannelError):
        services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to="per@kund.example")
    assert not Message.objects.exists()
    assert not Conversation.objects.exists()


def test_team_scoped_agent_cannot_reply_to_another_teams_ticket(
    email_channel, team_agent, support_team
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel, team=support_team)
    with pytest.raises(NotFoundError):
        services.send_reply(ticket, actor=team_agent, html="<p>Hi</p>", to="asa@kund.example")
    with pytest.raises(NotFoundError):
        services.add_comment(ticket, actor=team_agent, html="<p>note</p>")
    assert not Message.objects.exclude(direction=MessageDirection.INBOUND).exists()


def test_failed_delivery_retries_with_backoff_then_fails_and_retry_sends(
    settings, tasks_now, email_channel, agent, django_capture_on_commit_callbacks
):
    # Nothing listens on this port: every attempt is refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    settings.EMAIL_TIMEOUT = 5
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to="asa@kund.example")
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.QUEUED  # a retry is scheduled
    assert message.send_attempts == 1
    assert "Connection refused" in message.delivery_error or "Errno" in message.delivery_error

    delays = run_scheduled(tasks_now)
    message.refresh_from_db()
    assert message.delivery_status == DeliveryStatus.FAILED
    assert message.send_attempts == SEND_RETRIES + 1
    assert message.delivery_error
    assert len(delays) == SEND_RETRIES
    assert delays == sorted(delays)  # the wait grows with each try
    assert delays[0] == pytest.approx(60, abs=5)
    assert delays[-1] == pytest.approx(480, abs=5)

    # The server comes up; Retry sends it once.
    server = SmtpServer().start()
    try:
        settings.EMAIL_PORT = server.port
        with django_capture_on_commit_callbacks(execute=True):
            services.retry_delivery(message, actor=agent)
        message.refresh_from_db()
        assert message.delivery_status == DeliveryStatus.SENT
        assert message.delivery_error == ""
        assert len(server.messages) == 1
        assert server.messages[0]["Message-ID"] == message.message_id
        with pytest.raises(services.MessageNotRetryableError):
            services.retry_delivery(message, actor=agent)
    finally:
        server.stop()


def test_delivery_task_never_sends_twice(
    smtp_server, tasks_now, email_channel, agent, django_capture_on_commit_callbacks
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    with django_capture_on_commit_callbacks(execute=True):
        message = services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to="asa@kund.example")
    assert len(smtp_server.messages) == 1
    # The same task delivered again (a consumer restart, a duplicate enqueue): nothing is sent.
    assert send_email_message.call_local(message.pk) == "skipped"
    assert services.deliver_email_message(message.pk, is_final_attempt=True) == "skipped"
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts) == (DeliveryStatus.SENT, 1)


def test_a_claimed_attempt_is_not_sent_by_a_second_worker(
    smtp_server, email_channel, agent, monkeypatch
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    message = services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to="asa@kund.example")
    stale = Message.objects.get(pk=message.pk)  # what this worker read: attempts 0
    # Meanwhile another worker claimed the attempt.
    Message.objects.filter(pk=message.pk).update(send_attempts=1)
    monkeypatch.setattr(delivery, "_load_outbound", lambda pk: stale)
    assert services.deliver_email_message(message.pk, is_final_attempt=False) == "skipped"
    assert smtp_server.messages == []
    assert Message.objects.get(pk=message.pk).send_attempts == 1


def test_a_reply_being_sent_is_not_sent_again_until_its_lease_lapses(
    smtp_server, email_channel, agent
):
    from django.utils import timezone

    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    message = services.send_reply(ticket, actor=agent, html="<p>Hi</p>", to="asa@kund.example")
    # Worker A claimed the attempt and is still talking to a slow SMTP server.
    started = timezone.now() - dt.timedelta(minutes=1)
    Message.objects.filter(pk=message.pk).update(
        send_attempts=1, sending_since=started, last_send_attempt_at=started
    )
    # Worker B, handed the same task (a duplicate enqueue, the sweep), reads the message fresh.
    assert services.deliver_email_message(message.pk, is_final_attempt=False) == "skipped"
    assert smtp_server.messages == []
    # Worker A died without finishing: once its lease lapses, the next attempt sends, once.
    lapsed = timezone.now() - services.SEND_LEASE - dt.timedelta(seconds=1)
    Message.objects.filter(pk=message.pk).update(sending_since=lapsed)
    assert services.deliver_email_message(message.pk, is_final_attempt=False) == "sent"
    assert services.deliver_email_message(message.pk, is_final_attempt=False) == "skipped"
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert (message.delivery_status, message.send_attempts) == (DeliveryStatus.SENT, 2)
    assert message.sending_since is None


def test_sweep_queues_again_only_replies_whose_task_was_lost(
    smtp_server, tasks_now, email_channel, agent
):
    from django.utils import timezone

    now = timezone.now()
    ticket, _conv, _inbound = email_ticket(channel=email_channel)

    def queued(**fields):  # type: ignore[no-untyped-def]
        message = services.send_reply(
            ticket, actor=agent, html="<p>Hi</p>", to="asa@kund.example"
        )  # send_reply's task runs after commit; inside this test's transaction it never does
        Message.objects.filter(pk=message.pk).update(**fields)
        return message.pk

    old = now - services.STUCK_AFTER - dt.timedelta(minutes=1)
    lost_new = queued(created_at=old)
    lost_after_a_try = queued(created_at=old, send_attempts=1, last_send_attempt_at=old)
    retry_waiting = queued(
        created_at=old, send_attempts=2, last_send_attempt_at=now - dt.timedelta(minutes=8)
    )
    being_sent = queued(
        created_at=old, send_attempts=1, sending_since=now - dt.timedelta(minutes=2)
    )
    just_queued = queued()
    sent = queued(created_at=old, delivery_status=DeliveryStatus.SENT)

    requeued = services.requeue_stuck_replies(now=now)

    assert sorted(requeued) == sorted([lost_new, lost_after_a_try])
    statuses = dict(Message.objects.values_list("pk", "delivery_status"))
    assert statuses[lost_new] == statuses[lost_after_a_try] == DeliveryStatus.SENT
    for pk in (retry_waiting, being_sent, just_queued):
        assert statuses[pk] == DeliveryStatus.QUEUED
    assert statuses[sent] == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 2


def test_comment_is_never_sent_and_notifies_mentioned_users(
    smtp_server, tasks_now, email_channel, agent, super_admin, django_capture_on_commit_callbacks
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    mentioned = UserFactory(first_name="Maja", last_name="Mentioned", email="maja@acme.test")
    named_elsewhere = UserFactory(first_name="Nils", last_name="Named", email="nils@acme.test")
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.add_comment(
            ticket,
            actor=agent,
            html="<p>@Maja Mentioned can you check the invoice? @Ada Admin FYI</p>",
            # Nils was picked, then deleted from the text; Anna mentions herself.
            mentioned_user_ids=[mentioned.pk, named_elsewhere.pk, agent.pk, super_admin.pk],
            ticket_url=f"https://desk.acme.test/tickets/{ticket.pk}/",
        )
    assert comment.direction == MessageDirection.COMMENT
    assert comment.delivery_status == DeliveryStatus.RECEIVED
    notified = set(Notification.objects.values_list("user__email", flat=True))
    assert notified == {"maja@acme.test", "admin@svardesk.test"}
    notification = Notification.objects.get(user=mentioned)
    assert (notification.kind, notification.ticket, notification.message, notification.actor) == (
        "mention",
        ticket,
        comment,
        agent,
    )
    # Only the two mention emails reached the server; nothing went to the customer.
    recipients = sorted(m["To"] for m in smtp_server.messages)
    assert recipients == ["admin@svardesk.test", "maja@acme.test"]
    maja_mail = next(m for m in smtp_server.messages if m["To"] == "maja@acme.test")
    assert maja_mail["Subject"] == f"Anna Agent mentioned you on ticket #{ticket.pk}: {ticket.name}"
    assert f"https://desk.acme.test/tickets/{ticket.pk}/" in maja_mail.get_content()
    assert "can you check the invoice" in maja_mail.get_content()
    ticket.refresh_from_db()
    assert ticket.last_message_author is None  # a comment is not a message to the customer


def test_mention_of_someone_who_cannot_see_the_ticket_notifies_no_one(
    email_channel, agent, team_agent, support_team
):
    ticket, _conv, _inbound = email_ticket(channel=email_channel, team=support_team)
    services.add_comment(
        ticket, actor=agent, html="<p>@Bo Billing look</p>", mentioned_user_ids=[team_agent.pk]
    )
    assert not Notification.objects.exists()


def test_mention_email_is_skipped_once_the_notification_was_read(
    smtp_server, tasks_now, email_channel, agent, super_admin
):
    from svardesk.conversations.tasks import send_mention_email

    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    services.add_comment(
        ticket, actor=agent, html="<p>@Ada Admin</p>", mentioned_user_ids=[super_admin.pk]
    )
    notification = Notification.objects.get()
    services.mark_notification_read(notification, actor=super_admin)
    assert send_mention_email.call_local(notification.pk, "") is False
    assert smtp_server.messages == []


def test_comment_on_a_ticket_without_conversation_uses_the_first_email_channel(
    email_channel, agent
):
    ticket = TicketFactory()
    comment = services.add_comment(ticket, actor=agent, html="<p>Called them.</p>")
    assert comment.conversation.ticket == ticket
    assert comment.channel == email_channel.channel


def test_notifications_are_marked_read_only_by_their_owner(email_channel, agent, super_admin):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    services.add_comment(
        ticket, actor=agent, html="<p>@Ada Admin</p>", mentioned_user_ids=[super_admin.pk]
    )
    notification = Notification.objects.get()
    with pytest.raises(NotFoundError):
        services.mark_notification_read(notification, actor=agent)
    notification.refresh_from_db()
    assert notification.read_at is None
    assert services.mark_all_notifications_read(actor=super_admin) == 1
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_spam_with_block_and_not_spam_with_unblock(email_channel, agent):
    # Blocking is for super admins and Account access (test_blocking_senders.py).
    agent.has_account_access = True
    agent.save(update_fields=["has_account_access"])
    ticket, conversation, _inbound = email_ticket(channel=email_channel)
    blocked = services.mark_ticket_spam(ticket, actor=agent, block_sender=True)
    assert blocked == "asa@kund.example"
    ticket.refresh_from_db()
    conversation.refresh_from_db()
    assert (ticket.is_spam, conversation.is_spam) == (True, True)
    assert BlockedSender.objects.get().blocked_by == agent
    assert [t.pk for t in list_view_tickets(agent, "spam").tickets] == [ticket.pk]
    assert list_view_tickets(agent, "all-open").tickets == []

    assert services.mark_ticket_not_spam(ticket, actor=agent, unblock_sender=True) == (
        "asa@kund.example"
    )
    ticket.refresh_from_db()
    conversation.refresh_from_db()
    assert (ticket.is_spam, conversation.is_spam) == (False, False)
    assert not BlockedSender.objects.exists()


def test_spam_without_block_keeps_the_sender_allowed(email_channel, agent):
    ticket, _conv, _inbound = email_ticket(channel=email_channel)
    assert services.mark_ticket_spam(ticket, actor=agent, block_sender=False) == ""
    assert not BlockedSender.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).is_spam
