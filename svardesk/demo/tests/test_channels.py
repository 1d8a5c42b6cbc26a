"""`svardesk demo` connects a channel of every installed kind — the demo address, a chat on the
demo's own origin, a form — and demo tickets come only from channels that exist; the demo
website embeds the chat and links to the form."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from svardesk.channels.chat.models import ChatChannel
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Inbox,
    InboxKind,
    Message,
)
from svardesk.conversations.registry import get_adapter
from svardesk.demo.channels import (
    DEMO_ADDRESS,
    chat_origins,
    demo_sources,
    normalise_origin,
    snippet_attributes,
)
from svardesk.demo.inboxes import SALES_ADDRESS, SALES_CONVERSATIONS, SALES_INBOX_NAME
from svardesk.demo.models import DemoSite
from svardesk.tickets.models import Source, Ticket

pytestmark = pytest.mark.django_db

ORIGIN = "http://127.0.0.1:8123"


def _demo(*args: str) -> str:
    out = StringIO()
    call_command(
        "demo",
        "--tickets=400",
        "--contacts=40",
        "--agents=3",
        "--teams=3",
        "--seed=3",
        f"--origin={ORIGIN}",
        *args,
        stdout=out,
    )
    return out.getvalue()


def _active_kinds() -> set[str]:
    return set(Channel.objects.filter(is_active=True).values_list("kind", flat=True))


def test_the_demo_connects_every_channel_kind(settings):
    summary = _demo()

    assert _active_kinds() == {
        ChannelKind.EMAIL,
        ChannelKind.CHAT,
        ChannelKind.FORM,
        ChannelKind.CALL,
        ChannelKind.MESSENGER,
    }
    site = DemoSite.objects.get()
    assert site.origin == ORIGIN
    assert site.email_channel.email.address == DEMO_ADDRESS
    chat = ChatChannel.objects.get(channel=site.chat_channel)
    assert chat.websites == [ORIGIN, "http://localhost:8123"]
    assert snippet_attributes(site.chat_snippet)["data-svardesk-chat"] == chat.public_key
    assert site.form_url.startswith(f"{settings.BASE_URL}/forms/")
    assert f"Form: {site.form_url}" in summary
    assert f"Chat: on {ORIGIN}/demo/website/" in summary


def test_demo_tickets_come_only_from_channels_that_exist():
    _demo()

    sources = set(Ticket.objects.values_list("source", flat=True).distinct())
    channel_sources = {get_adapter(kind).ticket_source for kind in _active_kinds()}
    assert sources <= channel_sources | {Source.MANUAL}
    # Every kind the demo connected does bring tickets.
    assert {Source.EMAIL, Source.CHAT, Source.FORM, Source.CALL, Source.MESSENGER} <= sources
    assert Source.API not in sources


def test_running_the_demo_again_reuses_its_channels():
    _demo()
    first = list(Channel.objects.order_by("pk").values_list("pk", "kind"))
    site = DemoSite.objects.get()

    _demo("--reset")

    assert list(Channel.objects.order_by("pk").values_list("pk", "kind")) == first
    again = DemoSite.objects.get()
    assert again.chat_snippet == site.chat_snippet
    assert again.form_url == site.form_url


def test_a_disconnected_kind_brings_no_demo_tickets():
    _demo()
    Channel.objects.filter(kind=ChannelKind.CHAT).update(is_active=False)

    assert Source.CHAT not in demo_sources()
    _demo("--reset", "--no-channels")

    assert not Ticket.objects.filter(source=Source.CHAT).exists()
    assert Ticket.objects.filter(source=Source.EMAIL).exists()


def test_without_channels_tickets_are_manual_only():
    _demo("--no-channels")

    assert not Channel.objects.exists()
    assert set(Ticket.objects.values_list("source", flat=True).distinct()) == {Source.MANUAL}


def test_a_bad_origin_is_a_clear_error():
    with pytest.raises(CommandError, match="--origin"):
        _demo("--origin=javascript:alert(1)")
    assert not Ticket.objects.exists()


# --- The demo website ----------------------------------------------------------------------------


def test_the_demo_website_is_404_until_the_demo_is_loaded(client):
    assert client.get(reverse("demo:website")).status_code == 404


def test_the_demo_website_embeds_the_chat_and_links_to_the_form(client):
    _demo()
    site = DemoSite.objects.get()
    attributes = snippet_attributes(site.chat_snippet)

    response = client.get(reverse("demo:website"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'src="{attributes["src"]}"' in html
    assert f'data-svardesk-chat="{attributes["data-svardesk-chat"]}"' in html
    assert f'href="{site.form_url}"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_the_demo_website_leaves_out_a_disconnected_chat(client):
    _demo()
    Channel.objects.filter(kind=ChannelKind.CHAT).update(is_active=False)

    html = client.get(reverse("demo:website")).content.decode()

    assert "data-svardesk-chat" not in html
    assert "<script" not in html


# --- Helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '<script src="https://h.example/chat/widget.js" data-svardesk-chat="K" async></script>',
            {"src": "https://h.example/chat/widget.js", "data-svardesk-chat": "K", "async": ""},
        ),
        ('<script src="javascript:alert(1)"></script>', {}),
        (
            '<script src="https://h.example/w.js" onload="x()"></script>',
            {"src": "https://h.example/w.js"},
        ),
        ("not a snippet", {}),
    ],
    ids=["snippet", "javascript-src", "event-handler-dropped", "text"],
)
def test_snippet_attributes(snippet, expected):
    assert snippet_attributes(snippet) == expected


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("HTTPS://Shop.Example:443/path", "https://shop.example"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_normalise_origin(url, origin):
    assert normalise_origin(url) == origin


def test_loopback_origins_get_their_twin():
    assert chat_origins("http://localhost:8000") == [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ]
    assert chat_origins("https://shop.example") == ["https://shop.example"]


def test_the_demo_chat_answers_its_own_origin_without_an_origin_header(client):
    # A browser sends no Origin on a same-origin GET: the demo website is on Svardesk's host.
    _demo()
    key = snippet_attributes(DemoSite.objects.get().chat_snippet)["data-svardesk-chat"]
    url = f"/chat/{key}/config"

    same_site = client.get(url, HTTP_HOST="127.0.0.1:8123", HTTP_SEC_FETCH_SITE="same-origin")
    other_host = client.get(url, HTTP_HOST="localhost:9999", HTTP_SEC_FETCH_SITE="same-origin")
    no_header = client.get(url, HTTP_HOST="127.0.0.1:8123")

    assert same_site.status_code == 200
    assert other_host.status_code == 403
    assert no_header.status_code == 403


def test_the_demo_has_a_conversations_inbox_with_history_and_no_tickets_for_it():
    _demo()
    _demo("--tickets=0")  # run again: nothing added twice

    inbox = Inbox.objects.get(name=SALES_INBOX_NAME, kind=InboxKind.CONVERSATIONS)
    channel = Channel.objects.get(inbox=inbox)
    assert channel.kind == ChannelKind.EMAIL
    assert channel.email.address == SALES_ADDRESS
    conversations = Conversation.objects.filter(inbox=inbox)
    assert conversations.count() == SALES_CONVERSATIONS
    assert not conversations.filter(ticket__isnull=False).exists()
    assert Message.objects.filter(conversation__inbox=inbox).count() == SALES_CONVERSATIONS
