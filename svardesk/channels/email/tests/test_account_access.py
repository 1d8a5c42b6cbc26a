"""What *Account access* reaches. It does not follow ticket access, so it keeps to what does
not expose other teams' mail or move it elsewhere: connecting and disconnecting addresses,
their HTTP endpoint token, and the conversation rules. The quarantine (raw mail of every
team), its downloads and re-processing, and where mail is fetched from and sent through
(IMAP and outbound SMTP: host, port, credentials) are for super admins."""

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.channels.email import services
from svardesk.channels.email.models import EmailChannel, InboundEmail, InboundStatus
from svardesk.conversations.models import Channel
from svardesk.core.crypto import decrypt_secret
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.tickets.models import Ticket
from tests.factories import UserFactory, default_pipeline

SUPPORT = "support@acme.example"
ADMIN_SMTP = "smtp+starttls://help:admin-pa55@smtp.acme.example:587"
EVIL_SMTP = "smtp://thief:x@smtp.evil.example:25"
RAW = (
    b"From: Kim Customer <kim@customer.example>\r\nTo: support@acme.example\r\n"
    b"Subject: Salary list\r\nMessage-ID: <q1@customer.example>\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nConfidential\r\n"
)


@pytest.fixture
def account_user(db):
    """Own tickets only, with Account access: the review's example."""
    return UserFactory(email="accounts@svardesk.test", ticket_access="own", has_account_access=True)


@pytest.fixture
def channel(db):
    """An address a super admin set up with a mailbox and an outbound server."""
    return services.connect_email_channel(
        actor=None,
        address=SUPPORT,
        imap=services.ImapSettings(host="imap.acme.example", user="help", password="imap-pa55"),
        smtp_url=ADMIN_SMTP,
    ).channel


@pytest.fixture
def quarantined(channel):
    return InboundEmail.objects.create(
        channel=channel,
        message_id="<q1@customer.example>",
        raw=RAW,
        via="smtp",
        status=InboundStatus.QUARANTINED,
        error="The message could not be read: boundary missing",
    )


def signed_in(user):  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def _servers(email_channel: EmailChannel) -> tuple[object, ...]:
    email_channel.refresh_from_db()
    return (
        email_channel.imap_host,
        email_channel.imap_port,
        email_channel.imap_use_tls,
        email_channel.imap_user,
        decrypt_secret(email_channel.imap_password_encrypted),
        email_channel.imap_folder,
        decrypt_secret(email_channel.smtp_url_encrypted),
    )


ADMIN_SERVERS = ("imap.acme.example", 993, True, "help", "imap-pa55", "INBOX", ADMIN_SMTP)


def test_account_access_does_not_open_download_or_reprocess_the_quarantine(
    account_user, quarantined
):
    default_pipeline()
    client = signed_in(account_user)
    assert client.get(reverse("channel_settings:quarantine")).status_code == 403
    download = client.get(reverse("channel_settings:quarantine_download", args=[quarantined.pk]))
    assert download.status_code == 403
    assert b"Confidential" not in download.content
    before = InboundEmail.objects.values("status", "attempts", "error").get(pk=quarantined.pk)
    url = reverse("channel_settings:quarantine_reprocess", args=[quarantined.pk])
    assert client.post(url).status_code == 403
    assert InboundEmail.objects.values("status", "attempts", "error").get(pk=quarantined.pk) == (
        before
    )
    assert before["status"] == InboundStatus.QUARANTINED
    assert not Ticket.objects.exists()


def test_account_access_sees_no_way_to_the_quarantine(account_user, super_admin, quarantined):
    quarantine_url = reverse("channel_settings:quarantine")
    page = signed_in(account_user).get(reverse("channel_settings:channels")).content.decode()
    assert "1 incoming message could not be processed; a super admin can look at it" in page
    assert quarantine_url not in page
    # The settings navigation offers only the pages the user may open.
    for name in ("settings:users", "settings:teams", "settings:pipelines"):
        assert f'href="{reverse(name)}"' not in page
    assert f'href="{reverse("channel_settings:conversation_rules")}"' in page
    admin_page = signed_in(super_admin).get(reverse("channel_settings:channels")).content.decode()
    assert quarantine_url in admin_page
    assert f'href="{reverse("settings:users")}"' in admin_page


def test_account_access_edits_an_address_but_not_its_mail_servers(account_user, channel):
    client = signed_in(account_user)
    url = reverse("channel_settings:email_edit", args=[channel.channel_id])
    page = client.get(url).content.decode()
    for field in ("imap_host", "imap_port", "imap_user", "imap_password", "smtp_url"):
        assert f'name="{field}"' not in page
    assert "Only super admins set the mailbox (IMAP) and the outbound SMTP server." in page
    response = client.post(
        url,
        {
            "address": SUPPORT,
            "display_name": "Acme Help",
            "imap_host": "imap.evil.example",
            "imap_port": "143",
            "imap_user": "thief",
            "imap_password": "x",
            "imap_folder": "INBOX",
            "smtp_url": EVIL_SMTP,
            "clear_smtp_url": "on",
        },
    )
    assert response.status_code == 302
    assert _servers(channel) == ADMIN_SERVERS
    assert channel.display_name == "Acme Help"


def test_account_access_connects_an_address_without_mail_servers(account_user):
    default_pipeline()
    response = signed_in(account_user).post(
        reverse("channel_settings:email_connect"),
        {
            "address": "billing@acme.example",
            "imap_host": "imap.evil.example",
            "imap_user": "thief",
            "imap_password": "x",
            "smtp_url": EVIL_SMTP,
        },
    )
    assert response.status_code == 200
    connected = EmailChannel.objects.get(address="billing@acme.example")
    assert _servers(connected) == ("", 993, True, "", "", "INBOX", "")


def test_the_services_refuse_mail_servers_to_account_access(account_user, channel):
    with pytest.raises(PermissionDeniedError):
        services.update_email_channel(
            channel,
            actor=account_user,
            address=SUPPORT,
            display_name="",
            imap=services.ImapSettings(host="imap.evil.example", user="thief", password="x"),
        )
    with pytest.raises(PermissionDeniedError):
        services.update_email_channel(
            channel, actor=account_user, address=SUPPORT, display_name="", smtp_url=EVIL_SMTP
        )
    with pytest.raises(PermissionDeniedError):
        services.connect_email_channel(
            actor=account_user, address="other@acme.example", smtp_url=EVIL_SMTP
        )
    assert _servers(channel) == ADMIN_SERVERS
    assert channel.display_name == ""
    assert Channel.objects.count() == 1


def test_the_users_screen_says_what_account_access_reaches(super_admin, account_user):
    page = (
        signed_in(super_admin)
        .get(reverse("settings:user_edit", args=[account_user.pk]))
        .content.decode()
    )
    assert (
        "Connect and disconnect email addresses and their HTTP endpoint token, set the "
        "conversation rules, and block or unblock senders, for the whole help desk whatever "
        "the user&#x27;s ticket access. Not the quarantine or the mail servers (IMAP, "
        "outbound SMTP): those are for super admins."
    ) in page
