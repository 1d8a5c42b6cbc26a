"""The form in the help desk's channel list (composed from the registry by the workspace)."""

from svardesk.channels.forms.tests.conftest import VALID, submit


def test_connect_a_channel_offers_the_form(client, super_admin):
    client.force_login(super_admin)
    html = client.get("/settings/channels/connect/").content.decode()
    assert 'href="/settings/channels/form/new/"' in html


def test_channel_list_shows_the_form_and_its_state(client, super_admin, form):
    submit(client, form, VALID)
    client.force_login(super_admin)
    html = client.get("/settings/channels/").content.decode()
    assert "Contact us" in html
    assert "1 submission today" in html
    assert f'href="/settings/channels/form/{form.pk}/"' in html
