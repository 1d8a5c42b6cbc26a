"""The ticket page's … → Move to another inbox dialog (workspace/ticket_move.py)."""

import pytest
from django.test import Client
from django.urls import reverse

from svardesk.conversations.models import Conversation, Inbox, InboxKind, Message
from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket
from svardesk.tickets.models import TicketEvent, TicketEventKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sales(db):  # type: ignore[no-untyped-def]
    return Inbox.objects.create(name="Sales", kind=InboxKind.CONVERSATIONS)


@pytest.fixture
def moved_ticket(db):  # type: ignore[no-untyped-def]
    return email_ticket(channel=connect_channel())


def _url(ticket):  # type: ignore[no-untyped-def]
    return reverse("tickets:move", args=[ticket.pk])


def _moves(ticket) -> int:  # type: ignore[no-untyped-def]
    return TicketEvent.objects.filter(
        ticket=ticket, kind=TicketEventKind.CONVERSATION_MOVED
    ).count()


def test_the_menu_offers_the_move_only_to_those_who_may_move(
    client, super_admin, agent, moved_ticket
):
    ticket, _conversation, _inbound = moved_ticket
    page = reverse("tickets:detail", args=[ticket.pk])

    client.force_login(super_admin)
    assert f'hx-get="{_url(ticket)}"' in client.get(page).content.decode()
    client.force_login(agent)
    assert f'hx-get="{_url(ticket)}"' not in client.get(page).content.decode()


def test_the_dialog_lists_every_other_inbox_and_the_users(client, super_admin, sales, moved_ticket):
    ticket, conversation, _inbound = moved_ticket
    client.force_login(super_admin)

    response = client.get(_url(ticket), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="dialog"' in html
    inboxes = html[html.index('id="move-inbox"') : html.index('id="move-assignee"')]
    assert f'<option value="{sales.pk}"' in inboxes
    assert f'<option value="{conversation.inbox_id}"' not in inboxes  # the one it is in
    assert f'<option value="{super_admin.pk}"' in html
    assert "<html" not in html


def test_moving_redraws_the_ticket_without_the_conversation(
    client, super_admin, sales, moved_ticket
):
    ticket, conversation, inbound = moved_ticket
    client.force_login(super_admin)

    response = client.post(
        _url(ticket), {"to_inbox": sales.pk, "comment": "Sales lead"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#ticket-detail"
    assert f'id="message-{inbound.pk}"' not in html
    assert "Conversation moved to Sales." in html
    assert reverse("inboxes:conversation", args=[sales.pk, conversation.pk]) in html
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == sales.pk
    assert _moves(ticket) == 1


def test_an_invalid_choice_is_shown_in_the_dialog(client, super_admin, moved_ticket):
    ticket, _conversation, _inbound = moved_ticket
    client.force_login(super_admin)

    response = client.post(_url(ticket), {"to_inbox": "999999"}, headers=HTMX)

    assert response.status_code == 422
    assert "Choose the inbox to move the conversation to." in response.content.decode()
    assert _moves(ticket) == 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_agent_without_account_access_gets_403(client, agent, sales, moved_ticket, method):
    ticket, conversation, _inbound = moved_ticket
    client.force_login(agent)

    response = getattr(client, method)(_url(ticket), {"to_inbox": sales.pk}, headers=HTMX)

    assert response.status_code == 403
    assert Conversation.objects.get(pk=conversation.pk).inbox_id != sales.pk


def test_an_out_of_scope_ticket_is_404(client, billing_team, sales, moved_ticket):
    ticket, _conversation, _inbound = moved_ticket  # no team: outside a team agent's scope
    manager = UserFactory(has_account_access=True, ticket_access="team", teams=[billing_team])
    client.force_login(manager)

    response = client.post(_url(ticket), {"to_inbox": sales.pk}, headers=HTMX)

    assert response.status_code == 404
    assert _moves(ticket) == 0


def test_an_account_access_user_may_move(client, sales, moved_ticket):
    ticket, conversation, _inbound = moved_ticket
    client.force_login(UserFactory(has_account_access=True))

    response = client.post(_url(ticket), {"to_inbox": sales.pk}, headers=HTMX)

    assert response.status_code == 200
    assert Conversation.objects.get(pk=conversation.pk).inbox_id == sales.pk


def test_the_move_needs_the_csrf_token(super_admin, sales, moved_ticket):
    ticket, conversation, _inbound = moved_ticket
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(super_admin)

    response = strict.post(_url(ticket), {"to_inbox": sales.pk}, headers=HTMX)

    assert response.status_code == 403
    assert Conversation.objects.get(pk=conversation.pk).inbox_id != sales.pk
    assert not Message.objects.filter(direction="comment").exists()
