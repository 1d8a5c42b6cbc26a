"""record_inbound_message: the one way in for a customer's message, whatever the channel."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from svardesk.conversations.content import QUOTED_OPEN
from svardesk.conversations.inbound import (
    InboundAttachment,
    match_or_create_contact,
    record_inbound_message,
    split_display_name,
    store_attachment_files,
)
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    HelpDeskSettings,
    Inbox,
    InboxKind,
    Message,
)
from svardesk.crm.models import Contact
from svardesk.tickets.models import Source, Stage, Ticket
from svardesk.tickets.services import update_ticket
from svardesk.tickets.signals import ticket_changed
from tests.factories import ContactFactory, default_pipeline


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _channel(kind: str = InboxKind.HELP_DESK) -> Channel:
    inbox = Inbox.objects.filter(kind=kind).first() or Inbox.objects.create(name=kind, kind=kind)
    return Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="support")


def _record(channel: Channel, **overrides):
    values = {
        "channel": channel,
        "sender_name": "Anna Svensson",
        "sender_address": "anna@example.se",
        "to": ["support@acme.example"],
        "cc": [],
        "subject": "Hjälp",
        "body_text": "Hej!\nJag behöver hjälp.",
        "body_html": "",
        "message_id": "<m1@example.se>",
        "in_reply_to": "",
        "references": [],
        "attachments": [],
        "is_auto_generated": False,
        "received_at": timezone.now(),
    }
    values.update(overrides)
    return record_inbound_message(**values)


def _stage(name: str) -> Stage:
    return Stage.objects.get(pipeline=default_pipeline(), name=name)


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        pytest.param("Anna Svensson", ("Anna", "Svensson"), id="first-last"),
        pytest.param("Anna Maria Svensson", ("Anna Maria", "Svensson"), id="two-first-names"),
        pytest.param("Svensson, Anna", ("Anna", "Svensson"), id="last-comma-first"),
        pytest.param('"Åsa"', ("Åsa", ""), id="one-word"),
        pytest.param("anna@example.se", ("", ""), id="address-as-name"),
        pytest.param("", ("", ""), id="empty"),
    ],
)
def test_display_names_become_first_and_last_names(display, expected):
    assert split_display_name(display) == expected


def test_contacts_are_matched_by_email_case_insensitively(db):
    existing = ContactFactory(email="Anna@Example.SE", first_name="Anna", last_name="S")
    assert match_or_create_contact("anna@EXAMPLE.se", "Anna Svensson") == existing
    assert Contact.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name) == ("Anna", "S")  # a known name stays


def test_a_nameless_contact_gets_the_display_name(db):
    existing = ContactFactory(email="anna@example.se", first_name="", last_name="")
    match_or_create_contact("anna@example.se", "Anna Svensson")
    existing.refresh_from_db()
    assert (existing.first_name, existing.last_name) == ("Anna", "Svensson")


def test_a_new_message_creates_contact_conversation_and_ticket(
    db, django_capture_on_commit_callbacks
):
    channel = _channel()
    received = timezone.now() - dt.timedelta(minutes=5)
    announced: list[int] = []

    def listen(sender, ticket_id, actor_id, **kwargs):
        announced.append(ticket_id)

    ticket_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = _record(channel, received_at=received)
    finally:
        ticket_changed.disconnect(listen)

    ticket = message.conversation.ticket
    assert (ticket.name, ticket.source, ticket.stage, ticket.team) == (
        "Hjälp",
        Source.EMAIL,
        _stage("New"),
        None,
    )
    assert ticket.pipeline == default_pipeline()
    assert ticket.description == "Hej!\nJag behöver hjälp."
    assert ticket.last_activity_at == received
    contact = Contact.objects.get()
    assert (contact.email, contact.first_name, contact.last_name) == (
        "anna@example.se",
        "Anna",
        "Svensson",
    )
    assert ticket.contact == contact == message.contact == message.conversation.contact
    assert message.conversation.inbox == channel.inbox
    assert message.conversation.last_message_at == received
    assert announced == [ticket.pk]


def test_a_message_without_subject_names_its_ticket_from_its_first_words(db):
    message = _record(_channel(), subject="  ")
    assert message.conversation.ticket.name == "Hej! Jag behöver hjälp."


def test_a_long_text_without_subject_is_cut_at_a_word(db):
    text = "Kan ni hjälpa mig med fakturan från förra månaden som fortfarande inte har kommit fram"
    message = _record(_channel(), subject="", body_text=text)
    assert message.conversation.ticket.name == (
        "Kan ni hjälpa mig med fakturan från förra månaden som…"
    )


def test_a_message_without_subject_or_text_is_named_no_subject(db):
    message = _record(_channel(), subject="", body_text="")
    assert message.conversation.ticket.name == "(no subject)"


def test_a_new_ticket_takes_its_source_from_the_channel_adapter(db):
    from svardesk.conversations import registry
    from svardesk.conversations.registry import ChannelAdapter

    class FormLike(ChannelAdapter):
        kind = "test_inbound"
        ticket_source = "FORM"

    registry.register(FormLike())
    try:
        inbox = Inbox.objects.get(kind=InboxKind.HELP_DESK)
        channel = Channel.objects.create(inbox=inbox, kind="test_inbound", name="web form")
        message = _record(channel, subject="", message_id="form-submission-1")
    finally:
        registry.unregister("test_inbound")
    assert message.conversation.ticket.source == "FORM"
    assert _record(_channel(), message_id="<m2@x>").conversation.ticket.source == "EMAIL"


def test_the_conversations_inbox_gets_no_ticket(db):
    message = _record(_channel(InboxKind.CONVERSATIONS))
    assert message.conversation.ticket is None
    assert Ticket.objects.count() == 0


def test_a_continued_conversation_updates_the_ticket(db, agent):
    channel = _channel()
    first = _record(channel, received_at=timezone.now() - dt.timedelta(hours=1))
    ticket = first.conversation.ticket
    update_ticket(ticket.pk, actor=None, changes={"stage": _stage("Waiting on contact").pk})
    Ticket.objects.filter(pk=ticket.pk).update(last_message_author=agent, preview="Vårt svar")
    later = timezone.now()

    second = _record(
        channel,
        conversation=first.conversation,
        message_id="<m2@example.se>",
        body_text="Tack för svaret!\n\nOn Mon, 3 Mar 2025 at 10:30, Acme wrote:\n> Vårt svar",
        received_at=later,
    )

    ticket.refresh_from_db()
    assert second.conversation == first.conversation
    assert ticket.last_message_author is None
    assert ticket.preview == "Tack för svaret!"
    assert ticket.last_activity_at == later
    assert ticket.stage == _stage("Waiting on us")
    second.conversation.refresh_from_db()
    assert second.conversation.last_message_at == later


def test_an_older_message_does_not_move_last_activity_back(db):
    channel = _channel()
    first = _record(channel)
    ticket = first.conversation.ticket
    _record(
        channel,
        conversation=first.conversation,
        message_id="<old@example.se>",
        received_at=timezone.now() - dt.timedelta(days=3),
    )
    before = ticket.last_activity_at
    ticket.refresh_from_db()
    assert ticket.last_activity_at == before


def test_html_is_sanitised_and_its_quote_marked(db):
    message = _record(
        _channel(),
        body_html=(
            '<p onclick="x()">Svar</p><script>alert(1)</script>'
            '<blockquote type="cite">gammalt</blockquote>'
        ),
    )
    assert message.body_html == f"<p>Svar</p>{QUOTED_OPEN}<blockquote>gammalt</blockquote></div>"


def test_the_same_message_id_twice_raises_and_leaves_nothing(
    db, django_capture_on_commit_callbacks
):
    channel = _channel()
    _record(channel)
    counts = (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count())

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(IntegrityError),
        transaction.atomic(),
    ):
        _record(channel, sender_address="new@example.se", subject="Annat")

    assert callbacks == []
    assert (Contact.objects.count(), Conversation.objects.count(), Ticket.objects.count()) == counts
    assert Message.objects.count() == 1


def test_attachments_are_stored_and_oversized_ones_noted(db):
    HelpDeskSettings.objects.update_or_create(pk=1, defaults={"max_attachment_bytes": 10})
    message = _record(
        _channel(),
        body_html="<p>Se bilagor</p>",
        attachments=[
            InboundAttachment(
                filename="ok.txt", content_type="text/plain", size=5, payload=b"hello"
            ),
            InboundAttachment(
                filename="stor.bin",
                content_type="application/octet-stream",
                size=11,
                payload=b"x" * 11,
            ),
        ],
    )

    [kept] = message.attachments.all()
    assert (kept.filename, kept.size) == ("ok.txt", 5)
    with default_storage.open(kept.file.name) as handle:
        assert handle.read() == b"hello"
    note = "The attachment “stor.bin” (11\xa0bytes) was not stored: attachments can be at most 10\xa0bytes."
    assert message.body_text.endswith(f"[{note}]")
    assert message.body_html == f"<p>Se bilagor</p><p><em>[{note}]</em></p>"


def test_store_attachment_files_applies_the_limit_before_any_transaction(db):
    stored = store_attachment_files(
        [
            InboundAttachment(filename="a.txt", content_type="text/plain", size=3, payload=b"abc"),
            InboundAttachment(filename="b.txt", content_type="text/plain", size=4, payload=b"abcd"),
        ],
        max_bytes=3,
    )
    assert [bool(a.stored_name) for a in stored] == [True, False]
    assert stored[1].dropped_reason.startswith("The attachment “b.txt” (4\xa0bytes) was not stored")
    assert all(a.payload is None for a in stored)
    assert default_storage.exists(stored[0].stored_name)
