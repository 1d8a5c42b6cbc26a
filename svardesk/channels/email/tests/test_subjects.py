"""A subject whose encoded words decode to a line break (or other control characters) must
neither break the replies to its ticket nor stay on the ticket (issue: hardening, item 7)."""

import base64

import pytest
from django.urls import reverse

from svardesk.channels.email.compose import reply_subject
from svardesk.channels.email.parsing import decode_header_value, parse_email
from svardesk.channels.email.tests.corpus import CORPUS_SECRET, build_raw, connect
from svardesk.channels.email.tests.corpus import ingest as ingest_mail
from svardesk.conversations import services
from svardesk.conversations.models import DeliveryStatus

NEWLINE_SUBJECT = (
    "=?utf-8?b?" + base64.b64encode(b"Faktura\r\nBcc: x@evil.example\x07").decode() + "?="
)


@pytest.fixture(autouse=True)
def _corpus_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tasks_now():
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.mark.parametrize(
    ("header", "decoded"),
    [
        pytest.param(NEWLINE_SUBJECT, "Faktura Bcc: x@evil.example", id="b-encoded-crlf-and-bel"),
        pytest.param("=?utf-8?q?Rad_1=0ARad_2?=", "Rad 1 Rad 2", id="q-encoded-lf"),
        pytest.param("=?utf-8?q?tab=09here=C2=85next?=", "tab here next", id="tab-and-c1-nel"),
        pytest.param("Plain subject", "Plain subject", id="plain"),
    ],
)
def test_decoded_header_values_hold_no_control_characters(header, decoded):
    assert decode_header_value(header) == decoded


def test_an_encoded_newline_in_the_subject_is_parsed_as_a_space():
    parsed = parse_email(build_raw(subject=NEWLINE_SUBJECT))

    assert parsed.subject == "Faktura Bcc: x@evil.example"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        pytest.param("Rad 1\nRad 2", "Re: Rad 1 Rad 2 [#7]", id="lf"),
        pytest.param("Re: Rad 1\r\n\tRad 2\x00", "Re: Rad 1 Rad 2 [#7]", id="crlf-tab-nul"),
        pytest.param("\n", "Re: [#7]", id="only-a-newline"),
    ],
)
def test_reply_subjects_hold_no_control_characters(subject, expected):
    assert reply_subject(subject, 7) == expected


@pytest.mark.django_db
def test_replies_to_a_ticket_whose_stored_subject_holds_a_newline_are_sent(
    smtp_server, tasks_now, agent, django_capture_on_commit_callbacks
):
    # Given a ticket recorded before the fix, its conversation's subject holding a newline
    channel = connect()
    message = ingest_mail(channel, build_raw(sender="kund@example.com")).recorded_message
    conversation = message.conversation
    ticket = conversation.ticket
    conversation.subject = "Faktura\nBcc: x@evil.example"
    conversation.save(update_fields=["subject"])
    ticket.name = "Faktura\nBcc: x@evil.example"
    ticket.save(update_fields=["name"])
    ticket.team = agent.teams.first()
    ticket.save(update_fields=["team"])

    # When an agent replies
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.send_reply(ticket, actor=agent, html="<p>Hej!</p>", to="kund@example.com")

    # Then the reply is sent, on one subject line
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert reply.subject == f"Re: Faktura Bcc: x@evil.example [#{ticket.pk}]"
    assert [m["Subject"] for m in smtp_server.messages] == [reply.subject]
    assert [m["Bcc"] for m in smtp_server.messages] == [None]


@pytest.mark.django_db
def test_a_new_ticket_from_an_encoded_newline_subject_can_be_renamed(client, super_admin):
    channel = connect()
    ticket = ingest_mail(
        channel, build_raw(subject=NEWLINE_SUBJECT)
    ).recorded_message.conversation.ticket
    assert ticket.name == "Faktura Bcc: x@evil.example"

    client.force_login(super_admin)
    response = client.post(
        reverse("tickets:edit_property", args=[ticket.pk, "name"]),
        {"value": "Faktura\r\nmars", "version": ticket.version},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.name == "Faktura mars"
