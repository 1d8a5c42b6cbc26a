"""Connecting a Facebook Page (Settings and `svardesk connect_messenger`), its settings page,
replacing secrets and disconnecting: super admins and Account access users only."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from svardesk.channels.messenger.models import MessengerPage
from svardesk.conversations.models import Channel, ChannelKind
from svardesk.core.crypto import decrypt_secret

from .conftest import APP_SECRET, PAGE_ID, VERIFY_TOKEN
from .fake_graph import TOKEN

pytestmark = pytest.mark.django_db

CONNECT = reverse("messenger_channel_settings:connect")
FORM = {
    "page_name": "Acme on Facebook",
    "page_id": PAGE_ID,
    "page_token": TOKEN,
    "app_secret": APP_SECRET,
    "verify_token": VERIFY_TOKEN,
}


def test_a_super_admin_connects_a_page_and_sees_what_to_paste_in_meta(client, super_admin):
    client.force_login(super_admin)
    assert client.get(CONNECT).status_code == 200

    response = client.post(CONNECT, FORM)

    page = MessengerPage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "messenger_channel_settings:edit", args=[page.channel_id]
    )
    assert page.channel.kind == ChannelKind.MESSENGER
    assert page.channel.name == "Acme on Facebook"
    # Stored encrypted, readable again.
    for column, plain in (
        ("page_token_encrypted", TOKEN),
        ("app_secret_encrypted", APP_SECRET),
        ("verify_token_encrypted", VERIFY_TOKEN),
    ):
        assert plain not in getattr(page, column)
        assert decrypt_secret(getattr(page, column)) == plain
    detail = client.get(response["Location"]).content.decode()
    assert f"http://testserver/channels/messenger/{page.url_key}/webhook" in detail
    assert VERIFY_TOKEN in detail
    assert TOKEN not in detail
    assert APP_SECRET not in detail


def test_connect_refuses_a_page_id_that_is_no_number(client, super_admin):
    client.force_login(super_admin)
    response = client.post(CONNECT, {**FORM, "page_id": "acme"})
    assert response.status_code == 422
    assert MessengerPage.objects.count() == 0
    assert Channel.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "name"),
    [
        pytest.param("get", "connect", id="connect-get"),
        pytest.param("post", "connect", id="connect-post"),
        pytest.param("get", "edit", id="edit-get"),
        pytest.param("post", "edit", id="edit-post"),
        pytest.param("get", "disconnect", id="disconnect-get"),
        pytest.param("post", "disconnect", id="disconnect-post"),
    ],
)
def test_an_agent_without_account_access_gets_403_and_nothing_changes(
    client, agent, page, method, name
):
    client.force_login(agent)
    args = [] if name == "connect" else [page.channel_id]
    url = reverse(f"messenger_channel_settings:{name}", args=args)
    data = {**FORM, "page_id": "555", "page_token": "other-token"}
    response = getattr(client, method)(url, data) if method == "post" else client.get(url)
    assert response.status_code == 403
    page.refresh_from_db()
    assert decrypt_secret(page.page_token_encrypted) == TOKEN
    assert page.channel.is_active
    assert MessengerPage.objects.count() == 1


def test_a_signed_out_visitor_is_sent_to_sign_in(client, page):
    response = client.get(reverse("messenger_channel_settings:edit", args=[page.channel_id]))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_account_access_users_replace_one_secret_and_keep_the_others(client, agent, page):
    agent.has_account_access = True
    agent.save()
    client.force_login(agent)
    url = reverse("messenger_channel_settings:edit", args=[page.channel_id])

    response = client.post(url, {"page_name": "Acme", "page_token": "new-token-123"})

    assert response.status_code == 302
    page.refresh_from_db()
    assert decrypt_secret(page.page_token_encrypted) == "new-token-123"
    assert decrypt_secret(page.app_secret_encrypted) == APP_SECRET
    assert decrypt_secret(page.verify_token_encrypted) == VERIFY_TOKEN
    assert page.channel.name == "Acme"


def test_disconnecting_erases_the_secrets_and_connecting_again_restores_the_channel(
    client, super_admin, page
):
    client.force_login(super_admin)
    url = reverse("messenger_channel_settings:disconnect", args=[page.channel_id])
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    page.refresh_from_db()
    assert not page.channel.is_active
    assert (page.page_token_encrypted, page.app_secret_encrypted) == ("", "")

    assert client.post(CONNECT, FORM).status_code == 302
    again = MessengerPage.objects.get()
    assert again.pk == page.pk
    assert again.channel.is_active
    assert decrypt_secret(again.app_secret_encrypted) == APP_SECRET


def test_a_connected_page_cannot_be_connected_twice(client, super_admin, page):
    client.force_login(super_admin)
    response = client.post(CONNECT, FORM)
    assert response.status_code == 422
    assert "connected already" in response.content.decode()
    assert Channel.objects.filter(kind=ChannelKind.MESSENGER).count() == 1


def test_connect_a_channel_offers_facebook_messenger_and_the_list_shows_the_page(
    client, super_admin, page
):
    client.force_login(super_admin)
    choose = client.get(reverse("channel_settings:connect")).content.decode()
    assert f'href="{CONNECT}"' in choose
    assert "Facebook Messenger" in choose
    listing = client.get(reverse("channel_settings:channels")).content.decode()
    assert "Acme on Facebook" in listing
    assert reverse("messenger_channel_settings:disconnect", args=[page.channel_id]) in listing


def test_the_connect_command_prints_the_webhook_url_last(settings, db):
    settings.BASE_URL = "https://help.example.com"
    out = io.StringIO()
    call_command(
        "connect_messenger",
        "--page-id",
        PAGE_ID,
        "--page-token",
        TOKEN,
        "--app-secret",
        APP_SECRET,
        "--verify-token",
        VERIFY_TOKEN,
        stdout=out,
    )
    page = MessengerPage.objects.get()
    last = out.getvalue().strip().splitlines()[-1]
    assert last == f"https://help.example.com/channels/messenger/{page.url_key}/webhook"
    assert TOKEN not in out.getvalue()
    assert decrypt_secret(page.page_token_encrypted) == TOKEN
