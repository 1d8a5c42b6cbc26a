"""The comment form's mention ids: ASCII digits naming a real user, or nothing (never a
server error: int() and str.isdigit() take "²" and "٣" too)."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from svardesk.conversations.forms import CommentForm
from svardesk.conversations.models import Message, MessageDirection, Notification

from .reply_helpers import email_ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "mentions",
    [["²"], ["٣"], ["1²"], ["99999999999999999999999"], [str(2**63)], ["-1"], ["0"]],
    ids=["super", "arabic", "mixed", "huge", "past-bigint", "negative", "zero"],
)
def test_comment_with_unusable_mention_ids_is_added_without_mentions(
    client, agent, email_channel, support_team, mentions
):
    ticket, _conversation, _inbound = email_ticket(channel=email_channel, team=support_team)
    client.force_login(agent)
    response = client.post(
        reverse("conversations:comment", args=[ticket.pk]),
        {"html": "<p>Looking at it</p>", "mentions": mentions},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    comment = Message.objects.get(conversation__ticket=ticket, direction=MessageDirection.COMMENT)
    assert "Looking at it" in comment.body_html
    assert not Notification.objects.exists()


def test_mention_ids_keep_ascii_ids_only(super_admin):
    data = QueryDict(mutable=True)
    data.setlist("mentions", [str(super_admin.pk), "²", "٣", "12", "1e3", " 7", "007"])
    form = CommentForm(data)
    assert form.mention_ids() == [super_admin.pk, 12, 7]
