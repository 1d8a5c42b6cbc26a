"""Inbound mail cannot exhaust the server (issue: hardening, item 2): a message with more
MIME parts or attachments than the settings allow is quarantined with a reason before it
is read; a batch holds one raw message in memory at a time and takes messages up to a byte
budget; a message that kills its batch never blocks the ones behind it."""

import contextlib
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from svardesk.channels.email import ingest, parsing
from svardesk.channels.email.models import InboundEmail, InboundStatus
from svardesk.channels.email.tests.corpus import CORPUS_SECRET, build_raw, connect
from svardesk.channels.email.tests.corpus import ingest as ingest_mail
from svardesk.conversations.models import Attachment, Message
from svardesk.tickets.models import Ticket


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


def many_parts(count: int, *, message_id: str = "<parts@x>", boundary: str = "grans-42") -> bytes:
    """A multipart/mixed message: a text body and `count` small text attachments."""
    lines = [
        "From: Kund <kund@example.com>",
        "To: support@acme.example",
        "Subject: Många delar",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Se bilagorna.",
    ]
    for index in range(count):
        lines += [
            f"--{boundary}",
            f'Content-Type: text/plain; name="del-{index}.txt"',
            "Content-Disposition: attachment",
            "",
            f"del {index}",
        ]
    lines += [f"--{boundary}--", ""]
    return "\r\n".join(lines).encode()


def _nothing_recorded(tmp_path):
    assert Message.objects.count() == 0
    assert Attachment.objects.count() == 0
    assert Ticket.objects.count() == 0
    media = tmp_path / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


@pytest.mark.django_db
def test_a_message_with_more_parts_than_allowed_is_quarantined_before_it_is_read(
    monkeypatch, tmp_path
):
    channel = connect()
    built_trees = []
    real_parse = parsing._parse_mime
    monkeypatch.setattr(
        parsing, "_parse_mime", lambda raw: built_trees.append(1) or real_parse(raw)
    )

    inbound = ingest_mail(channel, many_parts(600))

    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.error == (
        "The message has 601 MIME parts; at most 500 are read "
        "(SVARDESK_EMAIL_MAX_PARTS). It was not processed."
    )
    assert built_trees == []  # refused from a scan of its bytes, no MIME tree built
    _nothing_recorded(tmp_path)


@pytest.mark.django_db
def test_a_message_with_more_attachments_than_allowed_is_quarantined(settings, tmp_path):
    settings.EMAIL_MAX_ATTACHMENTS = 3
    channel = connect()

    inbound = ingest_mail(channel, many_parts(4))

    assert inbound.status == InboundStatus.QUARANTINED
    assert inbound.error == (
        "The message has more than 3 attachments (SVARDESK_EMAIL_MAX_ATTACHMENTS). "
        "It was not processed."
    )
    _nothing_recorded(tmp_path)


@pytest.mark.django_db
def test_parts_are_also_counted_while_walking():
    # A boundary longer than the byte scan looks for is still counted.
    raw = many_parts(4, boundary="b" * 250)
    assert parsing.count_mime_parts(raw) == 0

    with pytest.raises(parsing.MessageLimitError) as refused:
        parsing.parse_email(raw, max_parts=3)

    assert str(refused.value) == (
        "The message has more than 3 MIME parts (SVARDESK_EMAIL_MAX_PARTS). It was not processed."
    )


@pytest.mark.django_db
def test_within_the_limits_every_attachment_is_kept_and_raising_a_limit_lets_it_through(
    settings,
):
    settings.EMAIL_MAX_ATTACHMENTS = 3
    channel = connect()
    refused = ingest_mail(channel, many_parts(4))
    accepted = ingest_mail(channel, many_parts(3, message_id="<three@x>"))
    assert accepted.status == InboundStatus.PROCESSED
    assert accepted.recorded_message.attachments.count() == 3

    settings.EMAIL_MAX_ATTACHMENTS = 4
    again = ingest.reprocess(refused)

    assert again.status == InboundStatus.PROCESSED
    assert again.recorded_message.attachments.count() == 4


# --- Batches -------------------------------------------------------------------------------


def _store(channel, raw):
    return ingest.receive_raw_email(channel=channel, raw=raw, via="smtp")


def _padded(index: int, size: int) -> bytes:
    return build_raw(message_id=f"<pad{index}@x>", body="x" * size + "\n")


@pytest.mark.django_db
def test_a_batch_takes_messages_up_to_its_byte_budget(settings):
    settings.INBOUND_BATCH_MAX_BYTES = 25_000
    channel = connect()
    rows = [_store(channel, _padded(i, 10_000)) for i in range(5)]

    assert ingest.process_inbound_batch(rows[0].pk) == 2
    assert ingest.process_inbound_batch(rows[0].pk) == 2
    assert ingest.process_inbound_batch(rows[0].pk) == 1
    statuses = set(InboundEmail.objects.values_list("status", flat=True))
    assert statuses == {InboundStatus.PROCESSED}


@pytest.mark.django_db
def test_a_message_larger_than_the_budget_is_taken_alone(settings):
    settings.INBOUND_BATCH_MAX_BYTES = 5_000
    channel = connect()
    big = _store(channel, _padded(0, 20_000))
    small = _store(channel, _padded(1, 10))

    assert ingest.process_inbound_batch(big.pk) == 1
    assert InboundEmail.objects.get(pk=big.pk).status == InboundStatus.PROCESSED
    assert InboundEmail.objects.get(pk=small.pk).status == InboundStatus.RECEIVED


@pytest.mark.django_db
def test_a_batch_reads_raw_messages_a_few_at_a_time(monkeypatch):
    # A chunk of RAW_CHUNK rows per SELECT (not one statement per message, never the whole
    # batch's mail at once; the claim bounds the batch's raw bytes).
    monkeypatch.setattr(ingest, "RAW_CHUNK", 2)
    channel = connect()
    rows = [_store(channel, _padded(i, 100)) for i in range(3)]
    table = InboundEmail._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        assert ingest.process_inbound_batch(rows[0].pk) == 3

    column = f'"{table}"."raw"'
    reading_raw = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and column in q["sql"].replace(f"LENGTH({column})", "")
    ]
    assert len(reading_raw) == 2
    assert all(f'WHERE "{table}"."id" IN (' in sql for sql in reading_raw)


class WorkerKilled(BaseException):
    """What the worker dying (out of memory, killed) looks like from inside: nothing after
    it runs, no except-Exception block sees it."""


@pytest.mark.django_db
def test_a_message_that_kills_its_batch_never_blocks_the_ones_behind_it(monkeypatch):
    # Given a poison message stored before two good ones
    channel = connect()
    poison = _store(channel, build_raw(message_id="<poison@x>", subject="Gift"))
    good = [_store(channel, build_raw(message_id=f"<good{i}@x>")) for i in range(2)]
    tried = []
    real_parse = ingest.parse_email

    def parse(raw, **kwargs):
        parsed = real_parse(raw, **kwargs)
        tried.append(parsed.message_id)
        if parsed.message_id == "<poison@x>":
            raise WorkerKilled
        return parsed

    monkeypatch.setattr(ingest, "parse_email", parse)
    # When its batch dies on it
    with pytest.raises(WorkerKilled):
        ingest.process_inbound_batch(poison.pk)

    # Then the next arrival's batch does not start with the poison again
    later = _store(channel, build_raw(message_id="<later@x>"))
    tried.clear()
    assert ingest.process_inbound_batch(later.pk) == 1
    assert tried == ["<later@x>"]

    # And the sweep records the good ones; the poison, tried alone each time, ends in
    # quarantine instead of blocking them
    for _ in range(ingest.MAX_ATTEMPTS + 1):
        with contextlib.suppress(WorkerKilled):
            ingest.process_pending_inbound()
    statuses = {r.message_id: r.status for r in InboundEmail.objects.filter(channel=channel)}
    assert statuses == {
        "<poison@x>": InboundStatus.QUARANTINED,
        "<good0@x>": InboundStatus.PROCESSED,
        "<good1@x>": InboundStatus.PROCESSED,
        "<later@x>": InboundStatus.PROCESSED,
    }
    assert Ticket.objects.count() == 3
    del good


@pytest.mark.django_db
def test_the_sweep_takes_rows_of_a_batch_that_died_after_the_lease():
    channel = connect()
    abandoned = _store(channel, build_raw(message_id="<abandoned@x>"))
    in_flight = _store(channel, build_raw(message_id="<in-flight@x>"))
    now = timezone.now()
    InboundEmail.objects.filter(pk=abandoned.pk).update(
        attempts=1, claimed_at=now - ingest.CLAIM_LEASE - dt.timedelta(seconds=5)
    )
    InboundEmail.objects.filter(pk=in_flight.pk).update(attempts=1, claimed_at=now)

    assert ingest.process_pending_inbound(older_than=dt.timedelta(minutes=10)) == 1

    abandoned.refresh_from_db()
    in_flight.refresh_from_db()
    assert (abandoned.status, abandoned.attempts) == (InboundStatus.PROCESSED, 2)
    assert (in_flight.status, in_flight.attempts) == (InboundStatus.RECEIVED, 1)
