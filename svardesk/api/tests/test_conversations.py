"""Conversations v3 through the SDK's `api_request` and raw HTTP against a live server:
inboxes, channels, channel accounts, threads (list, paging, status, archive, assignee),
messages (list, comment, a reply really delivered to an SMTP server) and actors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from svardesk.channels.email.services import connect_email_channel
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    DeliveryStatus,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.tickets.models import Ticket, TicketEvent, TicketRedirect
from tests.factories import ContactFactory, TicketFactory, default_pipeline, stage_named

BASE = "/conversations/v3/conversations"
TEAM_ADDRESS = "support@acme.test"


@pytest.fixture
def tasks_now(transactional_db):
    """Huey runs tasks as they are enqueued: a reply is delivered before the API answers."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()
    HUEY.immediate = False


@pytest.fixture
def email_channel(transactional_db) -> Channel:
    default_pipeline()
    connected = connect_email_channel(actor=None, address=TEAM_ADDRESS, display_name="Acme Support")
    return connected.channel.channel


def email_thread(
    channel: Channel,
    *,
    subject: str = "Printer on fire",
    team: Any = None,
    owner: Any = None,
    email: str = "asa@kund.example",
    body_text: str = "My printer is on fire.",
    when: dt.datetime | None = None,
) -> tuple[Ticket, Conversation, Message]:
    """A ticket whose email conversation holds one customer message."""
    contact = ContactFactory(first_name="Åsa", last_name="Lindqvist", email=email)
    ticket = TicketFactory(name=subject, team=team, owner=owner, contact=contact, source="EMAIL")
    when = when or timezone.now() - dt.timedelta(hours=1)
    conversation = Conversation.objects.create(
        channel=channel,
        inbox_id=channel.inbox_id,
        ticket=ticket,
        contact=contact,
        subject=subject,
        last_message_at=when,
    )
    inbound = Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=MessageDirection.INBOUND,
        contact=contact,
        sender_name="Åsa Lindqvist",
        sender_address=email,
        to=[TEAM_ADDRESS],
        subject=subject,
        body_text=body_text,
        message_id=f"<{subject.replace(' ', '-')}-{contact.pk}@kund.example>",
        delivery_status=DeliveryStatus.RECEIVED,
        created_at=when,
    )
    return ticket, conversation, inbound


def call(client: Any, method: str, path: str, qs: dict[str, Any] | None = None, body: Any = None):
    options: dict[str, Any] = {"method": method, "path": BASE + path}
    if qs:
        options["qs"] = qs
    if body is not None:
        options["body"] = body
    return client.api_request(options)


# --- Inboxes, channels, channel accounts -------------------------------------------------------


def test_inboxes_list_and_read_with_their_type(hubspot, email_channel):
    Inbox.objects.create(name="Sales chats", kind=InboxKind.CONVERSATIONS)
    expected = [
        (str(i.pk), i.name, "HELP_DESK" if i.kind == InboxKind.HELP_DESK else "INBOX")
        for i in Inbox.objects.order_by("pk")
    ]
    answer = call(hubspot, "GET", "/inboxes")
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == len(expected)
    assert [(i["id"], i["name"], i["type"]) for i in body["results"]] == expected
    assert expected[-1][1:] == ("Sales chats", "INBOX")
    assert (str(email_channel.inbox_id), "Help desk", "HELP_DESK") in expected
    assert all(i["archived"] is False for i in body["results"])
    assert body["results"][0]["createdAt"].endswith("Z")
    assert "paging" not in body
    one = call(hubspot, "GET", f"/inboxes/{email_channel.inbox_id}").json()
    assert one == next(i for i in body["results"] if i["id"] == str(email_channel.inbox_id))
    assert call(hubspot, "GET", "/inboxes/99999").status_code == 404
    assert call(hubspot, "GET", "/inboxes", {"archived": True}).json()["results"] == []


def test_inboxes_page_with_after(hubspot, email_channel):
    for n in range(3):
        Inbox.objects.create(name=f"Inbox {n}", kind=InboxKind.CONVERSATIONS)
    expected = [str(pk) for pk in Inbox.objects.order_by("pk").values_list("pk", flat=True)]
    seen: list[str] = []
    qs: dict[str, Any] = {"limit": 2}
    while True:
        body = call(hubspot, "GET", "/inboxes", qs).json()
        assert body["total"] == len(expected)
        assert len(body["results"]) <= 2
        seen.extend(i["id"] for i in body["results"])
        if "paging" not in body:
            break
        qs["after"] = body["paging"]["next"]["after"]
    assert seen == expected


def test_channels_are_hubspots_generic_ids(hubspot, transactional_db):
    body = call(hubspot, "GET", "/channels").json()
    assert body["total"] == 5
    assert [(c["id"], c["name"]) for c in body["results"]] == [
        ("1000", "Live chat"),
        ("1001", "Facebook Messenger"),
        ("1002", "Email"),
        ("1003", "Forms"),
        ("1004", "Calls"),
    ]
    assert call(hubspot, "GET", "/channels/1002").json() == {"id": "1002", "name": "Email"}
    assert call(hubspot, "GET", "/channels/42").status_code == 404


def test_channel_accounts_are_the_connected_channels(hubspot, email_channel):
    chat = Channel.objects.create(
        inbox_id=email_channel.inbox_id, kind=ChannelKind.CHAT, name="Website chat"
    )
    body = call(hubspot, "GET", "/channel-accounts").json()
    assert body["total"] == 2
    email_account, chat_account = body["results"]
    assert email_account == {
        "id": str(email_channel.pk),
        "channelId": "1002",
        "inboxId": str(email_channel.inbox_id),
        "name": TEAM_ADDRESS,
        "active": True,
        "authorized": True,
        "archived": False,
        "createdAt": email_account["createdAt"],
        "deliveryIdentifier": {"type": "HS_EMAIL_ADDRESS", "value": TEAM_ADDRESS},
    }
    assert chat_account["channelId"] == "1000"
    assert "deliveryIdentifier" not in chat_account
    only_chat = call(hubspot, "GET", "/channel-accounts", {"channelId": ["1000"]}).json()
    assert [a["id"] for a in only_chat["results"]] == [str(chat.pk)]
    one = call(hubspot, "GET", f"/channel-accounts/{chat.pk}").json()
    assert one == chat_account


# --- Threads -----------------------------------------------------------------------------------


def test_a_thread_reads_as_hubspots_public_thread(hubspot, email_channel, agent):
    ticket, conversation, inbound = email_thread(email_channel, owner=agent)
    answer = call(hubspot, "GET", f"/threads/{conversation.pk}", {"association": "TICKET"})
    assert answer.status_code == 200
    thread = answer.json()
    assert thread == {
        "id": str(conversation.pk),
        "createdAt": thread["createdAt"],
        "status": "OPEN",
        "originalChannelId": "1002",
        "originalChannelAccountId": str(email_channel.pk),
        "latestMessageTimestamp": thread["latestMessageTimestamp"],
        "latestMessageReceivedTimestamp": thread["latestMessageReceivedTimestamp"],
        "assignedTo": f"A-{agent.pk}",
        "spam": False,
        "inboxId": str(email_channel.inbox_id),
        "associatedContactId": str(ticket.contact_id),
        "archived": False,
        "threadAssociations": {"associatedTicketId": str(ticket.pk)},
    }
    received = dt.datetime.fromisoformat(thread["latestMessageReceivedTimestamp"])
    assert abs(received - inbound.created_at) < dt.timedelta(milliseconds=1)
    assert "latestMessageSentTimestamp" not in thread  # nothing sent yet
    plain = call(hubspot, "GET", f"/threads/{conversation.pk}").json()
    assert "threadAssociations" not in plain


def test_threads_list_in_id_order_across_pages(hubspot, email_channel):
    ids = [email_thread(email_channel, email=f"c{n}@kund.example")[1].pk for n in range(5)]
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        qs: dict[str, Any] = {"limit": 2}
        if after:
            qs["after"] = after
        body = call(hubspot, "GET", "/threads", qs).json()
        pages += 1
        seen.extend(int(t["id"]) for t in body["results"])
        if "paging" not in body:
            break
        after = body["paging"]["next"]["after"]
    assert seen == sorted(ids)
    assert pages == 3


def test_threads_filter_by_status_contact_ticket_and_inbox(hubspot, email_channel):
    open_ticket, open_thread, _ = email_thread(email_channel, email="a@kund.example")
    closed_ticket, closed_thread, _ = email_thread(email_channel, email="b@kund.example")
    Ticket.objects.filter(pk=closed_ticket.pk).update(stage=stage_named("Closed"), is_open=False)

    def ids(qs: dict[str, Any]) -> list[int]:
        answer = call(hubspot, "GET", "/threads", qs)
        assert answer.status_code == 200, answer.text
        return [int(t["id"]) for t in answer.json()["results"]]

    assert ids({"threadStatus": "OPEN"}) == [open_thread.pk]
    assert ids({"threadStatus": "CLOSED"}) == [closed_thread.pk]
    assert ids({"associatedContactId": closed_ticket.contact_id, "threadStatus": "CLOSED"}) == [
        closed_thread.pk
    ]
    assert ids({"associatedTicketId": open_ticket.pk}) == [open_thread.pk]
    TicketRedirect.objects.create(old_id=987654, ticket=open_ticket, merged_at=timezone.now())
    assert ids({"associatedTicketId": 987654}) == [open_thread.pk]  # a merged-away id
    assert ids({"inboxId": email_channel.inbox_id}) == [open_thread.pk, closed_thread.pk]
    assert ids({"inboxId": 99999}) == []
    closed = call(hubspot, "GET", f"/threads/{closed_thread.pk}").json()
    assert closed["status"] == "CLOSED"


@pytest.mark.parametrize(
    ("qs", "fragment"),
    [
        pytest.param({"associatedContactId": "1"}, "requires threadStatus", id="contact-no-status"),
        pytest.param(
            {"associatedContactId": "1", "threadStatus": "OPEN", "inboxId": "1"},
            "cannot be combined",
            id="contact-and-inbox",
        ),
        pytest.param({"inboxId": ["1", "2"]}, "single value", id="two-inboxes"),
        pytest.param({"threadStatus": "open"}, "threadStatus", id="status-case"),
        pytest.param({"limit": "501"}, "limit", id="limit-over-500"),
        pytest.param({"sort": "latestMessageTimestamp"}, "latestMessageTimestampAfter", id="sort"),
        pytest.param({"sort": "-id"}, "descending", id="descending-without-contact"),
        pytest.param({"association": "CONTACT"}, "TICKET", id="association"),
    ],
)
def test_thread_list_parameters_are_validated(raw_api, email_channel, qs, fragment):
    from urllib.parse import urlencode

    answer = raw_api.get(f"{BASE}/threads?{urlencode(qs, doseq=True)}")
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert fragment in answer.body["message"]


def test_threads_sorted_by_latest_message_after_a_time(hubspot, email_channel):
    now = timezone.now()
    _t, old, _m = email_thread(email_channel, email="o@k.example", when=now - dt.timedelta(days=3))
    _t, newer, _m = email_thread(
        email_channel, email="n@k.example", when=now - dt.timedelta(hours=1)
    )
    _t, middle, _m = email_thread(
        email_channel, email="m@k.example", when=now - dt.timedelta(days=1)
    )
    since = (now - dt.timedelta(days=2)).isoformat()
    qs = {"sort": "latestMessageTimestamp", "latestMessageTimestampAfter": since, "limit": 1}
    first = call(hubspot, "GET", "/threads", qs).json()
    assert [int(t["id"]) for t in first["results"]] == [middle.pk]
    second = call(hubspot, "GET", "/threads", {**qs, "after": first["paging"]["next"]["after"]})
    assert [int(t["id"]) for t in second.json()["results"]] == [newer.pk]
    assert "paging" not in second.json()
    assert old.pk not in [int(t["id"]) for t in second.json()["results"]]


def test_a_thread_is_visible_only_with_its_ticket(
    make_client, make_token, email_channel, team_agent, billing_team
):
    _t, theirs, _m = email_thread(email_channel, team=billing_team, email="x@kund.example")
    _t, other, _m = email_thread(email_channel, email="y@kund.example")
    orphan = Conversation.objects.create(
        channel=email_channel, inbox_id=email_channel.inbox_id, subject="No ticket"
    )
    client = make_client(make_token(team_agent))
    listed = [int(t["id"]) for t in call(client, "GET", "/threads").json()["results"]]
    assert listed == [theirs.pk]
    assert call(client, "GET", f"/threads/{other.pk}").status_code == 404
    assert call(client, "GET", f"/threads/{orphan.pk}").status_code == 404
    assert call(client, "GET", f"/threads/{other.pk}/messages").status_code == 404
    answer = call(client, "PATCH", f"/threads/{other.pk}", body={"status": "CLOSED"})
    assert answer.status_code == 404
    assert Ticket.objects.get(pk=other.ticket_id).is_open


def test_a_thread_without_a_ticket_is_a_super_admins(hubspot, email_channel):
    orphan = Conversation.objects.create(
        channel=email_channel, inbox_id=email_channel.inbox_id, subject="No ticket"
    )
    thread = call(hubspot, "GET", f"/threads/{orphan.pk}").json()
    assert thread["status"] == "OPEN"
    assert thread["associatedContactId"] is None
    answer = call(hubspot, "PATCH", f"/threads/{orphan.pk}", body={"status": "CLOSED"})
    assert answer.status_code == 400
    assert "no ticket" in answer.json()["message"]


def test_closing_a_thread_closes_its_ticket_and_opening_reopens_it(
    hubspot, email_channel, super_admin
):
    ticket, conversation, _m = email_thread(email_channel)
    answer = call(hubspot, "PATCH", f"/threads/{conversation.pk}", body={"status": "CLOSED"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "CLOSED"
    assert answer.json()["closedAt"].endswith("Z")
    ticket.refresh_from_db()
    assert (ticket.stage.name, ticket.is_open) == ("Closed", False)
    assert ticket.closed_at is not None
    event = TicketEvent.objects.filter(ticket=ticket).order_by("-id").first()
    assert event is not None
    assert event.actor_id == super_admin.pk
    assert event.data["property"] == "stage"

    answer = call(hubspot, "PATCH", f"/threads/{conversation.pk}", body={"status": "OPEN"})
    assert answer.json()["status"] == "OPEN"
    assert "closedAt" not in answer.json()
    ticket.refresh_from_db()
    assert (ticket.stage.name, ticket.is_open) == ("New", True)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"status": "DONE"}, id="bad-status"),
        pytest.param({"subject": "x"}, id="other-field"),
        pytest.param({}, id="empty"),
        pytest.param({"archived": True}, id="archive-by-patch"),
    ],
)
def test_a_bad_thread_update_changes_nothing(raw_api, email_channel, body):
    ticket, conversation, _m = email_thread(email_channel)
    answer = raw_api.patch(f"{BASE}/threads/{conversation.pk}", body)
    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    ticket.refresh_from_db()
    assert ticket.stage.name == "New"
    conversation.refresh_from_db()
    assert conversation.archived_at is None


def test_deleting_a_thread_archives_it_and_patch_restores_it(hubspot, email_channel):
    ticket, conversation, _m = email_thread(email_channel)
    answer = call(hubspot, "DELETE", f"/threads/{conversation.pk}")
    assert answer.status_code == 204
    assert answer.content == b""
    conversation.refresh_from_db()
    assert conversation.archived_at is not None
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert conversation.messages.count() == 1

    assert call(hubspot, "GET", "/threads").json()["results"] == []
    assert call(hubspot, "GET", f"/threads/{conversation.pk}").status_code == 404
    archived = call(hubspot, "GET", "/threads", {"archived": True}).json()["results"]
    assert [(t["id"], t["archived"]) for t in archived] == [(str(conversation.pk), True)]
    assert archived[0]["archivedAt"].endswith("Z")
    assert (
        call(hubspot, "GET", f"/threads/{conversation.pk}", {"archived": True}).status_code == 200
    )

    not_archived = call(hubspot, "PATCH", f"/threads/{conversation.pk}", body={"archived": False})
    assert not_archived.status_code == 404  # without ?archived=true the trash is not searched
    restored = call(
        hubspot, "PATCH", f"/threads/{conversation.pk}", {"archived": True}, {"archived": False}
    )
    assert restored.status_code == 200
    assert restored.json()["archived"] is False
    assert [t["id"] for t in call(hubspot, "GET", "/threads").json()["results"]] == [
        str(conversation.pk)
    ]


def test_assigning_a_thread_sets_its_tickets_owner(hubspot, email_channel, agent, raw_api):
    ticket, conversation, _m = email_thread(email_channel)
    answer = call(
        hubspot, "POST", f"/threads/{conversation.pk}/assignee", body={"actorId": f"A-{agent.pk}"}
    )
    assert answer.status_code == 200
    assert answer.json()["assignedTo"] == f"A-{agent.pk}"
    ticket.refresh_from_db()
    assert ticket.owner_id == agent.pk

    gone = raw_api.delete(f"/conversations/conversations/v3/threads/{conversation.pk}/assignee")
    assert gone.status == 204
    ticket.refresh_from_db()
    assert ticket.owner_id is None

    put = raw_api.put(
        f"/conversations/conversations/v3/threads/{conversation.pk}/assignee",
        {"actorId": f"A-{agent.pk}"},
    )
    assert put.status == 200
    assert put.body["assignedTo"] == f"A-{agent.pk}"

    for bad in ({"actorId": "V-1"}, {"actorId": "A-999999"}, {}):
        refused = raw_api.post(f"{BASE}/threads/{conversation.pk}/assignee", bad)
        assert refused.status == 400, bad
    ticket.refresh_from_db()
    assert ticket.owner_id == agent.pk


# --- Messages ----------------------------------------------------------------------------------


def _add(conversation: Conversation, **fields: Any) -> Message:
    defaults: dict[str, Any] = {
        "conversation": conversation,
        "channel": conversation.channel,
        "delivery_status": DeliveryStatus.RECEIVED,
    }
    defaults.update(fields)
    return Message.objects.create(**defaults)


def test_messages_list_newest_first_with_their_shapes(hubspot, email_channel, agent):
    ticket, conversation, inbound = email_thread(
        email_channel,
        body_text=(
            "It still burns.\n\nOn Mon, 1 Jan 2024 at 10:00, Anna Agent <support@acme.test> "
            "wrote:\n> Have you tried water?"
        ),
    )
    later = inbound.created_at + dt.timedelta(minutes=5)
    reply = _add(
        conversation,
        direction=MessageDirection.OUTBOUND,
        author=agent,
        sender_name="Anna Agent",
        sender_address=TEAM_ADDRESS,
        to=["Åsa Lindqvist <asa@kund.example>"],
        cc=["boss@kund.example"],
        subject="Re: Printer on fire",
        body_text="Please unplug it.",
        body_html="<p>Please unplug it.</p>",
        message_id="<reply-1@acme.test>",
        in_reply_to=inbound.message_id,
        delivery_status=DeliveryStatus.SENT,
        created_at=later,
    )
    comment = _add(
        conversation,
        direction=MessageDirection.COMMENT,
        author=agent,
        sender_name="Anna Agent",
        body_text="Customer sounds calm.",
        body_html="<p>Customer sounds calm.</p>",
        created_at=later + dt.timedelta(minutes=1),
    )
    body = call(hubspot, "GET", f"/threads/{conversation.pk}/messages").json()
    assert [m["id"] for m in body["results"]] == [str(comment.pk), str(reply.pk), str(inbound.pk)]
    got_comment, got_reply, got_inbound = body["results"]
    assert got_comment == {
        "id": str(comment.pk),
        "type": "COMMENT",
        "conversationsThreadId": str(conversation.pk),
        "createdAt": got_comment["createdAt"],
        "updatedAt": got_comment["updatedAt"],
        "createdBy": f"A-{agent.pk}",
        "client": {"clientType": "HUBSPOT"},
        "senders": [{"actorId": f"A-{agent.pk}", "name": "Anna Agent"}],
        "recipients": [],
        "archived": False,
        "text": "Customer sounds calm.",
        "richText": "<p>Customer sounds calm.</p>",
        "attachments": [],
    }
    assert got_reply["type"] == "MESSAGE"
    assert got_reply["direction"] == "OUTGOING"
    assert got_reply["status"] == {"statusType": "SENT"}
    assert got_reply["channelId"] == "1002"
    assert got_reply["channelAccountId"] == str(email_channel.pk)
    assert got_reply["inReplyToId"] == str(inbound.pk)
    assert got_reply["senders"] == [
        {
            "actorId": f"A-{agent.pk}",
            "name": "Anna Agent",
            "senderField": "FROM",
            "deliveryIdentifier": {"type": "HS_EMAIL_ADDRESS", "value": TEAM_ADDRESS},
        }
    ]
    assert got_reply["recipients"] == [
        {
            "actorId": "E-asa@kund.example",
            "name": "Åsa Lindqvist",
            "recipientField": "TO",
            "deliveryIdentifier": {"type": "HS_EMAIL_ADDRESS", "value": "asa@kund.example"},
        },
        {
            "actorId": "E-boss@kund.example",
            "recipientField": "CC",
            "deliveryIdentifier": {"type": "HS_EMAIL_ADDRESS", "value": "boss@kund.example"},
        },
    ]
    assert got_inbound["direction"] == "INCOMING"
    assert got_inbound["createdBy"] == f"V-{ticket.contact_id}"
    assert got_inbound["client"] == {"clientType": "SYSTEM"}
    assert got_inbound["status"] == {"statusType": "RECEIVED"}
    assert got_inbound["text"] == "It still burns."
    assert got_inbound["truncationStatus"] == "TRUNCATED_TO_MOST_RECENT_REPLY"

    original = call(
        hubspot, "GET", f"/threads/{conversation.pk}/messages/{inbound.pk}/original-content"
    ).json()
    assert original["text"] == inbound.body_text
    short = call(hubspot, "GET", f"/messages/{inbound.pk}/original-content").json()
    assert short == original
    one = call(hubspot, "GET", f"/threads/{conversation.pk}/messages/{reply.pk}").json()
    assert one == got_reply


def test_messages_page_oldest_first_when_asked(hubspot, email_channel):
    _t, conversation, inbound = email_thread(email_channel)
    added = [
        _add(
            conversation,
            direction=MessageDirection.INBOUND,
            sender_address="asa@kund.example",
            body_text=f"Message {n}",
            created_at=inbound.created_at + dt.timedelta(minutes=n + 1),
        )
        for n in range(4)
    ]
    expected = [str(m.pk) for m in [inbound, *added]]
    seen: list[str] = []
    qs: dict[str, Any] = {"sort": "createdAt", "limit": 2}
    while True:
        body = call(hubspot, "GET", f"/threads/{conversation.pk}/messages", qs).json()
        seen.extend(m["id"] for m in body["results"])
        if "paging" not in body:
            break
        qs["after"] = body["paging"]["next"]["after"]
    assert seen == expected
    newest = call(hubspot, "GET", f"/threads/{conversation.pk}/messages", {"limit": 2}).json()
    assert [m["id"] for m in newest["results"]] == expected[::-1][:2]


def test_posting_a_comment_stores_an_internal_note_in_the_thread(
    hubspot, email_channel, smtp_server, tasks_now, super_admin
):
    ticket, conversation, _m = email_thread(email_channel)
    # A newer conversation of the same ticket: the comment still goes where it was posted.
    newer = Conversation.objects.create(
        channel=email_channel,
        inbox_id=email_channel.inbox_id,
        ticket=ticket,
        contact=ticket.contact,
        subject="Follow-up",
        last_message_at=timezone.now(),
    )
    answer = call(
        hubspot,
        "POST",
        f"/threads/{conversation.pk}/messages",
        body={
            "type": "COMMENT",
            "text": "Can you follow up?",
            "richText": "<p>Can you follow up?</p>",
        },
    )
    assert answer.status_code == 201
    got = answer.json()
    assert (got["type"], got["text"], got["createdBy"]) == (
        "COMMENT",
        "Can you follow up?",
        f"A-{super_admin.pk}",
    )
    stored = Message.objects.get(pk=got["id"])
    assert (stored.conversation_id, stored.direction) == (conversation.pk, "comment")
    assert stored.body_html == "<p>Can you follow up?</p>"
    assert not newer.messages.exists()
    assert smtp_server.messages == []  # never sent to the customer


def test_posting_a_message_delivers_a_reply_through_the_email_channel(
    hubspot, email_channel, smtp_server, tasks_now, super_admin
):
    ticket, conversation, inbound = email_thread(email_channel)
    answer = call(
        hubspot,
        "POST",
        f"/threads/{conversation.pk}/messages",
        body={
            "type": "MESSAGE",
            "text": "Hey there, following up",
            "richText": "<p>Hey there, following up</p>",
            "recipients": [
                {
                    "actorId": "E-asa@kund.example",
                    "name": "Åsa Lindqvist",
                    "recipientField": "TO",
                    "deliveryIdentifiers": [
                        {"type": "HS_EMAIL_ADDRESS", "value": "asa@kund.example"}
                    ],
                },
                {
                    "recipientField": "CC",
                    "deliveryIdentifiers": [
                        {"type": "HS_EMAIL_ADDRESS", "value": "boss@kund.example"}
                    ],
                },
            ],
            "senderActorId": f"A-{super_admin.pk}",
            "channelId": "1002",
            "channelAccountId": str(email_channel.pk),
            "subject": "Follow up",
        },
    )
    assert answer.status_code == 201, answer.text
    got = answer.json()
    assert (got["type"], got["direction"], got["createdBy"]) == (
        "MESSAGE",
        "OUTGOING",
        f"A-{super_admin.pk}",
    )
    assert got["status"] == {"statusType": "SENT"}  # delivered before the answer (tasks_now)
    assert got["inReplyToId"] == str(inbound.pk)
    assert [r["deliveryIdentifier"]["value"] for r in got["recipients"]] == [
        "asa@kund.example",
        "boss@kund.example",
    ]

    [mail] = smtp_server.messages
    assert "asa@kund.example" in mail["To"]
    assert "boss@kund.example" in mail["Cc"]
    assert TEAM_ADDRESS in mail["From"]
    assert mail["In-Reply-To"] == inbound.message_id
    assert "Hey there, following up" in mail.get_body(("plain",)).get_content()
    stored = Message.objects.get(pk=got["id"])
    assert stored.conversation_id == conversation.pk
    assert stored.delivery_status == DeliveryStatus.SENT
    ticket.refresh_from_db()
    assert ticket.stage.name == "Waiting on contact"


def test_a_message_without_recipients_goes_to_the_threads_contact(
    hubspot, email_channel, smtp_server, tasks_now, super_admin
):
    _t, conversation, _m = email_thread(email_channel)
    answer = call(
        hubspot,
        "POST",
        f"/threads/{conversation.pk}/messages",
        body={"type": "MESSAGE", "text": "On it.", "senderActorId": f"A-{super_admin.pk}"},
    )
    assert answer.status_code == 201, answer.text
    [mail] = smtp_server.messages
    assert "asa@kund.example" in mail["To"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param(
            {"type": "MESSAGE", "text": "Hi", "senderActorId": "A-0"},
            "senderActorId",
            id="other-sender",
        ),
        pytest.param({"type": "MESSAGE", "text": "Hi"}, "senderActorId", id="no-sender"),
        pytest.param(
            {"type": "MESSAGE", "text": "Hi", "channelId": "1000"}, "channelId", id="other-channel"
        ),
        pytest.param(
            {"type": "MESSAGE", "text": "Hi", "channelAccountId": "999"},
            "channelAccountId",
            id="other-account",
        ),
        pytest.param({"type": "MESSAGE", "text": " "}, "text", id="blank"),
        pytest.param({"type": "WELCOME_MESSAGE", "text": "Hi"}, "type", id="type"),
        pytest.param(
            {"type": "COMMENT", "text": "Hi", "attachments": [{"type": "FILE", "fileId": "1"}]},
            "attachments",
            id="attachments",
        ),
        pytest.param(
            {
                "type": "MESSAGE",
                "text": "Hi",
                "recipients": [
                    {
                        "deliveryIdentifiers": [
                            {"type": "HS_EMAIL_ADDRESS", "value": "not an address"}
                        ]
                    }
                ],
            },
            "valid email address",
            id="bad-address",
        ),
    ],
)
def test_a_refused_message_stores_and_sends_nothing(
    raw_api, email_channel, smtp_server, tasks_now, super_admin, body, fragment
):
    _t, conversation, _m = email_thread(email_channel)
    if body.get("senderActorId") is None and "senderActorId" not in fragment:
        body = {**body, "senderActorId": f"A-{super_admin.pk}"}
    answer = raw_api.post(f"{BASE}/threads/{conversation.pk}/messages", body)
    assert answer.status == 400, answer.body
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert fragment in answer.body["message"]
    assert conversation.messages.count() == 1
    assert smtp_server.messages == []


# --- Actors ------------------------------------------------------------------------------------


def test_actors_read_one_by_one_and_in_a_batch(hubspot, email_channel, agent, raw_api):
    ticket, _c, _m = email_thread(email_channel)
    assert call(hubspot, "GET", f"/actors/A-{agent.pk}").json() == {
        "type": "AGENT",
        "id": f"A-{agent.pk}",
        "name": "Anna Agent",
        "email": "agent@svardesk.test",
    }
    assert call(hubspot, "GET", f"/actors/V-{ticket.contact_id}").json() == {
        "type": "VISITOR",
        "id": f"V-{ticket.contact_id}",
        "name": "Åsa Lindqvist",
        "email": "asa@kund.example",
    }
    assert call(hubspot, "GET", "/actors/E-kim@example.com").json() == {
        "type": "EMAIL",
        "id": "E-kim@example.com",
        "email": "kim@example.com",
    }
    assert call(hubspot, "GET", "/actors/A-999999").status_code == 404
    assert call(hubspot, "GET", "/actors/Q-1").status_code == 404

    every = raw_api.post(f"{BASE}/actors/batch/read", {"inputs": [f"A-{agent.pk}", "S-hubspot"]})
    assert every.status == 200
    assert [a["id"] for a in every.body["results"]] == [f"A-{agent.pk}", "S-hubspot"]
    partly = raw_api.post(f"{BASE}/actors/batch/read", {"inputs": [f"A-{agent.pk}", "V-999999"]})
    assert partly.status == 207
    assert [a["id"] for a in partly.body["results"]] == [f"A-{agent.pk}"]
    assert partly.body["numErrors"] == 1
    assert partly.body["errors"][0]["context"] == {"ids": ["V-999999"]}
    too_many = raw_api.post(f"{BASE}/actors/batch/read", {"inputs": ["S-hubspot"] * 101})
    assert too_many.status == 400


def test_a_visitor_the_user_may_not_see_is_not_found(
    make_client, make_token, email_channel, team_agent
):
    ticket, _c, _m = email_thread(email_channel)
    client = make_client(make_token(team_agent))
    assert call(client, "GET", f"/actors/V-{ticket.contact_id}").status_code == 404


# --- Authentication and scopes ------------------------------------------------------------------


def test_no_token_is_401(raw_api, email_channel):
    answer = raw_api.get(f"{BASE}/threads", token=None)
    assert answer.status == 401
    assert answer.body["category"] == "INVALID_AUTHENTICATION"


def test_scopes_read_and_write(live_server, make_token, super_admin, email_channel, smtp_server):
    from svardesk.api.tests.conftest import RawApi

    _t, conversation, _m = email_thread(email_channel)
    no_scope = RawApi(live_server.url, make_token(super_admin, ["tickets"]))
    answer = no_scope.get(f"{BASE}/threads")
    assert answer.status == 403
    assert answer.body["category"] == "MISSING_SCOPES"

    reader = RawApi(live_server.url, make_token(super_admin, ["conversations.read"]))
    assert reader.get(f"{BASE}/threads").status == 200
    assert reader.get(f"{BASE}/inboxes").status == 200
    assert reader.post(f"{BASE}/actors/batch/read", {"inputs": ["S-hubspot"]}).status == 200
    for method, path, body in [
        ("PATCH", f"/threads/{conversation.pk}", {"status": "CLOSED"}),
        ("DELETE", f"/threads/{conversation.pk}", None),
        ("POST", f"/threads/{conversation.pk}/messages", {"type": "COMMENT", "text": "x"}),
        ("POST", f"/threads/{conversation.pk}/assignee", {"actorId": f"A-{super_admin.pk}"}),
    ]:
        refused = reader.request(method, BASE + path, body)
        assert refused.status == 403, (method, path)
        assert refused.body["category"] == "MISSING_SCOPES"
    conversation.refresh_from_db()
    assert conversation.archived_at is None
    assert conversation.messages.count() == 1
    assert Ticket.objects.get(pk=conversation.ticket_id).is_open


def test_unknown_and_non_numeric_ids_are_404(raw_api, email_channel):
    for path in ("/threads/abc", "/threads/99999", "/threads/99999/messages", "/inboxes/x"):
        answer = raw_api.get(BASE + path)
        assert answer.status == 404, path
        assert answer.body["category"] == "OBJECT_NOT_FOUND"


# --- Edges -------------------------------------------------------------------------------------


def test_a_reply_on_a_disconnected_channel_is_refused(raw_api, email_channel, super_admin):
    _t, conversation, _m = email_thread(email_channel)
    Channel.objects.filter(pk=email_channel.pk).update(is_active=False)
    answer = raw_api.post(
        f"{BASE}/threads/{conversation.pk}/messages",
        {"type": "MESSAGE", "text": "Hello", "senderActorId": f"A-{super_admin.pk}"},
    )
    assert answer.status == 400
    assert "takes no replies" in answer.body["message"]
    assert answer.body["errors"][0]["in"] == "channel"
    assert conversation.messages.count() == 1


def test_a_thread_without_a_ticket_takes_no_messages(raw_api, email_channel):
    orphan = Conversation.objects.create(
        channel=email_channel, inbox_id=email_channel.inbox_id, subject="No ticket"
    )
    answer = raw_api.post(f"{BASE}/threads/{orphan.pk}/messages", {"type": "COMMENT", "text": "x"})
    assert answer.status == 400
    assert not orphan.messages.exists()


def test_property_selects_the_fields_of_a_thread(hubspot, email_channel):
    _t, conversation, _m = email_thread(email_channel)
    body = call(hubspot, "GET", f"/threads/{conversation.pk}", {"property": "status"}).json()
    assert body == {"id": str(conversation.pk), "status": "OPEN"}


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("!!!", id="garbage"),
        pytest.param("OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OjE", id="time-out-of-range"),
        pytest.param("OjE", id="no-time"),
        pytest.param("MTox" + "OTk5OTk5OTk5OTk5OTk5OTk5OTk5", id="id-out-of-range"),
        pytest.param("99999999999999999999", id="long-digits"),
    ],
)
def test_a_bad_cursor_is_a_400_not_a_500(raw_api, email_channel, after):
    _t, conversation, _m = email_thread(email_channel)
    since = "2020-01-01T00:00:00Z"
    for path in (
        f"{BASE}/threads/{conversation.pk}/messages?after={after}",
        f"{BASE}/threads?sort=latestMessageTimestamp&latestMessageTimestampAfter={since}"
        f"&after={after}",
    ):
        answer = raw_api.get(path)
        assert answer.status == 400, (path, answer.body)
        assert answer.body["category"] == "VALIDATION_ERROR"


def _queries_for(path: str, token: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as run:
        answer = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200, answer.content
    return len(run.captured_queries)


def test_lists_read_a_fixed_number_of_statements(
    email_channel, make_token, team_agent, billing_team
):
    """Neither more threads nor more messages cost more statements (no query per row)."""
    token = make_token(team_agent)
    _t, conversation, inbound = email_thread(email_channel, team=billing_team, email="q0@k.example")

    def reply(n: int) -> None:
        _add(
            conversation,
            direction=MessageDirection.OUTBOUND,
            author=team_agent,
            sender_address=TEAM_ADDRESS,
            to=["asa@kund.example"],
            body_text=f"Reply {n}",
            in_reply_to=inbound.message_id,
            delivery_status=DeliveryStatus.SENT,
            created_at=inbound.created_at + dt.timedelta(minutes=n),
        )

    reply(0)
    _queries_for(f"{BASE}/threads", token)  # the token's first use is noted once
    few_threads = _queries_for(f"{BASE}/threads?association=TICKET", token)
    few_messages = _queries_for(f"{BASE}/threads/{conversation.pk}/messages", token)
    for n in range(1, 5):
        email_thread(email_channel, team=billing_team, email=f"q{n}@k.example")
        reply(n)
    assert _queries_for(f"{BASE}/threads?association=TICKET", token) == few_threads
    assert _queries_for(f"{BASE}/threads/{conversation.pk}/messages", token) == few_messages


def test_rich_text_from_the_api_is_sanitised(raw_api, email_channel):
    _t, conversation, _m = email_thread(email_channel)
    answer = raw_api.post(
        f"{BASE}/threads/{conversation.pk}/messages",
        {
            "type": "COMMENT",
            "text": "Look",
            "richText": '<p onclick="steal()">Look</p><script>alert(1)</script>',
        },
    )
    assert answer.status == 201
    stored = Message.objects.get(pk=answer.body["id"])
    assert "script" not in stored.body_html
    assert "onclick" not in stored.body_html
    assert "Look" in stored.body_html
    assert answer.body["richText"] == stored.body_html
