"""The ticket's conversation over HTTP: permissions, the editor's posts, downloads, mentions,
notifications and spam."""

import json
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from svardesk.channels.email.models import BlockedSender
from svardesk.conversations import services
from svardesk.conversations.models import (
    Attachment,
    Conversation,
    DeliveryStatus,
    HelpDeskSettings,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
    Notification,
)
from tests.factories import ContactFactory, TicketFactory, UserFactory

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def support_email_ticket(email_channel, support_team):
    ticket, _conversation, _inbound = email_ticket(
        channel=email_channel,
        team=support_team,
        body_html=(
            "<p>It is still broken.</p>"
            '<div class="sd-quoted"><p>On Monday Acme wrote:</p><blockquote>Try again</blockquote>'
            "</div>"
        ),
    )
    return ticket


@pytest.fixture
def attachment(support_email_ticket):
    inbound = Message.objects.get(direction=MessageDirection.INBOUND)
    item = Attachment(message=inbound, filename="photo.png", content_type="image/png", size=4)
    item.file.save("photo.png", ContentFile(b"\x89PNG"), save=True)
    return item


def _url(name, ticket=None, obj=None):  # type: ignore[no-untyped-def]
    if obj is not None:
        return reverse(name, args=[obj.pk])
    if ticket is not None:
        return reverse(name, args=[ticket.pk])
    return reverse(name)


@pytest.mark.parametrize(
    ("method", "name", "target"),
    [
        ("post", "conversations:reply", "ticket"),
        ("post", "conversations:comment", "ticket"),
        ("get", "conversations:thread", "ticket"),
        ("post", "conversations:spam", "ticket"),
        ("post", "conversations:not_spam", "ticket"),
        ("post", "conversations:retry", "message"),
        ("get", "conversations:attachment", "attachment"),
    ],
)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param(None, 302, id="anonymous-to-login"),
        pytest.param("no_seat_user", 403, id="no-seat-403"),
        pytest.param("team_agent", 404, id="other-team-404"),
        pytest.param("own_agent", 404, id="own-scope-404"),
    ],
)
def test_conversation_views_refuse_without_access(
    client, request, support_email_ticket, attachment, method, name, target, who, status
):
    if who:
        client.force_login(request.getfixturevalue(who))
    inbound = Message.objects.get(direction=MessageDirection.INBOUND)
    obj = {"ticket": None, "message": inbound, "attachment": attachment}[target]
    url = _url(name, ticket=support_email_ticket, obj=obj)
    data = {"html": "<p>Hi</p>", "to": "asa@kund.example", "block_sender": "on"}
    response = getattr(client, method)(url, data, **HTMX)
    assert response.status_code == status
    assert Message.objects.count() == 1
    support_email_ticket.refresh_from_db()
    assert support_email_ticket.is_spam is False
    assert not BlockedSender.objects.exists()


def test_ticket_shows_the_conversation(client, agent, support_email_ticket):
    ticket = support_email_ticket
    services.add_comment(ticket, actor=agent, html="<p>Internal: <em>check logs</em></p>")
    reply = services.send_reply(
        ticket, actor=agent, html="<p>We are on it</p>", to="asa@kund.example"
    )
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.FAILED, delivery_error="SMTPServerDisconnected: gone"
    )
    client.force_login(agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    # Oldest to newest: the customer, the comment, the reply.
    positions = [html.index(text) for text in ("It is still broken.", "check logs", "We are on it")]
    assert positions == sorted(positions)
    assert 'class="msg msg-inbound' in html
    assert 'class="msg msg-comment' in html
    assert 'class="msg msg-outbound' in html
    # Quoted history is kept, behind the "…" toggle.
    assert re.search(r'<details class="msg-quoted">.*Try again', html, re.S)
    assert html.index("It is still broken.") < html.index("Try again")
    # The failed reply says so and offers Retry.
    assert "Not delivered" in html
    assert "SMTPServerDisconnected: gone" in html
    assert reverse("conversations:retry", args=[reply.pk]) in html
    # The editor: Reply and Comment tabs, To prefilled with the customer.
    assert 'role="tab"' in html
    assert 'value="Åsa Lindqvist &lt;asa@kund.example&gt;"' in html
    assert reverse("conversations:reply", args=[ticket.pk]) in html
    assert 'data-max-bytes="26214400"' in html


def test_plain_text_bodies_are_escaped(client, agent, email_channel):
    ticket, _conv, _inbound = email_ticket(
        channel=email_channel, body_html="", body_text="<script>alert(1)</script>\nBye"
    )
    client.force_login(agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_reply_posts_and_returns_the_refreshed_ticket(
    client, agent, support_email_ticket, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("conversations:reply", args=[support_email_ticket.pk]),
            {"html": "<p><strong>Fixed</strong> now</p>", "to": "asa@kund.example", "cc": ""},
            **HTMX,
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="ticket-detail"' in body
    assert "<strong>Fixed</strong> now" in body
    assert "Reply sent to the outbox." in body
    assert len(smtp_server.messages) == 1
    html_part = smtp_server.messages[0].get_body(("html",)).get_content()
    assert "<strong>Fixed</strong>" in html_part


def test_reply_with_too_large_attachment_shows_an_error_and_sends_nothing(
    client, agent, support_email_ticket, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    HelpDeskSettings.objects.update_or_create(pk=1, defaults={"max_attachment_bytes": 10})
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("conversations:reply", args=[support_email_ticket.pk]),
            {
                "html": "<p>See attached</p>",
                "to": "asa@kund.example",
                "attachments": SimpleUploadedFile("log.txt", b"x" * 11, content_type="text/plain"),
            },
            **HTMX,
        )
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#reply-errors-{support_email_ticket.pk}"
    assert "log.txt" in response.content.decode()
    assert callbacks == []
    assert smtp_server.messages == []
    assert not Message.objects.filter(direction=MessageDirection.OUTBOUND).exists()


def test_reply_tab_explains_a_missing_channel(client, super_admin, agent):
    ticket = TicketFactory(contact=ContactFactory(email="per@kund.example"))
    client.force_login(super_admin)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "no email address is connected yet" in html
    assert reverse("channel_settings:channels") in html
    client.force_login(agent)
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "no email address is connected yet" in html
    assert reverse("channel_settings:channels") not in html

    # The answer is kept for a few seconds; connecting a channel clears it at once.
    from svardesk.channels.email.services import connect_email_channel

    connect_email_channel(actor=None, address="support@acme.test", display_name="Acme Support")
    html = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    assert "no email address is connected yet" not in html
    assert "support@acme.test" in html  # the reply goes out from the new address


def test_comment_view_creates_notification(client, agent, super_admin, support_email_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("conversations:comment", args=[support_email_ticket.pk]),
        {"html": "<p>@Ada Admin please look</p>", "mentions": [str(super_admin.pk), "x"]},
        **HTMX,
    )
    assert response.status_code == 200
    assert "please look" in response.content.decode()
    notification = Notification.objects.get()
    assert (notification.user, notification.actor) == (super_admin, agent)


def test_empty_comment_is_refused(client, agent, support_email_ticket):
    client.force_login(agent)
    response = client.post(
        reverse("conversations:comment", args=[support_email_ticket.pk]),
        {"html": "<p></p>"},
        **HTMX,
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == f"#comment-errors-{support_email_ticket.pk}"
    assert not Message.objects.filter(direction=MessageDirection.COMMENT).exists()


def test_attachment_download_and_inline_image(client, agent, attachment):
    client.force_login(agent)
    url = reverse("conversations:attachment", args=[attachment.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"\x89PNG"
    inline = client.get(url + "?inline=1")
    assert inline["Content-Type"] == "image/png"
    assert inline["Content-Disposition"].startswith("inline;")
    assert inline["X-Content-Type-Options"] == "nosniff"


def test_svg_is_never_shown_inline(client, agent, attachment):
    Attachment.objects.filter(pk=attachment.pk).update(content_type="image/svg+xml")
    client.force_login(agent)
    response = client.get(reverse("conversations:attachment", args=[attachment.pk]) + "?inline=1")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


def test_mention_search_returns_up_to_ten_workspace_users(client, agent, no_seat_user):
    for i in range(12):
        UserFactory(first_name="Karin", last_name=f"K{i:02d}", email=f"karin{i}@acme.test")
    UserFactory(first_name="Karin", last_name="Gone", is_active=False)
    UserFactory(first_name="Karin", last_name="Seatless", has_seat=False)
    client.force_login(agent)
    data = client.get(reverse("conversations:mentions"), {"q": "kar"}).json()
    assert len(data["results"]) == 10
    assert all(r["name"].startswith("Karin K") for r in data["results"])
    assert set(data["results"][0]) == {"id", "name", "email", "initials"}
    by_email = client.get(reverse("conversations:mentions"), {"q": "karin11@"}).json()
    assert [r["email"] for r in by_email["results"]] == ["karin11@acme.test"]


def test_mention_search_needs_the_workspace(client, no_seat_user):
    client.force_login(no_seat_user)
    assert client.get(reverse("conversations:mentions"), {"q": "a"}).status_code == 403


def test_notifications_list_badge_open_and_read_all(
    client, agent, super_admin, support_email_ticket
):
    for text in ("first", "second"):
        services.add_comment(
            support_email_ticket,
            actor=agent,
            html=f"<p>@Ada Admin {text}</p>",
            mentioned_user_ids=[super_admin.pk],
        )
    client.force_login(super_admin)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert "Anna Agent mentioned you on #" in page
    assert "2 unread" in page
    badge = client.get(reverse("conversations:notification_badge")).content.decode()
    assert 'data-unread-count="2"' in badge
    home = client.get(reverse("ticket_views:all")).content.decode()
    assert 'data-unread-count="2"' in home  # the sidebar badge

    first = Notification.objects.order_by("pk").first()
    response = client.post(reverse("conversations:open_notification", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[support_email_ticket.pk])
    first.refresh_from_db()
    assert first.read_at is not None

    client.post(reverse("conversations:read_all"))
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert client.get(reverse("conversations:notification_badge")).content.decode().strip() == ""


def test_someone_elses_notification_is_not_found(client, agent, super_admin, support_email_ticket):
    services.add_comment(
        support_email_ticket,
        actor=agent,
        html="<p>@Ada Admin</p>",
        mentioned_user_ids=[super_admin.pk],
    )
    client.force_login(agent)
    notification = Notification.objects.get()
    response = client.post(reverse("conversations:open_notification", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_spam_and_not_spam_from_the_ticket(client, agent, support_email_ticket):
    # Blocking is for super admins and Account access (test_blocking_senders.py).
    agent.has_account_access = True
    agent.save(update_fields=["has_account_access"])
    client.force_login(agent)
    response = client.post(
        reverse("conversations:spam", args=[support_email_ticket.pk]),
        {"block_sender": "on"},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Mail from asa@kund.example now goes straight to Spam." in body
    assert "Not spam" in body
    assert BlockedSender.objects.filter(address="asa@kund.example").exists()
    support_email_ticket.refresh_from_db()
    assert support_email_ticket.is_spam

    response = client.post(
        reverse("conversations:not_spam", args=[support_email_ticket.pk]),
        {"unblock_sender": "on"},
        **HTMX,
    )
    assert response.status_code == 200
    support_email_ticket.refresh_from_db()
    assert not support_email_ticket.is_spam
    assert not BlockedSender.objects.exists()


def test_retry_view_requeues_a_failed_reply(
    client, agent, support_email_ticket, smtp_server, tasks_now, django_capture_on_commit_callbacks
):
    reply = services.send_reply(
        support_email_ticket, actor=agent, html="<p>Hello</p>", to="asa@kund.example"
    )
    Message.objects.filter(pk=reply.pk).update(
        delivery_status=DeliveryStatus.FAILED, delivery_error="boom", send_attempts=5
    )
    client.force_login(agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("conversations:retry", args=[reply.pk]), **HTMX)
    assert response.status_code == 200
    reply.refresh_from_db()
    assert reply.delivery_status == DeliveryStatus.SENT
    assert len(smtp_server.messages) == 1
    assert f'id="thread-{support_email_ticket.pk}"' in response.content.decode()


def test_thread_partial_for_live_updates(client, agent, support_email_ticket):
    client.force_login(agent)
    response = client.get(reverse("conversations:thread", args=[support_email_ticket.pk]), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<div id="thread-{support_email_ticket.pk}"')
    assert "It is still broken." in body
    assert "composer" not in body  # the editor is left alone


def test_composer_strings_are_valid_json(client, agent, support_email_ticket):
    client.force_login(agent)
    html = client.get(reverse("tickets:detail", args=[support_email_ticket.pk])).content.decode()
    raw = re.search(
        r"<script type=\"application/json\" data-composer-i18n>(.*?)</script>", html, re.S
    )
    strings = json.loads(raw.group(1))
    assert strings["bold"] == "Bold"
    assert "%(names)s" in strings["viewing"]


def test_ticket_page_queries_do_not_grow_with_the_thread(client, agent, support_email_ticket):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    url = reverse("tickets:detail", args=[support_email_ticket.pk])
    client.get(url)  # warm the session and caches

    def count() -> int:
        from svardesk.core.local_cache import clear_local_cache

        # The services below clear the process's cache (core.local_cache): count both cold.
        clear_local_cache()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    for i in range(10):
        services.add_comment(support_email_ticket, actor=agent, html=f"<p>note {i}</p>")
        reply = services.send_reply(
            support_email_ticket, actor=agent, html=f"<p>reply {i}</p>", to="asa@kund.example"
        )
        Attachment(message=reply, filename=f"f{i}.txt", size=1).file.save(
            f"f{i}.txt", ContentFile(b"x"), save=True
        )
    many = count()
    assert many == few


def test_thread_polls_only_while_a_reply_is_on_its_way(client, agent, support_email_ticket):
    reply = services.send_reply(
        support_email_ticket, actor=agent, html="<p>Hello</p>", to="asa@kund.example"
    )
    client.force_login(agent)
    url = reverse("conversations:thread", args=[support_email_ticket.pk])
    sending = client.get(url, **HTMX).content.decode()
    assert 'hx-trigger="every 3s"' in sending
    assert "Sending…" in sending
    Message.objects.filter(pk=reply.pk).update(delivery_status=DeliveryStatus.SENT)
    sent = client.get(url, **HTMX).content.decode()
    assert "every 3s" not in sent
    assert "Sent" in sent


def test_swedish_says_sent_of_a_reply_and_reply_on_the_tab(client, agent, support_email_ticket):
    """The same English words mean different things: a delivered reply is "Skickat", the
    Sent view "Skickade"; the composer's tab says "Svara" (to reply), a message is a "Svar"."""
    agent.language = "sv"
    agent.save(update_fields=["language"])
    reply = services.send_reply(
        support_email_ticket, actor=agent, html="<p>Hej</p>", to="asa@kund.example"
    )
    Message.objects.filter(pk=reply.pk).update(delivery_status=DeliveryStatus.SENT)
    client.force_login(agent)

    thread = client.get(
        reverse("conversations:thread", args=[support_email_ticket.pk]), **HTMX
    ).content.decode()
    page = client.get(reverse("tickets:detail", args=[support_email_ticket.pk])).content.decode()

    assert "✓ Skickat" in thread
    assert ">Svara</button>" in page
    assert "Skickade" in page  # the Sent view in the sidebar


def test_a_conversations_inbox_threads_attachments_open_to_every_workspace_user(
    client, team_agent, no_seat_user, support_email_ticket, attachment
):
    # The inbox's pages list its threads for every workspace user, so its files open for
    # them too; the help desk's stay in their ticket's scope (the test above).
    inbox = Inbox.objects.create(name="Sales", kind=InboxKind.CONVERSATIONS)
    Conversation.objects.filter(ticket=support_email_ticket).update(inbox=inbox)
    url = reverse("conversations:attachment", args=[attachment.pk])

    client.force_login(team_agent)
    assert client.get(url).status_code == 200
    client.force_login(no_seat_user)
    assert client.get(url).status_code == 403
