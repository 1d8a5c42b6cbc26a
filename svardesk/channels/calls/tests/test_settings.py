"""Connecting a number: `svardesk connect_calls` and Settings → Connect a channel → Calls
(super admins and Account access users only), the number's page, a new token, disconnecting."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from svardesk.channels.calls.models import CallChannel
from svardesk.conversations.models import Channel, ChannelKind, InboxKind
from svardesk.conversations.registry import get_adapter
from svardesk.core.crypto import decrypt_secret
from tests.factories import UserFactory, default_pipeline

from .conftest import ACCOUNT_SID, AUTH_TOKEN, NUMBER

pytestmark = pytest.mark.django_db


def test_connect_calls_prints_the_voice_url_last(settings):
    settings.BASE_URL = "https://help.example.com"
    out = io.StringIO()

    call_command(
        "connect_calls",
        "+46 8 123 456 78",
        "--account-sid",
        ACCOUNT_SID,
        "--auth-token",
        AUTH_TOKEN,
        stdout=out,
    )

    call_channel = CallChannel.objects.select_related("channel__inbox").get()
    lines = out.getvalue().strip().splitlines()
    key = call_channel.url_key
    assert lines[-1] == f"https://help.example.com/channels/calls/{key}/voice/"
    for kind in ("status", "recording", "transcription"):
        assert any(
            line.endswith(f"https://help.example.com/channels/calls/{key}/{kind}/")
            for line in lines[:-1]
        )
    assert call_channel.phone_number == NUMBER
    assert call_channel.channel.kind == ChannelKind.CALL
    assert call_channel.channel.inbox.kind == InboxKind.HELP_DESK
    assert call_channel.auth_token_encrypted != AUTH_TOKEN
    assert decrypt_secret(call_channel.auth_token_encrypted) == AUTH_TOKEN
    assert AUTH_TOKEN not in out.getvalue()


@pytest.mark.parametrize(
    ("number", "sid", "token", "problem"),
    [
        pytest.param("12", ACCOUNT_SID, AUTH_TOKEN, "phone number", id="number"),
        pytest.param(NUMBER, "AC123", AUTH_TOKEN, "account SID", id="sid"),
        pytest.param(NUMBER, ACCOUNT_SID, " ", "auth token", id="token"),
    ],
)
def test_connect_calls_refuses_bad_input(number, sid, token, problem):
    with pytest.raises(CommandError, match=problem):
        call_command("connect_calls", number, "--account-sid", sid, "--auth-token", token)
    assert CallChannel.objects.count() == 0
    assert Channel.objects.count() == 0


def test_a_number_is_connected_once(call_channel):
    with pytest.raises(CommandError, match="connected already"):
        call_command(
            "connect_calls", NUMBER, "--account-sid", ACCOUNT_SID, "--auth-token", "x" * 32
        )
    assert CallChannel.objects.count() == 1


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@svardesk.test", has_account_access=True)


def test_an_agent_without_account_access_gets_403_everywhere(client, agent, call_channel):
    client.force_login(agent)
    cid = call_channel.channel_id
    answers = [
        client.get("/settings/channels/calls/new/").status_code,
        client.post(
            "/settings/channels/calls/new/",
            {"phone_number": "+46812345679", "account_sid": ACCOUNT_SID, "auth_token": "t" * 32},
        ).status_code,
        client.get(f"/settings/channels/calls/{cid}/").status_code,
        client.post(f"/settings/channels/calls/{cid}/token/", {"auth_token": "new"}).status_code,
        client.get(f"/settings/channels/calls/{cid}/disconnect/").status_code,
        client.post(f"/settings/channels/calls/{cid}/disconnect/").status_code,
    ]

    assert answers == [403] * 6
    call_channel.refresh_from_db()
    assert decrypt_secret(call_channel.auth_token_encrypted) == AUTH_TOKEN
    assert call_channel.channel.is_active
    assert CallChannel.objects.count() == 1


def test_the_connect_page_lists_its_fields(client, manager):
    client.force_login(manager)
    answer = client.get("/settings/channels/calls/new/")

    assert answer.status_code == 200
    html = answer.content.decode()
    for name in ("phone_number", "account_sid", "auth_token", "language"):
        assert f'name="{name}"' in html
    assert 'type="password"' in html


def test_connect_a_channel_links_to_calls(client, manager):
    client.force_login(manager)
    answer = client.get("/settings/channels/connect/")

    assert answer.status_code == 200
    assert get_adapter(ChannelKind.CALL).connect_url() in answer.content.decode()


def test_connecting_from_the_page_shows_the_webhook_urls(client, manager, settings):
    settings.BASE_URL = "https://help.example.com"
    default_pipeline()
    client.force_login(manager)

    answer = client.post(
        "/settings/channels/calls/new/",
        {
            "phone_number": "08-123 456 78",
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "language": "sv",
        },
        follow=True,
    )

    assert answer.status_code == 200
    call_channel = CallChannel.objects.get()
    assert (call_channel.phone_number, call_channel.language) == (NUMBER, "sv")
    html = answer.content.decode()
    for kind in ("voice", "status", "recording", "transcription"):
        assert f"https://help.example.com/channels/calls/{call_channel.url_key}/{kind}/" in html
    assert AUTH_TOKEN not in html
    assert call_channel.auth_token_encrypted not in html


def test_the_connect_page_shows_errors_and_saves_nothing(client, manager):
    client.force_login(manager)
    answer = client.post(
        "/settings/channels/calls/new/",
        {"phone_number": "nope", "account_sid": "AC1", "auth_token": ""},
    )

    assert answer.status_code == 422
    html = answer.content.decode()
    assert "is not a phone number" in html
    assert "An account SID is AC followed by 32" in html
    assert "Enter the account" in html
    assert CallChannel.objects.count() == 0


def test_replacing_the_token(client, manager, call_channel):
    client.force_login(manager)
    answer = client.post(
        f"/settings/channels/calls/{call_channel.channel_id}/token/", {"auth_token": "n" * 32}
    )

    assert answer.status_code == 302
    call_channel.refresh_from_db()
    assert decrypt_secret(call_channel.auth_token_encrypted) == "n" * 32


def test_disconnecting_erases_the_token_and_connecting_again_restores_it(
    client, manager, call_channel
):
    client.force_login(manager)
    cid = call_channel.channel_id
    assert client.get(f"/settings/channels/calls/{cid}/disconnect/").status_code == 200

    answer = client.post(f"/settings/channels/calls/{cid}/disconnect/")

    assert answer.status_code == 302
    call_channel.refresh_from_db()
    assert call_channel.auth_token_encrypted == ""
    assert not call_channel.channel.is_active
    client.post(
        "/settings/channels/calls/new/",
        {"phone_number": NUMBER, "account_sid": ACCOUNT_SID, "auth_token": "again" * 6},
    )
    call_channel.refresh_from_db()
    assert call_channel.channel.is_active
    assert call_channel.channel_id == cid
    assert decrypt_secret(call_channel.auth_token_encrypted) == "again" * 6


def test_the_channel_list_shows_the_number(client, manager, call_channel):
    client.force_login(manager)
    answer = client.get("/settings/channels/")

    assert answer.status_code == 200
    html = answer.content.decode()
    assert f"/settings/channels/calls/{call_channel.channel_id}/" in html
