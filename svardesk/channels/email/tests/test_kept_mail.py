"""Kept outgoing mail: with no SVARDESK_SMTP_URL, sent mail is stored and listed in Settings →
Outgoing mail (super admins and Account access users), never lost to a console."""

import logging
from email import message_from_bytes, policy

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from svardesk.channels.email import kept_mail
from svardesk.channels.email.models import KeptMail
from svardesk.conversations import services
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket

pytestmark = pytest.mark.django_db

BACKEND = "svardesk.channels.email.kept_mail.KeptMailBackend"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def kept(settings):
    settings.EMAIL_BACKEND = BACKEND
    settings.KEPT_MAIL_LIMIT = 1000


def _deliver(message_id: int) -> str:
    deliver = getattr(services, "deliver_message", None) or services.deliver_email_message
    return deliver(message_id, is_final_attempt=True)


def test_the_embedded_default_keeps_mail(settings):
    # The default with SVARDESK_SMTP_URL unset (tests run with locmem; the settings module says
    # what a real install gets).
    from svardesk.config import settings as config_settings

    if config_settings.SMTP_URL:  # pragma: no cover - only when the test runner sets one
        pytest.skip("SVARDESK_SMTP_URL is set in this environment")
    assert config_settings.EMAIL_BACKEND == BACKEND
    assert config_settings.KEPT_MAIL_LIMIT == 1000


def test_a_message_is_kept_with_its_parts_and_raw_bytes(kept, caplog):
    email = EmailMultiAlternatives(
        subject="Your ticket #12",
        body="Hello Åsa,\nthe printer is fixed.",
        from_email="Acme Support <support@acme.test>",
        to=["asa@kund.example"],
        cc=["boss@kund.example"],
        bcc=["audit@acme.test"],
    )
    email.attach_alternative("<p>Hello Åsa,<br>the printer is <b>fixed</b>.</p>", "text/html")

    with caplog.at_level(logging.INFO, logger="svardesk.channels.email.kept_mail"):
        assert email.send() == 1

    row = KeptMail.objects.get()
    assert row.from_address == "Acme Support <support@acme.test>"
    assert row.to == ["asa@kund.example"]
    assert row.cc == ["boss@kund.example"]
    assert row.bcc == ["audit@acme.test"]
    assert row.subject == "Your ticket #12"
    assert row.text == "Hello Åsa,\nthe printer is fixed."
    assert row.html == "<p>Hello Åsa,<br>the printer is <b>fixed</b>.</p>"
    parsed = message_from_bytes(bytes(row.raw), policy=policy.default)
    assert parsed["Subject"] == "Your ticket #12"
    assert parsed["Message-ID"] == row.message_id
    assert row.message_id.startswith("<")
    assert "Bcc" not in parsed  # as an SMTP server would receive it
    # One line in the log, and no body.
    assert f"Kept outgoing mail #{row.pk} to asa@kund.example, boss@kund.example, audit@acme" in (
        caplog.text
    )
    assert "printer is fixed" not in caplog.text


def test_a_connection_says_where_its_one_message_went(kept):
    connection = get_connection()
    mail.EmailMessage("Hi", "Body", "a@acme.test", ["b@kund.example"], connection=connection).send()

    row = KeptMail.objects.get()
    assert connection.describe() == f"kept:{row.pk}"


def test_a_message_without_recipients_is_not_kept(kept):
    assert mail.EmailMessage("Hi", "Body", "a@acme.test", []).send() == 0
    assert not KeptMail.objects.exists()


def test_a_reply_with_no_smtp_url_is_kept_and_the_ticket_links_to_it(
    kept, client, super_admin, support_team
):
    channel = connect_channel()
    ticket, _conversation, _inbound = email_ticket(channel=channel, team=support_team)
    reply = services.send_reply(
        ticket, actor=super_admin, html="<p>We are on it.</p>", to="asa@kund.example"
    )

    assert _deliver(reply.pk) == "sent"

    row = KeptMail.objects.get()
    reply.refresh_from_db()
    assert reply.delivered_via == f"kept:{row.pk}"
    assert row.to == ["asa@kund.example"]
    assert "We are on it." in row.html
    assert row.message_id == reply.message_id
    client.force_login(super_admin)
    thread = client.get(reverse("conversations:thread", args=[ticket.pk]), **HTMX)
    html = thread.content.decode()
    assert "Kept in Outgoing mail, not emailed" in html
    assert reverse("settings:outgoing_mail_detail", args=[row.pk]) in html
    assert "✓ Sent" not in html


def test_a_password_reset_is_kept_too(kept, client, agent):
    response = client.post(reverse("accounts:password_reset"), {"email": agent.email})

    assert response.status_code in (200, 302)
    row = KeptMail.objects.get()
    assert row.to == [agent.email]


# --- Pruning -------------------------------------------------------------------------------------


def _keep_many(count: int) -> list[int]:
    connection = get_connection(BACKEND)
    messages = [
        mail.EmailMessage(f"Message {i}", "Body", "a@acme.test", ["b@kund.example"])
        for i in range(count)
    ]
    connection.send_messages(messages)
    return connection.kept_ids


def test_pruning_keeps_the_newest(settings):
    settings.KEPT_MAIL_LIMIT = 3
    ids = _keep_many(5)

    assert kept_mail.prune_kept_mail_rows() == 2
    assert list(KeptMail.objects.order_by("id").values_list("id", flat=True)) == ids[2:]
    assert kept_mail.prune_kept_mail_rows() == 0  # again: nothing more to do


def test_pruning_under_the_limit_deletes_nothing(settings):
    settings.KEPT_MAIL_LIMIT = 10
    _keep_many(4)

    assert kept_mail.prune_kept_mail_rows() == 0
    assert KeptMail.objects.count() == 4


def test_the_periodic_task_prunes(settings):
    settings.KEPT_MAIL_LIMIT = 1
    ids = _keep_many(3)

    kept_mail.prune_kept_mail.call_local()

    assert list(KeptMail.objects.values_list("id", flat=True)) == [ids[-1]]


# --- Settings → Outgoing mail ------------------------------------------------------------------


@pytest.fixture
def three_kept(kept):
    return _keep_many(3)


@pytest.mark.parametrize("who", ["super_admin", "account_access"])
def test_the_list_shows_kept_mail_newest_first(client, three_kept, who, super_admin, agent):
    user = super_admin
    if who == "account_access":
        agent.has_account_access = True
        agent.save(update_fields=["has_account_access"])
        user = agent
    client.force_login(user)

    html = client.get(reverse("settings:outgoing_mail")).content.decode()

    assert html.index("Message 2") < html.index("Message 1") < html.index("Message 0")


def test_the_list_pages_by_id(client, kept, super_admin, monkeypatch):
    monkeypatch.setattr(kept_mail, "PAGE_SIZE", 2)
    ids = _keep_many(3)
    client.force_login(super_admin)

    first = client.get(reverse("settings:outgoing_mail")).content.decode()
    older = client.get(reverse("settings:outgoing_mail"), {"before": ids[1]}).content.decode()

    assert "Message 2" in first
    assert "Message 1" in first
    assert "Message 0" not in first
    assert f"?before={ids[1]}" in first
    assert "Message 0" in older
    assert "Message 1" not in older


def test_a_bad_page_marker_shows_the_first_page(client, three_kept, super_admin):
    client.force_login(super_admin)

    response = client.get(reverse("settings:outgoing_mail"), {"before": "x'; --"})

    assert response.status_code == 200
    assert "Message 2" in response.content.decode()


@pytest.mark.parametrize(
    "view", ["outgoing_mail", "outgoing_mail_detail", "outgoing_mail_html", "outgoing_mail_raw"]
)
def test_agents_without_account_access_are_refused(client, three_kept, agent, view):
    client.force_login(agent)
    args = [] if view == "outgoing_mail" else [three_kept[0]]

    response = client.get(reverse(f"settings:{view}", args=args))

    assert response.status_code == 403
    assert b"Message 0" not in response.content


def test_signed_out_visitors_go_to_sign_in(client, three_kept):
    response = client.get(reverse("settings:outgoing_mail_raw", args=[three_kept[0]]))

    assert response.status_code == 302
    assert "/accounts/" in response["Location"]


def test_the_raw_message_downloads_as_eml(client, three_kept, super_admin):
    client.force_login(super_admin)
    row = KeptMail.objects.get(pk=three_kept[0])

    response = client.get(reverse("settings:outgoing_mail_raw", args=[row.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="outgoing-{row.pk}.eml"'
    assert response.content == bytes(row.raw)


def test_an_unknown_message_is_404(client, kept, super_admin):
    client.force_login(super_admin)

    assert client.get(reverse("settings:outgoing_mail_detail", args=[999])).status_code == 404
    assert client.get(reverse("settings:outgoing_mail_raw", args=[999])).status_code == 404


def test_html_is_shown_sanitised_in_a_sandboxed_frame(client, kept, super_admin):
    email = EmailMultiAlternatives("Hostile", "Plain text part", "a@acme.test", ["b@kund.example"])
    email.attach_alternative(
        '<p onclick="steal()">Hi</p><script>alert(1)</script><img src="https://track.example/p.gif">',
        "text/html",
    )
    email.send()
    row = KeptMail.objects.get()
    client.force_login(super_admin)

    page = client.get(reverse("settings:outgoing_mail_detail", args=[row.pk])).content.decode()
    frame = client.get(reverse("settings:outgoing_mail_html", args=[row.pk]))

    assert "<iframe" in page
    assert " sandbox " in page
    assert "Plain text part" in page
    assert "<script>alert" not in page
    body = frame.content.decode()
    assert "<p>Hi</p>" in body
    assert "script" not in body.split("<body>", 1)[1]
    assert "onclick" not in body
    assert "sandbox" in frame["Content-Security-Policy"]
    assert "default-src 'none'" in frame["Content-Security-Policy"]
    assert frame["X-Frame-Options"] == "SAMEORIGIN"


def test_text_is_escaped(client, kept, super_admin):
    mail.EmailMessage("T", "<b>not bold</b>", "a@acme.test", ["b@kund.example"]).send()
    row = KeptMail.objects.get()
    client.force_login(super_admin)

    page = client.get(reverse("settings:outgoing_mail_detail", args=[row.pk])).content.decode()

    assert "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert "<iframe" not in page
