"""A bounce marks our reply only when it is one: an empty return path (as the receiving MTA
or our SMTP receiver stamps it) and a failed recipient the reply was sent to. Its diagnostic
is shown as text from outside (issue: hardening, item 6)."""

import smtplib

import pytest
from django.urls import reverse

from svardesk.channels.email.models import InboundStatus
from svardesk.channels.email.smtp_receiver import make_controller
from svardesk.channels.email.tests.corpus import (
    CORPUS_SECRET,
    SIGNED_D,
    TEAM_ADDRESS,
    build_raw,
    connect,
    corpus,
    ticket_with_outbound,
)
from svardesk.channels.email.tests.corpus import ingest as ingest_mail
from svardesk.conversations.models import DeliveryStatus, Message, MessageDirection
from tests.mail_server import free_port

REAL_DIAGNOSTIC = (
    "nobody@example.net 5.1.1 550 5.1.1 <nobody@example.net>: Recipient address "
    "rejected: User unknown in virtual mailbox table"
)


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


def _reply_to(channel, contact_email="nobody@example.net"):
    _ticket, reply = ticket_with_outbound(channel, message_id=SIGNED_D, contact_email=contact_email)
    return reply


def _assert_not_bounced(reply):
    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error) == (DeliveryStatus.SENT, "")


@pytest.mark.django_db
def test_a_real_bounce_of_our_reply_marks_it():
    channel = connect()
    reply = _reply_to(channel)

    inbound = ingest_mail(channel, "bounce_dsn.eml")

    reply.refresh_from_db()
    assert (reply.delivery_status, reply.delivery_error) == (
        DeliveryStatus.BOUNCED,
        REAL_DIAGNOSTIC,
    )
    assert inbound.recorded_message == reply


@pytest.mark.django_db
def test_a_plain_mail_from_a_mailer_daemon_naming_our_reply_marks_nothing():
    # Given someone who knows the Message-ID of our reply
    channel = connect()
    reply = _reply_to(channel)
    forged = build_raw(
        sender="MAILER-DAEMON@evil.example",
        subject="Undelivered Mail Returned to Sender",
        message_id="<forged-1@evil.example>",
        extra_headers="X-Failed-Recipients: nobody@example.net",
        body=f"Your mail was not delivered: call +1 555 0100.\n\nMessage-ID: {SIGNED_D}\n",
    )

    # When they send a plain mail from MAILER-DAEMON quoting it
    inbound = ingest_mail(channel, forged)

    # Then our reply is untouched; the mail is kept as an automatic message
    _assert_not_bounced(reply)
    assert inbound.status == InboundStatus.PROCESSED
    recorded = inbound.recorded_message
    assert (recorded.direction, recorded.is_auto_generated) == (MessageDirection.INBOUND, True)


@pytest.mark.django_db
def test_a_report_with_a_return_path_is_not_a_bounce():
    channel = connect()
    reply = _reply_to(channel)
    forged = corpus("bounce_dsn.eml").replace(
        b"Return-Path: <>", b"Return-Path: <attacker@evil.example>", 1
    )

    inbound = ingest_mail(channel, forged)

    _assert_not_bounced(reply)
    assert inbound.recorded_message.direction == MessageDirection.INBOUND


@pytest.mark.django_db
def test_a_bounce_about_someone_the_reply_was_not_sent_to_marks_nothing():
    channel = connect()
    reply = _reply_to(channel, contact_email="asa@kund.example")

    inbound = ingest_mail(channel, "bounce_dsn.eml")  # reports nobody@example.net

    _assert_not_bounced(reply)
    assert inbound.recorded_message.direction == MessageDirection.INBOUND


@pytest.mark.django_db
def test_a_bounce_naming_no_failed_recipient_marks_nothing():
    channel = connect()
    reply = _reply_to(channel)
    raw = build_raw(
        sender="MAILER-DAEMON@mx.acme.example",
        subject="failure notice",
        message_id="<daemon-2@mx.acme.example>",
        extra_headers="Return-Path: <>",
        body=f"Sorry, it did not work.\n\nMessage-ID: {SIGNED_D}\n",
    )

    ingest_mail(channel, raw)

    _assert_not_bounced(reply)


@pytest.fixture
def receiver(tasks_now):
    controller = make_controller(host="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def tasks_now(transactional_db):
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.mark.parametrize(
    ("envelope_sender", "expected"),
    [
        pytest.param("", DeliveryStatus.BOUNCED, id="null-sender-is-a-bounce"),
        pytest.param("attacker@evil.example", DeliveryStatus.SENT, id="a-sender-is-not"),
    ],
)
def test_the_smtp_receiver_trusts_the_envelope_sender_not_the_header(
    receiver, envelope_sender, expected
):
    # The DSN carries "Return-Path: <>" in its header either way.
    channel = connect(TEAM_ADDRESS)
    reply = _reply_to(channel)

    with smtplib.SMTP(receiver.hostname, receiver.port, timeout=10) as client:
        client.sendmail(envelope_sender, [TEAM_ADDRESS], corpus("bounce_dsn.eml"))

    reply.refresh_from_db()
    assert reply.delivery_status == expected
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == (
        0 if expected == DeliveryStatus.BOUNCED else 1
    )


@pytest.mark.django_db
def test_the_diagnostic_is_shown_escaped_as_text_from_outside(client, super_admin):
    channel = connect()
    reply = _reply_to(channel)
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.BOUNCED,
        delivery_error='<a href="https://evil.example">Click to re-send</a>',
    )
    client.force_login(super_admin)

    page = client.get(reverse("conversations:thread", args=[reply.conversation.ticket_id]))

    html = page.content.decode()
    assert page.status_code == 200
    assert '<a href="https://evil.example">' not in html
    # shown as text: escaped (the entity Django or Jinja2 writes for the quotes may differ)
    assert "&lt;a href=" in html
    assert "https://evil.example&#34;&gt;Click to re-send&lt;/a&gt;" in html.replace(
        "&quot;", "&#34;"
    )
    assert "as the returning server wrote it; Svardesk has not checked it" in html
