"""Notifications follow ticket access: once a user may no longer see a ticket, its
notifications leave their list and count, and a queued mention email is not sent."""

import pytest
from django.urls import reverse

from svardesk.accounts.services import set_user_teams
from svardesk.conversations import services
from svardesk.conversations.models import Notification

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db

SECRET_NAME = "Refund for Krusbär AB"
SECRET_TEXT = "the card ends in 4242"


@pytest.fixture
def billing_mention(email_channel, agent, team_agent, billing_team):
    """Anna mentions Bo (Billing team only) on a Billing ticket."""
    ticket, _conv, _inbound = email_ticket(
        channel=email_channel, team=billing_team, subject=SECRET_NAME
    )
    return ticket


def _mention(ticket, actor, user):  # type: ignore[no-untyped-def]
    return services.add_comment(
        ticket,
        actor=actor,
        html=f"<p>@{user.display_name} {SECRET_TEXT}</p>",
        mentioned_user_ids=[user.pk],
        ticket_url=f"https://desk.acme.test/tickets/{ticket.pk}/",
    )


def test_notification_disappears_when_the_user_leaves_the_team(
    client, agent, team_agent, billing_mention
):
    _mention(billing_mention, agent, team_agent)
    client.force_login(team_agent)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert SECRET_NAME in page  # while Bo may see the ticket
    assert SECRET_TEXT in page

    set_user_teams(team_agent, actor=None, primary_team=None, teams=[])

    response = client.get(reverse("conversations:notifications"))
    page = response.content.decode()
    assert response.status_code == 200
    assert SECRET_NAME not in page
    assert SECRET_TEXT not in page
    assert "0 unread" in page
    badge = client.get(reverse("conversations:notification_badge")).content.decode()
    assert badge.strip() == ""
    # Opening it by id says nothing either, and marks nothing read.
    notification = Notification.objects.get(user=team_agent)
    opened = client.post(reverse("conversations:open_notification", args=[notification.pk]))
    assert opened.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_notification_comes_back_with_access(client, agent, team_agent, billing_mention):
    _mention(billing_mention, agent, team_agent)
    set_user_teams(team_agent, actor=None, primary_team=None, teams=[])
    billing_mention.owner = team_agent  # Bo now owns it: "team" access includes own tickets
    billing_mention.save(update_fields=["owner"])
    client.force_login(team_agent)
    page = client.get(reverse("conversations:notifications")).content.decode()
    assert SECRET_NAME in page
    assert SECRET_TEXT in page
    assert "1 unread" in page


def test_queued_mention_email_is_not_sent_after_access_is_lost(
    smtp_server,
    tasks_now,
    agent,
    team_agent,
    billing_team,
    billing_mention,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _mention(billing_mention, agent, team_agent)
    assert Notification.objects.filter(user=team_agent).count() == 1

    set_user_teams(team_agent, actor=None, primary_team=None, teams=[])
    for callback in queued:  # the worker gets to the email only now
        callback()

    assert smtp_server.messages == []


def test_queued_mention_email_is_not_sent_after_the_seat_is_taken(
    smtp_server, tasks_now, agent, team_agent, billing_mention, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _mention(billing_mention, agent, team_agent)
    team_agent.has_seat = False
    team_agent.save(update_fields=["has_seat"])
    for callback in queued:
        callback()
    assert smtp_server.messages == []


def test_mention_email_is_still_sent_while_access_holds(
    smtp_server, tasks_now, agent, team_agent, billing_mention, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _mention(billing_mention, agent, team_agent)
    assert [m["To"] for m in smtp_server.messages] == ["billing@svardesk.test"]
    assert SECRET_TEXT in smtp_server.messages[0].get_content()


def test_unread_count_matches_the_readable_notifications_for_every_scope(
    super_admin, agent, team_agent, own_agent, support_team, billing_team
):
    from django.utils import timezone

    from svardesk.accounts.models import TicketAccess
    from svardesk.conversations.queries import count_unread_notifications, visible_notifications
    from svardesk.core.precompiled import forget_precompiled
    from tests.factories import TeamFactory, TicketFactory

    forget_precompiled()
    other_team = TeamFactory()
    tickets = [
        TicketFactory(team=support_team),
        TicketFactory(team=billing_team),
        TicketFactory(team=other_team),
        TicketFactory(team=None, owner=own_agent),
        TicketFactory(team=None, owner=team_agent),
    ]
    users = [super_admin, agent, team_agent, own_agent]
    for user in users:
        for ticket in [*tickets, None]:
            for read in (None, timezone.now()):
                Notification.objects.create(
                    user=user, kind=Notification.Kind.MENTION, ticket=ticket, read_at=read
                )

    def expected(user) -> int:  # type: ignore[no-untyped-def]
        return visible_notifications(user).filter(read_at__isnull=True).count()

    counts = {user.email: count_unread_notifications(user) for user in users}
    assert counts == {user.email: expected(user) for user in users}
    assert len(set(counts.values())) > 1  # the scopes differ, so the check compared something
    # A team agent in a second and a third team: other team counts, compiled again.
    team_agent.ticket_access = TicketAccess.TEAM
    team_agent.save(update_fields=["ticket_access"])
    set_user_teams(
        team_agent, actor=None, primary_team=billing_team, teams=[other_team, support_team]
    )
    fresh = type(team_agent).objects.get(pk=team_agent.pk)
    assert count_unread_notifications(fresh) == expected(fresh) == counts[team_agent.email] + 2
    # A user with no notifications at all reads 0, not an error.
    Notification.objects.filter(user=own_agent).delete()
    assert count_unread_notifications(own_agent) == 0
