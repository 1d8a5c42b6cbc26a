"""Stored mail processed in batches (`ingest.process_inbound_batch`, what the task does):
the same rules as one by one, with the statements shared."""

import pytest

from svardesk.channels.email import ingest
from svardesk.channels.email.models import InboundEmail, InboundStatus
from svardesk.channels.email.tests.corpus import (
    CORPUS,
    CORPUS_SECRET,
    SIGNED_A,
    SIGNED_D,
    build_raw,
    connect,
    corpus,
    stage,
    ticket_with_outbound,
)
from svardesk.channels.email.tests.corpus import ingest as ingest_one
from svardesk.conversations import inbound as inbound_module
from svardesk.conversations.models import DeliveryStatus, Message
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind

# Bounces need the reply they are about; broken MIME has no message (both tested below).
PLAIN_CORPUS = sorted(
    p.name for p in CORPUS.glob("*.eml") if p.name not in {"bounce_dsn.eml", "broken_mime.eml"}
)


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


def _store(email_channel, raw: bytes) -> InboundEmail:
    return ingest.receive_raw_email(channel=email_channel, raw=raw, via="smtp")


def _projection(inbound: InboundEmail) -> tuple:
    inbound.refresh_from_db()
    message = inbound.recorded_message
    ticket = message.conversation.ticket
    return (
        inbound.status,
        inbound.attempts,
        message.subject,
        message.body_text,
        message.is_auto_generated,
        message.contact.email,
        sorted(a.filename for a in message.attachments.all()),
        ticket.name,
        ticket.description,
        ticket.stage.name,
        ticket.preview,
        ticket.is_open,
    )


@pytest.mark.django_db
def test_a_batch_records_the_corpus_as_one_by_one_does():
    one_by_one = connect("one@acme.example")
    batched = connect("batch@acme.example")
    singles = [ingest_one(one_by_one, name) for name in PLAIN_CORPUS]
    stored = [_store(batched, corpus(name)) for name in PLAIN_CORPUS]

    assert ingest.process_inbound_batch(stored[0].pk) == len(PLAIN_CORPUS)

    assert [_projection(i) for i in stored] == [_projection(i) for i in singles]
    inline = stored[PLAIN_CORPUS.index("inline_image.eml")]
    assert "cid:" not in inline.recorded_message.body_html

    # The same threading: as many tickets and conversations as one by one.
    def tickets(rows):
        return {r.recorded_message.conversation.ticket_id for r in rows}

    def conversations(rows):
        return {r.recorded_message.conversation_id for r in rows}

    assert len(tickets(stored)) == len(tickets(singles))
    assert len(conversations(stored)) == len(conversations(singles))


@pytest.mark.django_db
def test_a_mixed_batch_threads_moves_quarantines_and_dedupes():
    channel = connect()
    waiting, _reply = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="maria.berg@gmail.example"
    )
    _bounced_ticket, bounced = ticket_with_outbound(
        channel, message_id=SIGNED_D, contact_email="nobody@example.net"
    )
    _copy_ticket, ours = ticket_with_outbound(
        channel, message_id="<sd.copy@acme.example>", contact_email="k@example.com"
    )
    rows = [
        _store(channel, build_raw(sender="Ny Kund <ny@example.com>", message_id="<new1@x>")),
        _store(channel, corpus("reply_gmail.eml")),  # answers SIGNED_A
        _store(channel, corpus("broken_mime.eml")),
        _store(
            channel,
            build_raw(
                sender="Ny Kund <ny@example.com>",
                subject="Re: Hej",
                message_id="<new1-reply@x>",
                in_reply_to="<new1@x>",
                references="<new1@x>",
                body="Och en sak till.\n",
            ),
        ),
        _store(channel, corpus("bounce_dsn.eml")),  # about SIGNED_D
        _store(channel, build_raw(message_id="<sd.copy@acme.example>")),
    ]

    assert ingest.process_inbound_batch(rows[0].pk) == len(rows)

    for row in rows:
        row.refresh_from_db()
    new, gmail, broken, new_reply, bounce, copy = rows
    assert [r.status for r in rows] == [
        InboundStatus.PROCESSED,
        InboundStatus.PROCESSED,
        InboundStatus.QUARANTINED,
        InboundStatus.PROCESSED,
        InboundStatus.PROCESSED,
        InboundStatus.DUPLICATE,
    ]
    assert all(r.attempts == 1 for r in rows)
    # A reply to a message of the same batch lands in its conversation.
    assert new_reply.recorded_message.conversation == new.recorded_message.conversation
    assert Ticket.objects.filter(contact__email="ny@example.com").count() == 1
    # A reply to our own signed id continues that ticket and moves it to "Waiting on us".
    assert gmail.recorded_message.conversation.ticket == waiting
    waiting.refresh_from_db()
    assert waiting.stage == stage("Waiting on us")
    moved = TicketEvent.objects.get(ticket=waiting, kind=TicketEventKind.PROPERTY_CHANGED)
    assert (moved.data["old_display"], moved.data["new_display"]) == (
        "Waiting on contact",
        "Waiting on us",
    )
    assert broken.error
    assert broken.recorded_message is None
    bounced.refresh_from_db()
    assert bounced.delivery_status == DeliveryStatus.BOUNCED
    assert bounce.recorded_message == bounced
    assert copy.recorded_message == ours


@pytest.mark.django_db
def test_a_reply_waits_while_its_parent_is_still_being_processed():
    channel = connect()
    parent = _store(channel, build_raw(message_id="<parent@x>"))
    reply = _store(
        channel,
        build_raw(message_id="<child@x>", in_reply_to="<parent@x>", references="<parent@x>"),
    )
    # The parent failed once and waits for its retry: batches leave it to that retry.
    InboundEmail.objects.filter(pk=parent.pk).update(attempts=1, error="database was away")

    assert ingest.process_inbound_batch(reply.pk) == 1
    reply.refresh_from_db()
    assert reply.status == InboundStatus.RECEIVED  # not threaded into a new ticket
    # Not tried: the next batch takes it again, and the sweep does not count it as abandoned.
    assert (reply.attempts, reply.claimed_at) == (0, None)
    assert not Message.objects.filter(message_id="<child@x>").exists()

    ingest.process_inbound_batch(parent.pk)  # the retry: alone
    ingest.process_inbound_batch(reply.pk)  # the reply's later try
    parent.refresh_from_db()
    reply.refresh_from_db()
    assert parent.status == reply.status == InboundStatus.PROCESSED
    assert parent.attempts == 2
    assert reply.recorded_message.conversation == parent.recorded_message.conversation


@pytest.mark.django_db
def test_a_batch_takes_the_oldest_waiting_messages_and_schedules_the_rest():
    channel = connect()
    rows = [_store(channel, build_raw(message_id=f"<w{i}@x>")) for i in range(5)]

    assert ingest.process_inbound_batch(rows[-1].pk, limit=3) == 3
    statuses = [InboundEmail.objects.get(pk=r.pk).status for r in rows]
    assert statuses == [InboundStatus.PROCESSED] * 3 + [InboundStatus.RECEIVED] * 2
    assert ingest.process_inbound_batch(rows[-1].pk, limit=3) == 2


def test_only_the_first_arrival_schedules_a_batch(settings, tmp_path):
    from huey.storage import SqliteStorage

    storage = SqliteStorage(name="marker-test", filename=str(tmp_path / "q.sqlite3"))

    assert ingest._batch_scheduled(storage, stale_after=30) is False  # schedules
    assert ingest._batch_scheduled(storage, stale_after=30) is True  # one is scheduled
    ingest._batch_started(storage)
    assert ingest._batch_scheduled(storage, stale_after=30) is False  # a new one
    storage.put_data(ingest.BATCH_MARKER, b"0")  # set long ago: its task was lost
    assert ingest._batch_scheduled(storage, stale_after=30) is False


@pytest.mark.django_db
def test_a_failing_batch_is_processed_row_by_row(monkeypatch):
    channel = connect()
    rows = [_store(channel, build_raw(message_id=f"<m{i}@x>")) for i in range(3)]
    record_many = inbound_module.record_inbound_messages

    def fails_for_batches(items):
        if len(items) > 1:
            raise RuntimeError("the batch statement failed")
        return record_many(items)

    monkeypatch.setattr(ingest, "record_inbound_messages", fails_for_batches)

    ingest.process_inbound_batch(rows[0].pk)

    for row in rows:
        row.refresh_from_db()
        assert row.status == InboundStatus.PROCESSED
        assert row.attempts == 1
    assert Message.objects.filter(channel=channel.channel).count() == 3


@pytest.mark.django_db
def test_a_task_whose_row_an_earlier_batch_took_does_nothing():
    channel = connect()
    first = _store(channel, build_raw(message_id="<a@x>"))
    second = _store(channel, build_raw(message_id="<b@x>"))

    assert ingest.process_inbound_batch(first.pk) == 2
    assert ingest.process_inbound_batch(second.pk) == 0
    assert Message.objects.filter(channel=channel.channel).count() == 2


@pytest.mark.django_db
def test_a_burst_schedules_one_batch_and_a_full_batch_starts_the_next(settings):
    from huey.contrib.djhuey import HUEY

    def queued():
        """(tasks for later, tasks for now) in the queue."""
        tasks = HUEY.pending()
        return sum(t.eta is not None for t in tasks), sum(t.eta is None for t in tasks)

    settings.INBOUND_PROCESSING_DELAY = 1.0
    channel = connect()
    HUEY.flush()
    try:
        rows = [_store(channel, build_raw(message_id=f"<s{i}@x>")) for i in range(4)]
        for row in rows:  # what each delivery does after its commit
            ingest.enqueue_processing(row.pk)
        assert queued() == (1, 0)  # one batch, a second from now

        assert ingest.process_inbound_batch(rows[0].pk, limit=2) == 2
        assert queued() == (1, 1)  # it was full: the next batch, at once
        assert ingest.process_inbound_batch(rows[2].pk, limit=2) == 2
        assert queued() == (1, 2)  # full again: one more, which finds nothing
        assert ingest.process_inbound_batch(rows[3].pk, limit=2) == 0
        # The batches cleared the marker: the next arrival schedules again.
        ingest.enqueue_processing(_store(channel, build_raw(message_id="<later@x>")).pk)
        assert queued() == (2, 2)
    finally:
        HUEY.flush()
