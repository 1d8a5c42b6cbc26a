"""Who may block and unblock senders. A block is help-desk wide — the sender's later mail
goes to Spam whichever team's ticket it answers — so only super admins and users with
Account access may set or lift one; any agent may still mark a ticket they see as spam."""

import pytest
from django.urls import reverse

from svardesk.channels.email.models import BlockedSender
from svardesk.conversations import services
from svardesk.conversations.models import Conversation
from svardesk.core.exceptions import PermissionDeniedError
from svardesk.tickets.models import Ticket, TicketEvent
from tests.factories import UserFactory

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
SENDER = "asa@kund.example"


@pytest.fixture
def account_agent(db, support_team):  # type: ignore[no-untyped-def]
    """An agent limited to their own tickets, with Account access."""
    return UserFactory(
        email="account@svardesk.test",
        ticket_access="own",
        has_account_access=True,
        teams=[support_team],
    )


@pytest.fixture
def support_ticket(email_channel, support_team):  # type: ignore[no-untyped-def]
    ticket, _conversation, _inbound = email_ticket(channel=email_channel, team=support_team)
    return ticket


def _snapshot(ticket: Ticket) -> tuple[object, ...]:
    ticket.refresh_from_db()
    return (
        ticket.is_spam,
        ticket.version,
        TicketEvent.objects.filter(ticket=ticket).count(),
        sorted(Conversation.objects.filter(ticket=ticket).values_list("is_spam", flat=True)),
        sorted(BlockedSender.objects.values_list("address", flat=True)),
    )


def test_an_agent_without_account_access_cannot_block_and_nothing_changes(
    client, agent, support_ticket
):
    before = _snapshot(support_ticket)
    client.force_login(agent)
    response = client.post(
        reverse("conversations:spam", args=[support_ticket.pk]), {"block_sender": "on"}, **HTMX
    )
    assert response.status_code == 403
    assert _snapshot(support_ticket) == before
    assert before[0] is False
    assert before[4] == []


def test_an_agent_without_account_access_cannot_unblock_and_nothing_changes(
    client, agent, super_admin, support_ticket
):
    services.mark_ticket_spam(support_ticket, actor=super_admin, block_sender=True)
    before = _snapshot(support_ticket)
    client.force_login(agent)
    response = client.post(
        reverse("conversations:not_spam", args=[support_ticket.pk]),
        {"unblock_sender": "on"},
        **HTMX,
    )
    assert response.status_code == 403
    assert _snapshot(support_ticket) == before
    assert before[0] is True
    assert before[4] == [SENDER]


def test_the_services_refuse_blocking_and_unblocking_to_an_agent(agent, super_admin, email_channel):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel)
    with pytest.raises(PermissionDeniedError):
        services.mark_ticket_spam(ticket, actor=agent, block_sender=True)
    assert not Ticket.objects.get(pk=ticket.pk).is_spam
    assert not BlockedSender.objects.exists()

    services.mark_ticket_spam(ticket, actor=super_admin, block_sender=True)
    with pytest.raises(PermissionDeniedError):
        services.mark_ticket_not_spam(ticket, actor=agent, unblock_sender=True)
    assert Ticket.objects.get(pk=ticket.pk).is_spam
    assert list(BlockedSender.objects.values_list("address", flat=True)) == [SENDER]


def test_an_agent_still_marks_spam_without_blocking(client, agent, support_ticket):
    client.force_login(agent)
    response = client.post(reverse("conversations:spam", args=[support_ticket.pk]), **HTMX)
    assert response.status_code == 200
    support_ticket.refresh_from_db()
    assert support_ticket.is_spam
    assert not BlockedSender.objects.exists()


@pytest.mark.parametrize("who", ["super_admin", "account_agent"])
def test_super_admins_and_account_access_block_and_unblock(client, request, who, email_channel):
    user = request.getfixturevalue(who)
    # The account agent sees only their own tickets: give them this one.
    ticket, _conversation, _inbound = email_ticket(channel=email_channel)
    Ticket.objects.filter(pk=ticket.pk).update(owner=user)
    client.force_login(user)
    response = client.post(
        reverse("conversations:spam", args=[ticket.pk]), {"block_sender": "on"}, **HTMX
    )
    assert response.status_code == 200
    assert f"Mail from {SENDER} now goes straight to Spam." in response.content.decode()
    assert BlockedSender.objects.get().blocked_by == user
    response = client.post(
        reverse("conversations:not_spam", args=[ticket.pk]), {"unblock_sender": "on"}, **HTMX
    )
    assert response.status_code == 200
    assert f"Mail from {SENDER} is accepted again." in response.content.decode()
    assert not BlockedSender.objects.exists()
    assert not Ticket.objects.get(pk=ticket.pk).is_spam


def test_the_block_option_shows_only_to_those_who_may_block(
    client, agent, account_agent, support_ticket
):
    Ticket.objects.filter(pk=support_ticket.pk).update(owner=account_agent)
    url = reverse("tickets:detail", args=[support_ticket.pk])
    client.force_login(agent)
    body = client.get(url).content.decode()
    assert "Mark as spam" in body
    assert 'name="block_sender"' not in body
    client.force_login(account_agent)
    body = client.get(url).content.decode()
    assert 'name="block_sender"' in body
    assert f"Also block {SENDER}" in body


def test_the_unblock_option_shows_only_to_those_who_may_unblock(
    client, agent, super_admin, support_ticket
):
    services.mark_ticket_spam(support_ticket, actor=super_admin, block_sender=True)
    url = reverse("tickets:detail", args=[support_ticket.pk])
    client.force_login(agent)
    body = client.get(url).content.decode()
    assert "Not spam" in body
    assert 'name="unblock_sender"' not in body
    assert f"Mail from {SENDER} is blocked." in body
    client.force_login(super_admin)
    body = client.get(url).content.decode()
    assert 'name="unblock_sender"' in body
    assert f"Also unblock {SENDER}" in body
