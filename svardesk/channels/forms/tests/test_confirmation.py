"""The confirmation email: sent once to a real SMTP server, and a reply to it threads back
into the form's ticket."""

import pytest

from svardesk.channels.email.ingest import receive_raw_email
from svardesk.channels.email.services import connect_email_channel
from svardesk.channels.forms import services
from svardesk.channels.forms.models import FormSubmission, SubmissionStatus
from svardesk.channels.forms.tests.conftest import VALID, submit
from svardesk.conversations.models import Message, MessageDirection
from svardesk.tickets.models import Ticket


@pytest.fixture
def tasks_now():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.fixture
def team_address(db):
    return connect_email_channel(
        actor=None, address="support@acme.test", display_name="Acme Support"
    ).channel


def test_confirmation_email_is_sent_once_and_a_reply_threads_into_the_ticket(
    client, form, team_address, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    form.send_confirmation_email = True
    form.confirmation_message_en = "Thanks, we will answer within a day."
    form.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(client, form, VALID)
    assert response.status_code == 200
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.PROCESSED
    assert submission.confirmation_error == ""
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert sent["To"] == "Kim.Kund@example.com"
    assert sent["Subject"].startswith("We have received your message: The order has not arrived")
    text = sent.get_body(preferencelist=("plain",)).get_content()
    assert "Thanks, we will answer within a day." in text
    assert "Order 1234 was due on Tuesday." in text

    # The same submission processed again (a second worker, a retry) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        FormSubmission.objects.filter(pk=submission.pk).update(status=SubmissionStatus.PENDING)
        services.process_submission(submission.pk)
    assert len(smtp_server.messages) == 1
    assert Ticket.objects.count() == 1

    # The visitor answers the confirmation: the answer lands in the form's ticket.
    confirmation_id = sent["Message-ID"]
    raw = (
        "From: Kim Kund <Kim.Kund@example.com>\r\n"
        "To: Acme Support <support@acme.test>\r\n"
        f"Subject: Re: {sent['Subject']}\r\n"
        "Message-ID: <answer-1@example.com>\r\n"
        f"In-Reply-To: {confirmation_id}\r\n"
        f"References: {confirmation_id}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "It is order 1234, the blue one.\r\n"
    ).encode()
    with django_capture_on_commit_callbacks(execute=True):
        receive_raw_email(channel=team_address, raw=raw, via="smtp")
    ticket = Ticket.objects.get()
    answer = Message.objects.get(
        direction=MessageDirection.INBOUND,
        sender_address__iexact="kim.kund@example.com",
        body_text__contains="blue one",
    )
    assert answer.conversation.ticket == ticket


def test_without_an_email_address_the_ticket_is_made_and_the_problem_noted(client, form):
    form.send_confirmation_email = True
    form.save()
    response = submit(client, form, VALID)
    assert response.status_code == 200
    submission = FormSubmission.objects.get()
    assert submission.status == SubmissionStatus.PROCESSED
    assert submission.ticket is not None
    assert submission.confirmation_error != ""


def test_replies_to_a_form_ticket_go_out_by_email(client, form, team_address):
    # No confirmation email: the ticket still gets an email conversation for the replies.
    submit(client, form, VALID)
    ticket = Ticket.objects.get()
    channels = set(ticket.conversations.values_list("channel__kind", flat=True))
    assert channels == {"form", "email"}
