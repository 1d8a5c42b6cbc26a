"""Threading: our signed ids, then every In-Reply-To/References id on the channel, then a
subject token from a participant — never the subject text alone."""

import pytest

from svardesk.channels.email.models import InboundStatus
from svardesk.channels.email.tests.corpus import (
    CORPUS_SECRET,
    SIGNED_A,
    SIGNED_B,
    SIGNED_C,
    build_raw,
    close,
    connect,
    ingest,
    stage,
    ticket_with_outbound,
)
from svardesk.channels.email.threads import candidate_ids, find_thread, ticket_token
from svardesk.conversations.models import HelpDeskSettings, Message
from svardesk.crm.models import Contact
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket
from svardesk.tickets.signals import ticket_changed
from tests.factories import default_pipeline


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def channel(db):
    return connect()


def _set(**values):
    HelpDeskSettings.objects.update_or_create(pk=1, defaults=values)


@pytest.mark.parametrize(
    ("name", "signed_id", "contact_email", "visible"),
    [
        pytest.param(
            "reply_gmail.eml",
            SIGNED_A,
            "anna.svensson@example.se",
            "Tack, nu fungerar det igen! /Anna",
            id="gmail",
        ),
        pytest.param(
            "reply_outlook.eml",
            SIGNED_B,
            "erik.lindqvist@foretag.example",
            "Hej, Det stämmer, fakturan är betald nu. Mvh Erik",
            id="outlook",
        ),
        pytest.param(
            "reply_apple.eml",
            SIGNED_C,
            "maja.holm@example.org",
            "Hej igen, Paketet kom fram idag, tack för hjälpen! Maja",
            id="apple",
        ),
    ],
)
def test_replies_to_our_signed_message_thread_and_move_to_waiting_on_us(
    channel, name, signed_id, contact_email, visible
):
    ticket, reply = ticket_with_outbound(channel, message_id=signed_id, contact_email=contact_email)

    message = ingest(channel, name).recorded_message

    assert message.conversation == reply.conversation
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.stage == stage("Waiting on us")
    assert ticket.last_message_author is None
    assert ticket.preview == visible  # the quoted history is not in it
    assert ticket.last_activity_at == message.created_at
    assert list(reply.conversation.messages.order_by("created_at", "id")) == [reply, message]


def test_a_forged_signature_is_not_trusted(channel):
    ticket_with_outbound(channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se")
    forged = SIGNED_A.replace(".3fd30c63921e64b02305@", ".00000000000000000000@")

    message = ingest(channel, build_raw(in_reply_to=forged, references=forged)).recorded_message

    assert message.conversation.ticket.name == "Hej"
    assert Ticket.objects.count() == 2


def test_our_signed_id_threads_even_from_another_team_address(channel):
    _ticket, reply = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    sales = connect("sales@acme.example")

    message = ingest(sales, "reply_gmail.eml").recorded_message

    assert message.conversation == reply.conversation
    assert message.channel == sales.channel
    assert Ticket.objects.count() == 1


def test_every_references_id_counts_so_a_late_cc_copy_threads(channel):
    first = ingest(channel, "plain.eml").recorded_message
    # A colleague answered Anna's mail with support in CC; In-Reply-To names a message we
    # never saw, References still carries the first message's id.
    copy = build_raw(
        sender="Kollega <kollega@example.se>",
        subject="Re: Problem med inloggningen",
        message_id="<cc-copy@example.se>",
        in_reply_to="<never-seen@example.se>",
        references="<CAK7plain001@mail.example.se> <never-seen@example.se>",
    )

    message = ingest(channel, copy).recorded_message

    assert message.conversation == first.conversation
    assert Ticket.objects.count() == 1


def test_a_reply_to_an_inbound_message_threads(channel):
    first = ingest(channel, "plain.eml").recorded_message

    message = ingest(
        channel,
        build_raw(
            sender="Anna Svensson <anna.svensson@example.se>",
            subject="Glömde en sak",
            message_id="<second@example.se>",
            in_reply_to="<CAK7plain001@mail.example.se>",
        ),
    ).recorded_message

    assert message.conversation == first.conversation


def test_ids_are_matched_per_channel(channel):
    ingest(channel, "plain.eml")
    sales = connect("sales@acme.example")

    message = ingest(
        sales,
        build_raw(message_id="<other@example.se>", references="<CAK7plain001@mail.example.se>"),
    ).recorded_message

    assert message.conversation.channel == sales.channel
    assert Ticket.objects.count() == 2


def test_in_reply_to_wins_over_older_references(channel):
    _ticket_a, _reply_a = ticket_with_outbound(
        channel, message_id="<a@acme.example>", contact_email="kund@example.com"
    )
    ticket_b, _reply_b = ticket_with_outbound(
        channel, message_id="<b@acme.example>", contact_email="kund@example.com"
    )
    assert candidate_ids("<b@acme.example>", ["<a@acme.example>", "<c@x>"]) == [
        "<b@acme.example>",
        "<c@x>",
        "<a@acme.example>",
    ]

    message = ingest(
        channel, build_raw(in_reply_to="<b@acme.example>", references="<a@acme.example>")
    ).recorded_message

    assert message.conversation.ticket == ticket_b


def test_the_subject_token_threads_for_the_tickets_contact(channel):
    ticket, reply = ticket_with_outbound(
        channel, message_id="<t@acme.example>", contact_email="Kund@Example.com"
    )

    message = ingest(
        channel, build_raw(subject=f"Angående {ticket_token(ticket.pk)} igen")
    ).recorded_message

    assert message.conversation == reply.conversation


def test_the_subject_token_threads_for_a_participant(channel):
    ticket, reply = ticket_with_outbound(
        channel, message_id="<t@acme.example>", contact_email="kund@example.com"
    )
    Message.objects.filter(pk=reply.pk).update(cc=["Chefen <chef@example.com>"])

    message = ingest(
        channel,
        build_raw(sender="Chefen <chef@example.com>", subject=f"Re: Ärende [#{ticket.pk}]"),
    ).recorded_message

    assert message.conversation.ticket == ticket


@pytest.mark.parametrize(
    "sender",
    [
        pytest.param("Främling <stranger@example.com>", id="stranger"),
        pytest.param(f"Fake <{'support@acme.example'}>", id="our-own-address"),
    ],
)
def test_the_subject_token_alone_does_not_let_anyone_in(channel, sender):
    ticket, _reply = ticket_with_outbound(
        channel, message_id="<t@acme.example>", contact_email="kund@example.com"
    )

    message = ingest(
        channel, build_raw(sender=sender, subject=f"Re: Ärende [#{ticket.pk}]")
    ).recorded_message

    assert message.conversation.ticket != ticket
    assert Ticket.objects.count() == 2


def test_the_same_subject_text_never_threads(channel):
    first = ingest(channel, "plain.eml").recorded_message

    message = ingest(
        channel,
        build_raw(
            sender="Anna Svensson <anna.svensson@example.se>",
            subject="Problem med inloggningen",
            message_id="<new@example.se>",
        ),
    ).recorded_message

    assert message.conversation != first.conversation
    assert Ticket.objects.count() == 2


def test_find_thread_reports_how_it_matched(channel):
    ticket, reply = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="kund@example.com"
    )
    kwargs = {"channel": channel.channel, "sender_address": "kund@example.com", "subject": ""}

    assert find_thread(in_reply_to=SIGNED_A, references=[], **kwargs).via == "signed-id"
    Message.objects.filter(pk=reply.pk).update(message_id="<plain@acme.example>")
    assert find_thread(in_reply_to="", references=["<plain@acme.example>"], **kwargs).via == (
        "message-id"
    )
    kwargs["subject"] = f"[#{ticket.pk}]"
    match = find_thread(in_reply_to="", references=[], **kwargs)
    assert (match.via, match.ticket, match.conversation) == ("ticket-token", ticket, None)
    kwargs["subject"] = "[#999999]"
    assert find_thread(in_reply_to="", references=[], **kwargs) is None


# --- Ticket state ----------------------------------------------------------------------------


def test_a_reply_to_a_merged_ticket_lands_on_the_survivor(channel):
    merged, _reply = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    middle, _ = ticket_with_outbound(channel, message_id="<m@acme.example>", contact_email="x@y.z")
    survivor, _ = ticket_with_outbound(
        channel, message_id="<s@acme.example>", contact_email="x@y.z"
    )
    Ticket.objects.filter(pk=merged.pk).update(merged_into=middle)
    Ticket.objects.filter(pk=middle.pk).update(merged_into=survivor)

    message = ingest(channel, "reply_gmail.eml").recorded_message

    message.conversation.refresh_from_db()
    assert message.conversation.ticket == survivor
    survivor.refresh_from_db()
    assert survivor.stage == stage("Waiting on us")
    assert survivor.preview.startswith("Tack, nu fungerar det igen!")


def test_a_reply_reopens_a_closed_ticket(channel, django_capture_on_commit_callbacks):
    ticket, _reply = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    close(ticket)
    announced: list[int] = []

    def listen(sender, ticket_id, actor_id, **kwargs):
        announced.append(ticket_id)

    ticket_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            message = ingest(channel, "reply_gmail.eml").recorded_message
    finally:
        ticket_changed.disconnect(listen)

    ticket.refresh_from_db()
    assert message.conversation.ticket == ticket
    assert ticket.is_open is True
    assert ticket.closed_at is None
    assert ticket.stage == stage("Waiting on us")
    event = TicketEvent.objects.filter(ticket=ticket, kind=TicketEventKind.PROPERTY_CHANGED).last()
    assert (event.data["old_display"], event.data["new_display"], event.actor) == (
        "Closed",
        "Waiting on us",
        None,
    )
    assert announced == [ticket.pk]


def test_with_reopening_off_a_reply_opens_a_linked_ticket(channel):
    _set(reopen_closed_on_reply=False)
    ticket, reply = ticket_with_outbound(
        channel,
        message_id=SIGNED_A,
        contact_email="anna.svensson@example.se",
        subject="Problem med inloggningen",
    )
    close(ticket)

    message = ingest(channel, "reply_gmail.eml").recorded_message

    ticket.refresh_from_db()
    assert ticket.is_open is False
    follow_up = message.conversation.ticket
    assert follow_up != ticket
    assert message.conversation != reply.conversation
    assert follow_up.description.startswith(
        f"Follow-up to closed ticket #{ticket.pk} “Problem med inloggningen”.\n\n"
        "Tack, nu fungerar det igen!"
    )
    assert follow_up.contact == ticket.contact
    assert follow_up.stage == stage("New")


def test_an_auto_reply_does_not_reopen_a_closed_ticket(channel):
    ticket, _ = ticket_with_outbound(
        channel, message_id=SIGNED_B, contact_email="erik.lindqvist@foretag.example"
    )
    close(ticket)

    message = ingest(channel, "auto_reply.eml").recorded_message

    ticket.refresh_from_db()
    assert message.conversation.ticket == ticket
    assert ticket.is_open is False
    assert Ticket.objects.count() == 1


def test_moving_to_waiting_on_us_is_a_setting(channel):
    _set(move_to_waiting_on_us_on_customer_reply=False)
    ticket, _ = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )

    ingest(channel, "reply_gmail.eml")

    ticket.refresh_from_db()
    assert ticket.stage == stage("Waiting on contact")
    assert ticket.last_message_author is None


def test_a_reply_on_a_spam_ticket_stays_in_spam(channel):
    ticket, _ = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    Ticket.objects.filter(pk=ticket.pk).update(is_spam=True)

    inbound = ingest(channel, "reply_gmail.eml")

    ticket.refresh_from_db()
    assert inbound.status == InboundStatus.PROCESSED
    assert inbound.recorded_message.conversation.ticket == ticket
    assert ticket.is_spam is True
    assert ticket.stage == stage("Waiting on contact")


def test_a_token_reply_to_a_ticket_without_an_email_conversation_joins_it(channel):
    contact = Contact.objects.create(email="kund@example.com", first_name="Kund")
    ticket = create_ticket(
        actor=None,
        name="Telefonsamtal",
        pipeline=default_pipeline(),
        stage=stage("Waiting on contact"),
        contact=contact,
    )

    message = ingest(channel, build_raw(subject=f"Re: Telefonsamtal [#{ticket.pk}]"))
    message = message.recorded_message

    ticket.refresh_from_db()
    assert message.conversation.ticket == ticket
    assert message.conversation.channel == channel.channel
    assert ticket.stage == stage("Waiting on us")
    assert Ticket.objects.count() == 1
