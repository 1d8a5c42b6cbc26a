"""Help desk settings → Channels, Connect a channel → Email, Quarantine, Conversation rules:
who may open them, and what each does."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.channels.email import services
from svardesk.channels.email.models import EmailChannel, InboundEmail, InboundStatus
from svardesk.conversations.models import Channel, HelpDeskSettings
from svardesk.core.crypto import decrypt_secret
from svardesk.tickets.models import Ticket
from tests.factories import UserFactory, default_pipeline

SUPPORT = "support@acme.example"
RAW_OK = (
    b"From: Kim Customer <kim@customer.example>\r\nTo: support@acme.example\r\n"
    b"Subject: Stuck in quarantine\r\nMessage-ID: <q1@customer.example>\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0000\r\n\r\nHello\r\n"
)


@pytest.fixture
def channel(db):
    return services.connect_email_channel(actor=None, address=SUPPORT).channel


@pytest.fixture
def account_user(db):
    return UserFactory(email="accounts@svardesk.test", has_account_access=True)


@pytest.fixture
def quarantined(channel):
    return InboundEmail.objects.create(
        channel=channel,
        message_id="<q1@customer.example>",
        raw=RAW_OK,
        via="smtp",
        status=InboundStatus.QUARANTINED,
        error="The message could not be read: boundary missing",
    )


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def page_urls(channel_id, inbound_id):
    return [
        reverse("channel_settings:channels"),
        reverse("channel_settings:connect"),
        reverse("channel_settings:email_connect"),
        reverse("channel_settings:email_edit", args=[channel_id]),
        reverse("channel_settings:email_disconnect", args=[channel_id]),
        reverse("channel_settings:quarantine"),
        reverse("channel_settings:quarantine_download", args=[inbound_id]),
        reverse("channel_settings:conversation_rules"),
    ]


def test_anonymous_visitors_are_sent_to_log_in(client, channel, quarantined):
    for url in page_urls(channel.channel_id, quarantined.pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


@pytest.mark.parametrize("who", ["agent", "no_seat_with_account_access"])
def test_users_without_account_access_get_403_and_change_nothing(who, agent, channel, quarantined):
    user = agent if who == "agent" else UserFactory(has_seat=False, has_account_access=True)
    client = signed_in(user)
    for url in page_urls(channel.channel_id, quarantined.pk):
        assert client.get(url).status_code == 403, url
    before = EmailChannel.objects.values().get(pk=channel.pk)
    posts = [
        reverse("channel_settings:email_connect"),
        reverse("channel_settings:email_edit", args=[channel.channel_id]),
        reverse("channel_settings:email_disconnect", args=[channel.channel_id]),
        reverse("channel_settings:email_rotate_token", args=[channel.channel_id]),
        reverse("channel_settings:quarantine_reprocess", args=[quarantined.pk]),
        reverse("channel_settings:conversation_rules"),
    ]
    for url in posts:
        response = client.post(url, {"address": "other@acme.example", "max_attachment_mb": 1})
        assert response.status_code == 403, url
    assert EmailChannel.objects.values().get(pk=channel.pk) == before
    assert Channel.objects.count() == 1
    assert InboundEmail.objects.get().status == InboundStatus.QUARANTINED
    assert HelpDeskSettings.load().max_attachment_bytes == 25 * 1024 * 1024


@pytest.mark.parametrize("who", ["super_admin", "account_user"])
def test_super_admins_and_account_access_users_open_every_page(who, request, channel, quarantined):
    client = signed_in(request.getfixturevalue(who))
    for url in page_urls(channel.channel_id, quarantined.pk):
        # The quarantine is for super admins only (test_account_access.py).
        expected = 403 if who == "account_user" and "/quarantine/" in url else 200
        assert client.get(url).status_code == expected, url


def test_account_access_users_find_the_settings_from_the_sidebar(account_user, agent):
    default_pipeline()
    url = reverse("channel_settings:channels")
    assert url in signed_in(account_user).get(reverse("ticket_views:all")).content.decode()
    assert url not in signed_in(agent).get(reverse("ticket_views:all")).content.decode()


def test_the_settings_navigation_links_the_channel_pages(super_admin):
    page = signed_in(super_admin).get(reverse("channel_settings:channels")).content.decode()
    for name in ("channels", "quarantine", "conversation_rules"):
        assert f'href="{reverse(f"channel_settings:{name}")}"' in page


def test_channels_lists_addresses_ways_in_and_the_last_imap_error(super_admin, channel):
    EmailChannel.objects.filter(pk=channel.pk).update(
        imap_host="imap.acme.example",
        imap_user="support",
        imap_last_error="error: [AUTHENTICATIONFAILED] Authentication failed.",
    )
    page = signed_in(super_admin).get(reverse("channel_settings:channels")).content.decode()
    assert SUPPORT in page
    assert "SMTP receiver" in page
    assert "HTTP endpoint" in page
    assert "IMAP support at imap.acme.example (INBOX)" in page
    assert "AUTHENTICATIONFAILED" in page


def test_an_empty_channel_list_says_what_to_do(super_admin):
    page = signed_in(super_admin).get(reverse("channel_settings:channels")).content.decode()
    assert "No channels yet" in page


def connect_form(**overrides):
    data = {
        "address": "Help@Acme.example",
        "display_name": "Acme Support",
        "imap_host": "",
        "imap_port": "993",
        "imap_use_tls": "on",
        "imap_user": "",
        "imap_password": "",
        "imap_folder": "INBOX",
        "smtp_url": "",
    }
    data.update(overrides)
    return data


def test_connecting_shows_the_http_token_once_and_it_works(account_user, client):
    default_pipeline()
    client.force_login(account_user)
    response = client.post(reverse("channel_settings:email_connect"), connect_form())
    assert response.status_code == 200
    email_channel = EmailChannel.objects.get()
    assert email_channel.address == "help@acme.example"
    assert email_channel.display_name == "Acme Support"
    assert email_channel.channel.is_active
    token = re.search(r'id="http-token"[^>]*value="([^"]+)"', response.content.decode())[1]
    assert token not in email_channel.http_token_hash
    # The page shown afterwards never repeats it.
    edit = client.get(reverse("channel_settings:email_edit", args=[email_channel.channel_id]))
    assert token not in edit.content.decode()
    raw = RAW_OK.replace(b"q1@", b"first@")
    posted = Client().post(
        reverse("email_channel:raw", args=[email_channel.channel_id]),
        data=raw,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert posted.status_code == 202


def test_connecting_with_imap_stores_the_password_encrypted(super_admin, client):
    client.force_login(super_admin)
    form = connect_form(
        imap_host="imap.acme.example",
        imap_user="help",
        imap_password="pa55word-imap",
        smtp_url="smtp+starttls://help:smtp-pa55@smtp.acme.example:587",
    )
    assert client.post(reverse("channel_settings:email_connect"), form).status_code == 200
    email_channel = EmailChannel.objects.get()
    assert "pa55word-imap" not in email_channel.imap_password_encrypted
    assert decrypt_secret(email_channel.imap_password_encrypted) == "pa55word-imap"
    assert "smtp-pa55" not in email_channel.smtp_url_encrypted
    edit = client.get(reverse("channel_settings:email_edit", args=[email_channel.channel_id]))
    assert "pa55word-imap" not in edit.content.decode()
    assert "smtp-pa55" not in edit.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"address": SUPPORT}, "already connected"),
        ({"imap_host": "imap.acme.example"}, "IMAP user name"),
        ({"imap_host": "imap.acme.example", "imap_user": "u"}, "IMAP password"),
        ({"smtp_url": "http://smtp.acme.example"}, "smtp://"),
        ({"address": "not an address"}, "valid email address"),
    ],
    ids=["taken", "imap-without-user", "imap-without-password", "bad-smtp-url", "bad-address"],
)
def test_connect_form_errors_are_shown_and_nothing_is_connected(
    super_admin, client, channel, overrides, message
):
    client.force_login(super_admin)
    response = client.post(reverse("channel_settings:email_connect"), connect_form(**overrides))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert EmailChannel.objects.count() == 1


def test_editing_keeps_an_unchanged_password_and_a_new_folder_restarts_uid_tracking(
    super_admin, client
):
    connected = services.connect_email_channel(
        actor=None,
        address=SUPPORT,
        imap=services.ImapSettings(host="imap.acme.example", user="u", password="keep-me"),
    ).channel
    EmailChannel.objects.filter(pk=connected.pk).update(imap_uidvalidity=7, imap_last_uid=42)
    client.force_login(super_admin)
    url = reverse("channel_settings:email_edit", args=[connected.channel_id])
    form = connect_form(
        address=SUPPORT,
        display_name="Support",
        imap_host="imap.acme.example",
        imap_user="u",
        imap_folder="Help desk",
    )
    response = client.post(url, form)
    assert response.status_code == 302
    email_channel = EmailChannel.objects.get()
    assert decrypt_secret(email_channel.imap_password_encrypted) == "keep-me"
    assert email_channel.display_name == "Support"
    assert (email_channel.imap_folder, email_channel.imap_uidvalidity) == ("Help desk", None)
    assert email_channel.imap_last_uid == 0


def test_disconnecting_stops_every_way_in_and_keeps_the_history(super_admin, client):
    connected = services.connect_email_channel(actor=None, address=SUPPORT)
    client.force_login(super_admin)
    cid = connected.channel.channel_id
    response = client.post(reverse("channel_settings:email_disconnect", args=[cid]))
    assert response.status_code == 302
    email_channel = EmailChannel.objects.get()
    assert not email_channel.channel.is_active
    assert email_channel.http_token_hash == ""
    posted = Client().post(
        reverse("email_channel:raw", args=[cid]),
        data=RAW_OK,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {connected.http_token}",
    )
    assert posted.status_code == 401
    from svardesk.channels.email.channel_queries import active_channel_ids_for

    assert active_channel_ids_for([SUPPORT]) == {}

    # Connecting it again continues the same channel, with a new token.
    again = client.post(reverse("channel_settings:email_reconnect", args=[cid]))
    assert again.status_code == 200
    assert EmailChannel.objects.get().channel.is_active
    assert active_channel_ids_for([SUPPORT]) == {SUPPORT: email_channel.pk}


def test_rotating_the_token_shows_a_new_one_and_the_old_stops_working(super_admin, client):
    default_pipeline()
    connected = services.connect_email_channel(actor=None, address=SUPPORT)
    cid = connected.channel.channel_id
    client.force_login(super_admin)
    response = client.post(reverse("channel_settings:email_rotate_token", args=[cid]))
    new_token = re.search(r'id="http-token"[^>]*value="([^"]+)"', response.content.decode())[1]
    assert new_token != connected.http_token

    def post(token):
        return Client().post(
            reverse("email_channel:raw", args=[cid]),
            data=RAW_OK,
            content_type="message/rfc822",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    assert post(connected.http_token).status_code == 401
    assert post(new_token).status_code == 202


def test_settings_forms_need_the_csrf_token(super_admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(super_admin)
    response = client.post(reverse("channel_settings:email_connect"), connect_form())
    assert response.status_code == 403
    assert not EmailChannel.objects.exists()


# --- Quarantine -------------------------------------------------------------------------------


def test_quarantine_lists_each_message_with_its_error(super_admin, quarantined):
    page = signed_in(super_admin).get(reverse("channel_settings:quarantine")).content.decode()
    assert "Stuck in quarantine" in page
    assert "kim@customer.example" in page
    assert "boundary missing" in page
    assert reverse("channel_settings:quarantine_reprocess", args=[quarantined.pk]) in page


def test_an_empty_quarantine_says_so(super_admin):
    page = signed_in(super_admin).get(reverse("channel_settings:quarantine")).content.decode()
    assert "Nothing in quarantine" in page


def test_reprocessing_a_readable_message_makes_its_ticket(super_admin, quarantined):
    default_pipeline()
    client = signed_in(super_admin)
    url = reverse("channel_settings:quarantine_reprocess", args=[quarantined.pk])
    response = client.post(url)
    assert response.status_code == 302
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.PROCESSED
    assert list(Ticket.objects.values_list("name", flat=True)) == ["Stuck in quarantine"]
    assert "Nothing in quarantine" in client.get(response["Location"]).content.decode()


def test_reprocessing_a_broken_message_keeps_it_in_quarantine(super_admin, channel):
    inbound = InboundEmail.objects.create(
        channel=channel,
        message_id="<broken@customer.example>",
        raw=b"\x00\x01 not a mail at all",
        via="http",
        status=InboundStatus.QUARANTINED,
        error="old error",
    )
    response = signed_in(super_admin).post(
        reverse("channel_settings:quarantine_reprocess", args=[inbound.pk])
    )
    assert response.status_code == 302
    inbound.refresh_from_db()
    assert inbound.status == InboundStatus.QUARANTINED
    assert not Ticket.objects.exists()


def test_a_quarantined_message_downloads_exactly_as_it_arrived(super_admin, quarantined):
    response = signed_in(super_admin).get(
        reverse("channel_settings:quarantine_download", args=[quarantined.pk])
    )
    assert response["Content-Type"] == "message/rfc822"
    assert "attachment" in response["Content-Disposition"]
    assert response.content == RAW_OK


def test_only_quarantined_messages_can_be_reprocessed(super_admin, quarantined):
    InboundEmail.objects.filter(pk=quarantined.pk).update(status=InboundStatus.PROCESSED)
    client = signed_in(super_admin)
    url = reverse("channel_settings:quarantine_reprocess", args=[quarantined.pk])
    assert client.post(url).status_code == 404


# --- Conversation rules -----------------------------------------------------------------------


def test_conversation_rules_are_saved(account_user):
    client = signed_in(account_user)
    url = reverse("channel_settings:conversation_rules")
    page = client.get(url).content.decode()
    assert 'value="25"' in page  # 25 MB, the default
    response = client.post(
        url,
        {
            "reopen_closed_on_reply": "0",
            "move_to_waiting_on_us_on_customer_reply": "on",
            "max_attachment_mb": "10",
        },
    )
    assert response.status_code == 302
    rules = HelpDeskSettings.load()
    assert rules.reopen_closed_on_reply is False
    assert rules.move_to_waiting_on_contact_on_reply is False
    assert rules.move_to_waiting_on_us_on_customer_reply is True
    assert rules.max_attachment_bytes == 10 * 1024 * 1024


def test_invalid_conversation_rules_change_nothing(account_user):
    client = signed_in(account_user)
    response = client.post(
        reverse("channel_settings:conversation_rules"),
        {"reopen_closed_on_reply": "1", "max_attachment_mb": "0"},
    )
    assert response.status_code == 422
    assert HelpDeskSettings.load().max_attachment_bytes == 25 * 1024 * 1024


# --- The services check the actor themselves ------------------------------------------------


def test_services_refuse_an_actor_without_account_access(agent, channel):
    from svardesk.core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.connect_email_channel(actor=agent, address="other@acme.example")
    with pytest.raises(PermissionDeniedError):
        services.disconnect_email_channel(channel, actor=agent)
    with pytest.raises(PermissionDeniedError):
        services.rotate_http_token(channel, actor=agent)
    assert EmailChannel.objects.count() == 1
    assert EmailChannel.objects.get().channel.is_active
