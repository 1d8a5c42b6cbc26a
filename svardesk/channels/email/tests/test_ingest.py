"""The corpus through receive_raw_email + processing: stored first, once, then recorded."""

import threading
from email.message import EmailMessage

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError, connection, connections, transaction
from huey.contrib.djhuey import HUEY

from svardesk.channels.email import ingest
from svardesk.channels.email.models import BlockedSender, InboundEmail, InboundStatus
from svardesk.channels.email.tests.corpus import (
    CORPUS_SECRET,
    SIGNED_B,
    SIGNED_D,
    TEAM_ADDRESS,
    build_raw,
    connect,
    corpus,
    stage,
    ticket_with_outbound,
)
from svardesk.channels.email.tests.corpus import (
    ingest as ingest_mail,
)
from svardesk.conversations.models import (
    Attachment,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Message,
    MessageDirection,
)
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Ticket

EN_DASH = "\u2013"  # as in the Windows-1252 mail


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def channel(db):
    return connect()


def test_plain_mail_becomes_a_ticket_with_its_conversation(channel):
    inbound = ingest_mail(channel, "plain.eml")

    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.error == ""
    assert inbound.attempts == 1
    message = inbound.recorded_message
    ticket = message.conversation.ticket
    assert ticket.name == "Problem med inloggningen"
    assert ticket.source == Source.EMAIL
    assert ticket.stage == stage("New")
    assert ticket.team is None
    assert ticket.is_open
    assert not ticket.is_spam
    assert ticket.last_message_author is None
    assert ticket.description.startswith("Hej!\n\nJag kan inte logga in på mitt konto")
    assert ticket.preview.startswith("Hej!\n\nJag kan inte logga in på mitt konto sedan i morse.")
    assert (ticket.contact.first_name, ticket.contact.last_name, ticket.contact.email) == (
        "Anna",
        "Svensson",
        "anna.svensson@example.se",
    )
    assert message.direction == MessageDirection.INBOUND
    assert message.message_id == "<CAK7plain001@mail.example.se>"
    assert message.sender_address == "anna.svensson@example.se"
    assert message.to == ["Acme Support <support@acme.example>"]
    assert "Lösenordsåterställningen" in message.body_text
    assert message.body_html == ""
    assert message.is_auto_generated is False
    assert message.created_at == inbound.received_at
    assert message.conversation.channel == channel.channel
    assert message.conversation.contact == ticket.contact
    assert bytes(inbound.raw) == corpus("plain.eml")


@pytest.mark.parametrize(
    ("name", "subject", "words"),
    [
        pytest.param("swedish_latin1.eml", "Fråga om räkning", ["räkning för maj"], id="latin1"),
        pytest.param(
            "swedish_cp1252.eml",
            f"Fel pris {EN_DASH} 1 200 €",
            ["1 450 €", "“fri frakt”"],
            id="1252",
        ),
        pytest.param(
            "encoded_subject.eml",
            "Ändrad leveransadress för order 4412 📦",
            ["Göteborg"],
            id="2047",
        ),
        pytest.param(
            "html_only.eml", "Beställning 4411 har inte kommit", ["beställning 4411"], id="html"
        ),
    ],
)
def test_corpus_mail_is_recorded_with_decoded_text(channel, name, subject, words):
    message = ingest_mail(channel, name).recorded_message

    assert message.conversation.ticket.name == subject
    assert message.subject == subject
    for word in words:
        assert word in message.body_text


def test_html_is_stored_sanitised(channel):
    message = ingest_mail(channel, "html_only.eml").recorded_message

    assert "<b>beställning 4411</b>" in message.body_html
    assert "<script" not in message.body_html
    assert "onclick" not in message.body_html
    assert "http://tracker" not in message.body_html


def test_the_same_mail_twice_is_stored_once(channel):
    first = ingest_mail(channel, "plain.eml")
    again = ingest.receive_raw_email(
        channel=channel, raw=corpus("plain.eml").replace(b"\n", b"\r\n"), via="imap"
    )

    assert again.pk == first.pk
    assert again.is_duplicate is True
    assert first.is_duplicate is False
    assert InboundEmail.objects.count() == 1
    assert Message.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_the_same_message_id_on_another_channel_is_another_message(channel):
    other = connect("sales@acme.example")
    ingest_mail(channel, "plain.eml")
    ingest_mail(other, "plain.eml")

    assert InboundEmail.objects.count() == 2
    assert Ticket.objects.count() == 2


def test_a_message_without_message_id_gets_a_stable_one_and_dedupes(channel):
    first = ingest_mail(channel, "missing_message_id.eml")
    again = ingest.receive_raw_email(
        channel=channel, raw=corpus("missing_message_id.eml"), via="http"
    )

    assert first.message_id.endswith("@synthetic.svardesk.invalid>")
    assert again.pk == first.pk
    assert first.recorded_message.message_id == first.message_id
    assert Message.objects.count() == 1


def test_storing_enqueues_processing_after_commit(channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        inbound = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")

    assert len(callbacks) == 1
    assert callbacks[0].func is ingest.enqueue_processing
    assert callbacks[0].args == (inbound.pk,)
    assert inbound.status == InboundStatus.RECEIVED
    assert Message.objects.count() == 0


def test_with_an_immediate_queue_the_task_processes_the_mail(
    channel, django_capture_on_commit_callbacks
):
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            inbound = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")
    finally:
        HUEY.immediate = False
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.PROCESSED
    assert Ticket.objects.get().name == "Problem med inloggningen"


def test_a_known_mail_still_waiting_is_enqueued_again(channel, django_capture_on_commit_callbacks):
    inbound = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")
    with django_capture_on_commit_callbacks(execute=False) as waiting:
        ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")
    ingest.process_inbound_email_now(inbound.pk)
    with django_capture_on_commit_callbacks(execute=False) as done:
        ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")

    assert [c.args for c in waiting] == [(inbound.pk,)]
    assert done == []


def test_a_duplicate_inside_a_callers_transaction_leaves_it_usable(channel):
    winner = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")

    with transaction.atomic():
        # The insert hits the unique key inside its own savepoint; the caller goes on.
        loser = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="imap")
        other = ingest.receive_raw_email(channel=channel, raw=corpus("html_only.eml"), via="imap")

    assert loser.pk == winner.pk
    assert loser.is_duplicate is True
    assert other.is_duplicate is False
    assert InboundEmail.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_store_one_row():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memory"):
        pytest.skip("an in-memory SQLite test database is not shared between threads")
    email_channel = connect()
    raw = corpus("plain.eml")
    barrier = threading.Barrier(4)
    results: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            results.append(ingest.receive_raw_email(channel=email_channel, raw=raw, via="smtp").pk)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=deliver) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert len(set(results)) == 1
    assert len(results) == 4
    assert InboundEmail.objects.count() == 1


def test_processing_twice_records_once(channel):
    inbound = ingest_mail(channel, "plain.eml")
    InboundEmail.objects.filter(pk=inbound.pk).update(status=InboundStatus.RECEIVED)

    again = ingest.process_inbound_email_now(inbound.pk)

    assert again.status == InboundStatus.DUPLICATE
    assert again.recorded_message_id == inbound.recorded_message_id
    assert Message.objects.count() == 1
    assert ingest.process_inbound_email_now(inbound.pk).status == InboundStatus.DUPLICATE


def test_attachments_are_stored_through_django_storage(channel):
    message = ingest_mail(channel, "attachments.eml").recorded_message

    attachments = list(message.attachments.order_by("id"))
    assert [(a.filename, a.content_type, a.size, a.is_inline) for a in attachments] == [
        ("faktura-2025-03.pdf", "application/pdf", 4096, False),
        ("prislista-åäö.csv", "text/csv", 48, False),
    ]
    with default_storage.open(attachments[1].file.name) as handle:
        assert handle.read().decode() == "artikel;pris\nÄpple;12,50\nPäron;9,90\nÖl;25,00\n"
    assert default_storage.size(attachments[0].file.name) == 4096


def test_inline_images_point_at_the_stored_attachment(channel):
    message = ingest_mail(channel, "inline_image.eml").recorded_message

    [image] = message.attachments.all()
    assert image.is_inline
    assert image.content_id == "skarmbild.png@01db8c3a.5f1e2d40"
    assert "cid:" not in message.body_html
    assert f'src="/attachments/{image.pk}/?inline=1"' in message.body_html
    assert default_storage.size(image.file.name) == 69


def _mail_with_big_attachment(size: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Stor Fil <stor@example.com>"
    mail["To"] = TEAM_ADDRESS
    mail["Subject"] = "Loggfiler"
    mail["Message-ID"] = "<big-attachment@example.com>"
    mail.set_content("Här är loggarna.\n")
    mail.add_attachment(b"small log\n", maintype="text", subtype="plain", filename="liten.log")
    mail.add_attachment(b"\0" * size, maintype="application", subtype="zip", filename="loggar.zip")
    return mail.as_bytes()


def test_an_attachment_over_the_limit_is_dropped_with_a_visible_note(channel, tmp_path):
    eml = tmp_path / "big.eml"
    eml.write_bytes(_mail_with_big_attachment(30 * 1024 * 1024))  # made here, not committed

    inbound = ingest_mail(channel, eml.read_bytes())

    assert inbound.status == InboundStatus.PROCESSED
    message = inbound.recorded_message
    assert [(a.filename, a.size) for a in message.attachments.all()] == [("liten.log", 10)]
    assert message.body_text.startswith("Här är loggarna.")
    assert message.body_text.endswith(
        "[The attachment “loggar.zip” (30.0\xa0MB) was not stored: attachments can be at "
        "most 25.0\xa0MB.]"
    )
    assert len(bytes(inbound.raw)) > 30 * 1024 * 1024  # the raw mail keeps it
    assert Attachment.objects.count() == 1


def test_the_attachment_limit_is_a_setting(channel):
    HelpDeskSettings.objects.update_or_create(pk=1, defaults={"max_attachment_bytes": 1000})

    message = ingest_mail(channel, "attachments.eml").recorded_message

    assert [a.filename for a in message.attachments.all()] == ["prislista-åäö.csv"]
    assert "“faktura-2025-03.pdf” (4.0\xa0KB) was not stored" in message.body_text
    assert "was not stored" in message.body_html


def test_broken_mime_is_quarantined_with_the_error_and_can_be_reprocessed(channel):
    inbound = ingest_mail(channel, "broken_mime.eml")

    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.error == (
        "Broken MIME structure in a multipart/mixed part: the declared multipart boundary "
        "never occurs in the body"
    )
    assert bytes(inbound.raw) == corpus("broken_mime.eml")
    assert Message.objects.count() == 0
    assert Ticket.objects.count() == 0

    assert ingest.reprocess(inbound).status == InboundStatus.QUARANTINED
    rescued = ingest.reprocess(inbound, lenient=True)

    assert rescued.status == InboundStatus.PROCESSED
    assert rescued.error == ""
    ticket = Ticket.objects.get()
    assert ticket.name == "Trasig MIME"
    assert "Den deklarerade" in rescued.recorded_message.body_text


def test_a_database_failure_is_retried_then_quarantined(channel, monkeypatch):
    inbound = ingest.receive_raw_email(channel=channel, raw=corpus("plain.eml"), via="smtp")

    def fail(items):
        raise OperationalError("could not serialize access")

    monkeypatch.setattr(ingest, "record_inbound_messages", fail)
    for attempt in range(1, ingest.MAX_ATTEMPTS):
        with pytest.raises(OperationalError):
            ingest.process_inbound_email_now(inbound.pk)
        inbound.refresh_from_db()
        assert (inbound.status, inbound.attempts) == (InboundStatus.RECEIVED, attempt)
        assert inbound.error == "OperationalError: could not serialize access"

    final = ingest.process_inbound_email_now(inbound.pk)

    assert final.status == InboundStatus.QUARANTINED
    assert final.error == "OperationalError: could not serialize access"
    assert Message.objects.count() == 0


def test_a_failed_run_leaves_no_attachment_files(channel, monkeypatch):
    inbound = ingest.receive_raw_email(channel=channel, raw=corpus("attachments.eml"), via="smtp")

    def fail(items):
        raise OperationalError("gone")

    monkeypatch.setattr(ingest, "record_inbound_messages", fail)
    with pytest.raises(OperationalError):
        ingest.process_inbound_email_now(inbound.pk)

    assert list(_walk_files("attachments")) == []
    assert Attachment.objects.count() == 0


def _walk_files(path):
    if not default_storage.exists(path):
        return
    dirs, files = default_storage.listdir(path)
    for name in files:
        yield f"{path}/{name}"
    for name in dirs:
        yield from _walk_files(f"{path}/{name}")


def test_pending_mail_is_picked_up_by_the_sweep(channel):
    waiting = [
        ingest.receive_raw_email(channel=channel, raw=build_raw(message_id=f"<p{i}@x>"), via="smtp")
        for i in range(3)
    ]

    assert ingest.process_pending_inbound() == 3

    assert {i.status for i in InboundEmail.objects.filter(pk__in=[w.pk for w in waiting])} == {
        InboundStatus.PROCESSED
    }
    assert ingest.process_pending_inbound() == 0


# --- Loops, bounces, spam ---------------------------------------------------------------------


def test_a_bounce_of_our_reply_marks_it_and_creates_no_ticket(channel):
    _ticket, reply = ticket_with_outbound(
        channel, message_id=SIGNED_D, contact_email="nobody@example.net"
    )
    tickets_before = Ticket.objects.count()

    inbound = ingest_mail(channel, "bounce_dsn.eml")

    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.BOUNCED
    assert reply.delivery_error == (
        "nobody@example.net 5.1.1 550 5.1.1 <nobody@example.net>: Recipient address "
        "rejected: User unknown in virtual mailbox table"
    )
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.recorded_message == reply
    assert Ticket.objects.count() == tickets_before
    assert Message.objects.filter(direction=MessageDirection.INBOUND).count() == 0


def test_a_bounce_about_mail_we_did_not_send_is_kept_as_an_automatic_message(channel):
    message = ingest_mail(channel, "bounce_dsn.eml").recorded_message

    assert message.is_auto_generated is True
    assert message.conversation.ticket.name == "Undelivered Mail Returned to Sender"
    assert [a.filename for a in message.attachments.order_by("id")] == [
        "delivery-status-1.txt",
        "message-headers-2.txt",
    ]


def test_an_auto_reply_is_marked_and_moves_nothing(channel):
    ticket, _reply = ticket_with_outbound(
        channel, message_id=SIGNED_B, contact_email="erik.lindqvist@foretag.example"
    )

    message = ingest_mail(channel, "auto_reply.eml").recorded_message

    assert message.is_auto_generated is True
    assert message.conversation.ticket == ticket
    ticket.refresh_from_db()
    assert ticket.stage == stage("Waiting on contact")


def test_mail_from_a_blocked_sender_goes_to_spam(channel):
    BlockedSender.objects.create(address="ANNA.svensson@example.se")

    inbound = ingest_mail(channel, "plain.eml")

    assert inbound.status == InboundStatus.SPAM
    ticket = inbound.recorded_message.conversation.ticket
    assert ticket.is_spam is True
    assert inbound.recorded_message.conversation.is_spam is True


def test_mail_from_our_own_address_is_never_answered_automatically(channel):
    message = ingest_mail(channel, build_raw(sender=f"Acme <{TEAM_ADDRESS}>")).recorded_message
    assert message.is_auto_generated is True


def test_a_copy_of_our_own_reply_coming_back_is_a_duplicate(channel):
    _ticket, reply = ticket_with_outbound(
        channel, message_id="<sd.copy@acme.example>", contact_email="k@example.com"
    )
    inbound = ingest_mail(channel, build_raw(message_id="<sd.copy@acme.example>"))

    assert inbound.status == InboundStatus.DUPLICATE
    assert inbound.recorded_message == reply
    assert Contact.objects.filter(email="kund@example.com").count() == 0
    assert Conversation.objects.count() == 1
