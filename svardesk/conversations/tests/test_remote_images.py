"""Remote images in inbound HTML: the thread never names their address (tracking pixels learn
nothing) until the agent loads them for one message, in a sandboxed frame with its own policy."""

import pytest
from django.urls import reverse
from django.utils import timezone

from svardesk.conversations import content
from svardesk.conversations.content import sanitize_message_html
from svardesk.conversations.inbound import InboundAttachment, record_inbound_message
from svardesk.conversations.models import Channel, ChannelKind, Inbox, InboxKind
from svardesk.conversations.queries import display_message

from .reply_helpers import email_ticket

PIXEL = "https://tracker.example/p.gif?u=42&amp;t=1"


@pytest.mark.parametrize(
    ("html", "expected", "blocked"),
    [
        pytest.param(
            f'<p>Hi<img src="{PIXEL}" width="1" height="1"></p>',
            '<p>Hi<img width="1" height="1" data-blocked-image=""></p>',
            1,
            id="tracking-pixel",
        ),
        pytest.param(
            '<img alt="a &gt; b" src="https://cdn.example/logo.png">',
            '<img alt="a &gt; b" data-blocked-image="">',
            1,
            id="escaped-alt",
        ),
        pytest.param(
            '<img alt="a>b" src="https://cdn.example/logo.png">',
            '<img alt="a>b" data-blocked-image="">',
            1,
            id="raw-gt-in-alt",
        ),
        pytest.param(
            '<img src="/attachments/7/?inline=1" alt="shot">',
            '<img src="/attachments/7/?inline=1" alt="shot">',
            0,
            id="own-inline-attachment-kept",
        ),
        pytest.param(
            '<img src="//cdn.example/a.png"><IMG SRC="HTTPS://cdn.example/b.png">',
            '<img data-blocked-image=""><IMG data-blocked-image="">',
            2,
            id="protocol-relative-and-upper-case",
        ),
        pytest.param(
            '<img src="/\\cdn.example/a.png">',
            '<img data-blocked-image="">',
            1,
            id="backslash-is-protocol-relative-too",
        ),
        pytest.param("<p>No images</p>", "<p>No images</p>", 0, id="none"),
    ],
)
def test_block_remote_images(html, expected, blocked):
    assert content.block_remote_images(html) == (expected, blocked)


def _channel() -> Channel:
    inbox = Inbox.objects.filter(kind=InboxKind.HELP_DESK).first() or Inbox.objects.create(
        name="Help desk", kind=InboxKind.HELP_DESK
    )
    return Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="support")


def test_sanitised_inbound_html_shows_no_remote_address_in_the_thread(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    raw = (
        f'<p>Order 4411<img src="{PIXEL}" width="1" height="1"></p>'
        '<p><img src="cid:shot@kund" alt="Skärmbild"></p>'
        '<div class="gmail_quote">On Mon, 3 Mar 2025 at 10:00, Ann wrote:'
        '<blockquote><img src="https://tracker.example/old.gif"></blockquote></div>'
    )
    message = record_inbound_message(
        channel=_channel(),
        sender_name="Åsa",
        sender_address="asa@kund.example",
        to=["support@acme.example"],
        cc=[],
        subject="Order",
        body_text="Order 4411",
        body_html=raw,
        message_id="<pixel-1@kund.example>",
        in_reply_to="",
        references=[],
        attachments=[
            InboundAttachment(
                filename="shot.png",
                content_type="image/png",
                size=6,
                payload=b"\x89PNG\r\n",
                content_id="<shot@kund>",
                is_inline=True,
            )
        ],
        is_auto_generated=False,
        received_at=timezone.now(),
    )
    assert "https://tracker.example/p.gif" in message.body_html  # kept for "Load images"

    shown = display_message(message)

    assert "tracker.example" not in shown.body + shown.quoted
    assert shown.blocked_images == 2
    inline = message.attachments.get()
    inline_url = reverse("conversations:attachment", args=[inline.pk])
    assert f'src="{inline_url}?inline=1"' in shown.body


def _ticket_with_pixel(email_channel, team=None):  # type: ignore[no-untyped-def]
    html = f'<p>Hello<img src="{PIXEL}" width="1" height="1"></p>'
    ticket, _conversation, message = email_ticket(
        channel=email_channel, team=team, body_html=sanitize_message_html(html)
    )
    return ticket, message


def test_ticket_page_offers_to_load_the_blocked_images(client, agent, email_channel):
    ticket, message = _ticket_with_pixel(email_channel)
    client.force_login(agent)

    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()

    assert "tracker.example" not in page
    assert "1 remote image blocked" in page
    frame_url = reverse("conversations:message_images", args=[message.pk])
    assert f'data-load-images="{frame_url}"' in page


def test_the_frame_shows_the_images_under_its_own_policy(client, agent, email_channel):
    _ticket, message = _ticket_with_pixel(email_channel)
    client.force_login(agent)

    response = client.get(reverse("conversations:message_images", args=[message.pk]))

    assert response.status_code == 200
    assert f'<img src="{PIXEL}" width="1" height="1">' in response.content.decode()
    assert response["Content-Security-Policy"] == (
        "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
        "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def test_the_frame_is_refused_out_of_scope_and_signed_out(client, team_agent, email_channel):
    _ticket, message = _ticket_with_pixel(email_channel)
    url = reverse("conversations:message_images", args=[message.pk])

    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

    client.force_login(team_agent)
    response = client.get(url)
    assert response.status_code == 404
    assert "tracker.example" not in response.content.decode()
    assert client.get("/messages/x/images/").status_code == 404
