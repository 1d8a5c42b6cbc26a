"""Connecting a chat: `svardesk connect_chat` and Settings → Channels → Connect a channel →
Chat (super admins and Account access users, everything on the page), the snippet page,
disconnecting; the channel's state for the settings list."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from svardesk.channels.chat.models import ChatChannel
from svardesk.channels.chat.services import TranscriptSettings, record_sighting
from svardesk.channels.chat.tests.helpers import chat_channel
from svardesk.channels.email.services import connect_email_channel
from svardesk.conversations.models import ChannelKind, InboxKind
from svardesk.conversations.registry import get_adapter
from svardesk.core.origins import InvalidOriginError, normalise_origin
from tests.factories import UserFactory

TEAM_ADDRESS = "support@acme.test"
SNIPPET = re.compile(
    r'^<script src="(?P<base>[^"]+)/chat/widget\.js" data-svardesk-chat="(?P<key>[\w-]+)" '
    r"async></script>$"
)


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("HTTPS://Shop.Example:443/", "https://shop.example"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://[::1]:80", "http://[::1]"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_origins_are_normalised(value, origin):
    assert normalise_origin(value) == origin


@pytest.mark.parametrize(
    "value",
    [
        "shop.example",
        "ftp://shop.example",
        "https://shop.example/contact",
        "https://",
        "https://user@shop.example",
        "https://shop.example?x=1",
        "null",
        "https://a b.example",
    ],
)
def test_anything_but_an_origin_is_refused(value):
    with pytest.raises(InvalidOriginError):
        normalise_origin(value)


@pytest.mark.django_db
def test_connect_chat_prints_the_snippet_as_its_last_line(settings):
    settings.BASE_URL = "https://desk.example.com/"
    out = io.StringIO()
    call_command(
        "connect_chat",
        "Website chat",
        "--website",
        "https://www.example.com",
        "--website",
        "HTTP://Localhost:3000/",
        stdout=out,
    )
    last = out.getvalue().strip().splitlines()[-1]
    match = SNIPPET.match(last)
    assert match is not None, last
    assert match["base"] == "https://desk.example.com"
    chat = ChatChannel.objects.select_related("channel__inbox").get(public_key=match["key"])
    assert chat.websites == ["https://www.example.com", "http://localhost:3000"]
    assert chat.channel.kind == ChannelKind.CHAT
    assert chat.channel.name == "Website chat"
    assert chat.channel.inbox.kind == InboxKind.HELP_DESK


@pytest.mark.django_db
def test_connect_chat_refuses_a_bad_website_and_connects_nothing():
    with pytest.raises(CommandError, match="not a website origin"):
        call_command(
            "connect_chat", "Chat", "--website", "www.example.com/contact", stdout=io.StringIO()
        )
    with pytest.raises(CommandError, match="--website"):
        call_command("connect_chat", "Chat", stdout=io.StringIO())
    assert not ChatChannel.objects.exists()


@pytest.mark.django_db
def test_connect_chat_with_transcripts_from_a_team_address():
    connect_email_channel(actor=None, address=TEAM_ADDRESS)
    call_command(
        "connect_chat",
        "Chat",
        "--website",
        "https://www.example.com",
        "--transcript-from",
        TEAM_ADDRESS,
        stdout=io.StringIO(),
    )
    chat = ChatChannel.objects.get()
    assert (chat.transcripts_enabled, chat.transcript_from) == (True, TEAM_ADDRESS)
    with pytest.raises(CommandError, match="Send from"):
        call_command(
            "connect_chat",
            "Chat 2",
            "--website",
            "https://www.example.com",
            "--transcript-from",
            "someone@else.example",
            stdout=io.StringIO(),
        )


@pytest.mark.django_db
def test_a_super_admin_connects_a_chat_and_gets_the_snippet(client, super_admin):
    connect_email_channel(actor=None, address=TEAM_ADDRESS)
    client.force_login(super_admin)
    page = client.get("/settings/channels/chat/connect/")
    assert page.status_code == 200
    assert TEAM_ADDRESS in page.content.decode()  # offered as the Send from address
    response = client.post(
        "/settings/channels/chat/connect/",
        {
            "name": "Shop chat",
            "websites": "https://shop.example\r\nhttps://www.shop.example/\r\n",
            "ask_details": "during",
            "language": "sv",
            "transcripts_enabled": "on",
            "transcript_from": TEAM_ADDRESS,
        },
    )
    chat = ChatChannel.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/settings/channels/chat/{chat.channel_id}/snippet/"
    assert chat.websites == ["https://shop.example", "https://www.shop.example"]
    assert (chat.ask_details, chat.language) == ("during", "sv")
    assert (chat.transcripts_enabled, chat.transcript_from) == (True, TEAM_ADDRESS)
    snippet = client.get(response["Location"]).content.decode()
    assert (
        f"&lt;script src=&quot;http://testserver/chat/widget.js&quot; "
        f"data-svardesk-chat=&quot;{chat.public_key}&quot; async&gt;&lt;/script&gt;" in snippet
    )


@pytest.mark.django_db
def test_bad_websites_show_a_field_error_and_connect_nothing(client, super_admin):
    client.force_login(super_admin)
    response = client.post(
        "/settings/channels/chat/connect/",
        {
            "name": "Chat",
            "websites": "shop.example/contact",
            "ask_details": "before",
            "language": "en",
        },
    )
    assert response.status_code == 422
    assert "is not a website origin" in response.content.decode()
    assert not ChatChannel.objects.exists()


@pytest.mark.django_db
def test_a_user_without_account_access_gets_403_on_every_chat_settings_page(client, agent):
    chat = chat_channel()
    client.force_login(agent)
    base = f"/settings/channels/chat/{chat.channel_id}"
    fields = {"name": "Renamed", "websites": "https://evil.example", "ask_details": "before"}
    assert client.get("/settings/channels/chat/connect/").status_code == 403
    assert client.post("/settings/channels/chat/connect/", fields).status_code == 403
    assert client.get(f"{base}/").status_code == 403
    assert client.post(f"{base}/", {**fields, "language": "en"}).status_code == 403
    assert client.get(f"{base}/snippet/").status_code == 403
    assert client.get(f"{base}/disconnect/").status_code == 403
    assert client.post(f"{base}/disconnect/").status_code == 403
    chat.channel.is_active = False
    chat.channel.save(update_fields=["is_active"])
    assert client.post(f"{base}/reconnect/").status_code == 403
    chat.refresh_from_db()
    chat.channel.refresh_from_db()
    assert not chat.channel.is_active
    assert chat.channel.name == "Shop chat"
    assert chat.websites == ["https://shop.example"]
    assert ChatChannel.objects.count() == 1


@pytest.mark.django_db
def test_an_account_access_user_connects_edits_disconnects_and_reconnects_a_chat(client):
    connect_email_channel(actor=None, address=TEAM_ADDRESS)
    manager = UserFactory(email="manager@svardesk.test", has_account_access=True)
    assert not manager.is_superuser
    client.force_login(manager)
    assert client.get("/settings/channels/chat/connect/").status_code == 200
    response = client.post(
        "/settings/channels/chat/connect/",
        {
            "name": "Shop chat",
            "websites": "https://shop.example",
            "ask_details": "before",
            "language": "en",
        },
    )
    assert response.status_code == 302
    chat = ChatChannel.objects.select_related("channel").get()
    base = f"/settings/channels/chat/{chat.channel_id}"
    assert response["Location"] == f"{base}/snippet/"
    page = client.get(f"{base}/").content.decode()
    assert 'name="websites"' in page
    assert 'name="transcripts_enabled"' in page
    assert f'href="{base}/disconnect/"' in page
    response = client.post(
        f"{base}/",
        {
            "name": "Renamed",
            "websites": "https://www.shop.example",
            "ask_details": "during",
            "language": "sv",
            "transcripts_enabled": "on",
            "transcript_from": TEAM_ADDRESS,
        },
    )
    assert response.status_code == 302
    chat.refresh_from_db()
    chat.channel.refresh_from_db()
    assert chat.channel.name == "Renamed"
    assert chat.websites == ["https://www.shop.example"]
    assert (chat.ask_details, chat.language) == ("during", "sv")
    assert (chat.transcripts_enabled, chat.transcript_from) == (True, TEAM_ADDRESS)
    assert client.post(f"{base}/disconnect/").status_code == 302
    chat.channel.refresh_from_db()
    assert not chat.channel.is_active
    assert f'action="{base}/reconnect/"' in client.get(f"{base}/").content.decode()
    assert client.post(f"{base}/reconnect/").status_code == 302
    chat.channel.refresh_from_db()
    assert chat.channel.is_active


@pytest.mark.django_db
def test_a_super_admin_disconnects_and_the_widget_stops(client, super_admin):
    chat = chat_channel()
    client.force_login(super_admin)
    response = client.post(f"/settings/channels/chat/{chat.channel_id}/disconnect/")
    assert response.status_code == 302
    config = client.get(f"/chat/{chat.public_key}/config", HTTP_ORIGIN="https://shop.example")
    assert config.status_code == 404
    client.post(f"/settings/channels/chat/{chat.channel_id}/reconnect/")
    config = client.get(f"/chat/{chat.public_key}/config", HTTP_ORIGIN="https://shop.example")
    assert config.status_code == 200


@pytest.mark.django_db
def test_transcripts_need_a_team_address_to_send_from():
    from svardesk.channels.chat.services import ChatChannelValidationError

    with pytest.raises(ChatChannelValidationError):
        chat_channel(transcripts=TranscriptSettings(enabled=True, send_from=""))
    with pytest.raises(ChatChannelValidationError):
        chat_channel(transcripts=TranscriptSettings(enabled=True, send_from="x@else.example"))


@pytest.mark.django_db
def test_the_channels_state_lists_where_the_widget_was_seen():
    chat = chat_channel(websites=["https://shop.example", "https://www.shop.example"])
    adapter = get_adapter("chat")
    assert adapter.state(chat.channel).details == [
        "The widget has not been loaded on a website yet."
    ]
    record_sighting(chat, "https://shop.example", now=timezone.now())
    record_sighting(chat, "https://shop.example", now=timezone.now())  # once per origin
    state = adapter.state(chat.channel)
    assert len(state.details) == 1
    assert state.details[0].startswith("Widget seen on https://shop.example")
    assert state.settings_url == f"/settings/channels/chat/{chat.channel_id}/"
    assert state.problems == []
    assert adapter.connect_url() == "/settings/channels/chat/connect/"


@pytest.mark.django_db
def test_the_channels_state_names_transcripts_that_could_not_be_sent(agent):
    from svardesk.channels.chat.models import ChatSession
    from svardesk.channels.chat.services import (
        close_chat,
        mark_transcript_failed,
        receive_visitor_message,
    )

    connect_email_channel(actor=None, address=TEAM_ADDRESS)
    chat = chat_channel(transcripts=TranscriptSettings(enabled=True, send_from=TEAM_ADDRESS))
    stored = receive_visitor_message(
        chat_channel=chat,
        public_id="visitor-1",
        client_id="c-1",
        text="Hi",
        name="Åsa",
        email="asa@kund.example",
    )
    assert not stored.duplicate
    again = receive_visitor_message(
        chat_channel=chat, public_id="visitor-1", client_id="c-1", text="Hi"
    )
    assert again.duplicate
    assert again.message.pk == stored.message.pk
    close_chat(stored.session, actor=agent)
    assert ChatSession.objects.get().transcript_status == "pending"
    mark_transcript_failed(stored.session.pk, "SMTP said no")
    assert get_adapter("chat").state(chat.channel).problems == [
        "1 transcript could not be sent in the last 7 days."
    ]
