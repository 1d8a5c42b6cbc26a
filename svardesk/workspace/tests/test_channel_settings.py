"""Settings → Channels and Connect a channel are built from the channel registry: every
connected channel with its adapter's state, every registered kind that can be connected, a
way to disconnect; super admins and Account access users only."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from svardesk.channels.email.models import EmailChannel
from svardesk.conversations import registry
from svardesk.conversations.models import Channel, Inbox
from svardesk.conversations.registry import (
    ChannelAdapter,
    ChannelState,
    register,
    registered_adapters,
    unregister,
)
from svardesk.conversations.tests.reply_helpers import connect_channel

pytestmark = pytest.mark.django_db

SEEN_AGO = dt.timedelta(minutes=3)


class FaxAdapter(ChannelAdapter):
    """A channel kind no list names: it must appear by registering alone."""

    kind = "fax"
    label = "Fax"
    description = "Faxes become tickets."

    def deliver(self, message):  # type: ignore[no-untyped-def]
        return "fax"

    def state(self, channel: Channel) -> ChannelState:
        return ChannelState(
            last_received_at=timezone.now() - SEEN_AGO,
            problems=["Paper jam on line 2"],
            details=["Machine seen at +46 8 123 45 67"],
            settings_url="/settings/channels/fax/1/",
        )

    def connect_url(self) -> str:
        return "/settings/channels/connect/fax/"


class BrokenAdapter(FaxAdapter):
    kind = "broken"
    label = "Broken"

    def state(self, channel: Channel) -> ChannelState:
        raise RuntimeError("boom")

    def connect_url(self) -> str:
        return ""


@pytest.fixture
def fax():
    register(FaxAdapter())
    yield
    unregister("fax")


@pytest.fixture
def broken():
    register(BrokenAdapter())
    yield
    unregister("broken")


def _inbox() -> Inbox:
    return Inbox.objects.order_by("pk").first() or Inbox.objects.create(name="Help desk")


def _channel(kind: str, name: str, *, active: bool = True) -> Channel:
    return Channel.objects.create(inbox=_inbox(), kind=kind, name=name, is_active=active)


def _page(client, user, name: str = "channel_settings:channels") -> str:  # type: ignore[no-untyped-def]
    client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_connect_lists_every_registered_adapter_that_can_be_connected(client, super_admin):
    html = _page(client, super_admin, "channel_settings:connect")

    connectable = [a for a in registered_adapters() if a.connect_url()]
    assert {a.kind for a in connectable} >= {"email", "chat", "form"}
    for adapter in connectable:
        assert f'href="{adapter.connect_url()}"' in html
        assert str(adapter.label) in html
        assert str(adapter.description) in html


def test_a_registered_adapter_appears_without_editing_the_lists(client, super_admin, fax):
    _channel("fax", "Office fax")

    connect = _page(client, super_admin, "channel_settings:connect")
    listing = _page(client, super_admin)

    assert 'href="/settings/channels/connect/fax/"' in connect
    assert "Faxes become tickets." in connect
    assert "Office fax" in listing
    assert 'href="/settings/channels/fax/1/"' in listing
    assert "Machine seen at +46 8 123 45 67" in listing
    assert "3\xa0minutes ago" in listing or "3 minutes ago" in listing


def test_problems_are_shown_as_errors(client, super_admin, fax):
    _channel("fax", "Office fax")

    listing = _page(client, super_admin)

    assert '<li class="field-error"><span aria-hidden="true">⚠</span> Paper jam on line 2</li>' in (
        listing
    )


def test_an_imap_login_failure_is_a_problem(client, super_admin):
    channel = connect_channel("support@acme.test").channel
    EmailChannel.objects.filter(channel=channel).update(
        imap_host="imap.acme.test", imap_user="support", imap_last_error="LOGIN failed"
    )

    listing = _page(client, super_admin)

    assert "support@acme.test" in listing
    assert "Fetching mail (IMAP) fails: LOGIN failed" in listing
    assert 'class="field-error"' in listing


def test_disconnected_channels_are_listed_too(client, super_admin, fax):
    _channel("fax", "Old fax", active=False)

    listing = _page(client, super_admin)

    assert "Old fax" in listing
    assert "Disconnected" in listing


def test_a_channel_whose_state_fails_does_not_take_the_page_down(client, super_admin, broken):
    _channel("broken", "Flaky")

    listing = _page(client, super_admin)

    assert "Flaky" in listing
    assert "Its state could not be read" in listing


def test_a_channel_whose_kind_is_not_installed_says_so(client, super_admin):
    _channel("messenger", "Facebook page")
    # Every kind is installed in this project: take one away, as a site without it would be.
    adapter = registry.get_adapter("messenger")
    registry.unregister("messenger")
    try:
        listing = _page(client, super_admin)
    finally:
        registry.register(adapter)

    assert "Facebook page" in listing
    assert "not installed" in listing


@pytest.mark.parametrize(
    "name", ["channel_settings:channels", "channel_settings:connect"], ids=["list", "connect"]
)
def test_agents_without_account_access_get_403(client, agent, name):
    client.force_login(agent)

    assert client.get(reverse(name)).status_code == 403


def test_account_access_users_may_open_the_list(client, agent):
    agent.has_account_access = True
    agent.save(update_fields=["has_account_access"])

    assert "Channels" in _page(client, agent)


# --- Disconnecting -------------------------------------------------------------------------------


def test_the_generic_disconnect_asks_then_marks_the_channel_inactive(client, super_admin, fax):
    channel = _channel("fax", "Office fax")
    url = reverse("channel_settings:disconnect", args=[channel.pk])
    client.force_login(super_admin)

    assert f'href="{url}"' in _page(client, super_admin)
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Disconnect Office fax?" in confirm.content.decode()
    channel.refresh_from_db()
    assert channel.is_active  # asking changes nothing

    response = client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("channel_settings:channels")
    channel.refresh_from_db()
    assert not channel.is_active


def test_an_agent_cannot_disconnect(client, agent, fax):
    channel = _channel("fax", "Office fax")
    client.force_login(agent)

    response = client.post(reverse("channel_settings:disconnect", args=[channel.pk]))

    assert response.status_code == 403
    channel.refresh_from_db()
    assert channel.is_active


def test_email_is_disconnected_on_its_own_page(client, super_admin):
    channel = connect_channel("support@acme.test").channel
    own = reverse("channel_settings:email_disconnect", args=[channel.pk])
    client.force_login(super_admin)

    assert f'href="{own}"' in _page(client, super_admin)
    response = client.post(reverse("channel_settings:disconnect", args=[channel.pk]))

    assert response.status_code == 302
    assert response["Location"] == own
    channel.refresh_from_db()
    assert channel.is_active  # the generic view did not do it


def test_an_unknown_channel_is_404(client, super_admin):
    client.force_login(super_admin)

    assert client.get(reverse("channel_settings:disconnect", args=[999])).status_code == 404
