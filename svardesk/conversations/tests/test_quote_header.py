"""The quote header of a sent reply is written in the agent's time zone and way of writing
dates, as the agent's UI shows the message (issue 9, item 14)."""

import datetime as dt

import pytest

from svardesk.conversations import services

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

# 05:03 UTC is 06:03 in Stockholm and 00:03 in New York.
RECEIVED = dt.datetime(2026, 12, 6, 5, 3, tzinfo=dt.UTC)


def _sent_text(smtp_server) -> str:  # type: ignore[no-untyped-def]
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    text = next(p for p in sent.walk() if p.get_content_type() == "text/plain")
    return text.get_content().replace("\r\n", "\n")


@pytest.mark.parametrize(
    ("language", "time_zone", "date_style", "header"),
    [
        pytest.param(
            "en",
            "Europe/Stockholm",
            "auto",
            "On 6 Dec 2026, 06:03, Åsa Lindqvist <asa@kund.example> wrote:",
            id="english-in-stockholm",
        ),
        pytest.param(
            "en",
            "America/New_York",
            "auto",
            "On Dec 6, 2026, 12:03 AM, Åsa Lindqvist <asa@kund.example> wrote:",
            id="english-in-new-york",
        ),
        pytest.param(
            "sv",
            "Europe/Stockholm",
            "auto",
            "Den 6 december 2026 06:03 skrev Åsa Lindqvist <asa@kund.example>:",
            id="swedish",
        ),
    ],
)
def test_quote_header_uses_the_agents_time_zone(
    smtp_server,
    tasks_now,
    email_channel,
    agent,
    django_capture_on_commit_callbacks,
    language,
    time_zone,
    date_style,
    header,
):
    # Given an agent in their time zone, answering a customer's message of 05:03 UTC
    agent.language, agent.time_zone, agent.date_style = language, time_zone, date_style
    agent.save(update_fields=["language", "time_zone", "date_style"])
    ticket, _conversation, _inbound = email_ticket(channel=email_channel, when=RECEIVED)
    # When the reply is sent through a real SMTP server
    with django_capture_on_commit_callbacks(execute=True):
        services.send_reply(ticket, actor=agent, html="<p>On it.</p>", to="asa@kund.example")
    # Then the quoted header reads the time as the agent saw it
    text = _sent_text(smtp_server)
    assert f"{header}\n> My printer is on fire." in text, text
