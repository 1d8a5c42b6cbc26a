"""Every page carries the workspace's Content-Security-Policy; a view with a policy of its own
keeps it."""

import io

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse

from svardesk.conversations.models import Attachment

WORKSPACE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-src 'self'; frame-ancestors 'none'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/accounts/login/", id="login"),
        pytest.param("/views/unassigned/", id="ticket-list"),
        pytest.param("/settings/", id="settings"),
        pytest.param("/no-such-page/", id="not-found"),
    ],
)
def test_pages_carry_the_workspace_policy(client, super_admin, url):
    client.force_login(super_admin)
    response = client.get(url)
    assert response["Content-Security-Policy"] == WORKSPACE_POLICY


def test_the_ticket_page_carries_the_workspace_policy(client, agent):
    from tests.factories import TicketFactory

    ticket = TicketFactory()
    client.force_login(agent)
    response = client.get(reverse("tickets:detail", args=[ticket.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == WORKSPACE_POLICY


@pytest.mark.django_db
def test_the_policy_is_set_under_asgi_too():
    response = async_to_sync(AsyncClient().get)("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == WORKSPACE_POLICY


def test_a_view_with_its_own_policy_keeps_it(client, agent, tmp_path, settings):
    from svardesk.conversations.tests.reply_helpers import connect_channel, email_ticket

    settings.MEDIA_ROOT = tmp_path
    _ticket, _conversation, message = email_ticket(channel=connect_channel())
    attachment = Attachment(message=message, filename="a.png", content_type="image/png", size=3)
    attachment.file.save("a.png", io.BytesIO(b"png"), save=True)
    client.force_login(agent)
    response = client.get(reverse("conversations:attachment", args=[attachment.pk]))
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
