"""The chat status (user menu: Available / Away): only the user themself sets it, and it reaches
the presence record at once."""

import pytest
from django.urls import reverse

from svardesk.accounts import presence, services
from svardesk.accounts.exceptions import UserValidationError
from svardesk.accounts.models import ChatStatus, User
from svardesk.accounts.queries import chat_agents_available
from svardesk.core.exceptions import PermissionDeniedError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_new_user_is_available_by_default(agent):
    assert agent.chat_status == ChatStatus.AVAILABLE
    assert agent.takes_chats


def test_set_chat_status_saves_it_and_updates_an_open_socket_after_commit(
    agent, django_capture_on_commit_callbacks
):
    presence.mark_present(agent.pk, "socket-1", available=True)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.set_chat_status(agent, status=ChatStatus.AWAY, actor=agent)

    assert len(callbacks) == 1
    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AWAY
    assert presence.present_user_ids() == {agent.pk}
    assert presence.available_user_ids() == set()
    assert chat_agents_available() is False


def test_nobody_may_set_another_users_chat_status(agent, super_admin):
    with pytest.raises(PermissionDeniedError):
        services.set_chat_status(agent, status=ChatStatus.AWAY, actor=super_admin)

    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AVAILABLE


def test_an_unknown_status_is_refused(agent):
    with pytest.raises(UserValidationError):
        services.set_chat_status(agent, status="busy", actor=agent)

    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AVAILABLE


def test_no_presence_change_fires_on_rollback(agent, django_capture_on_commit_callbacks):
    intruder = UserFactory()
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PermissionDeniedError),
    ):
        services.set_chat_status(agent, status=ChatStatus.AWAY, actor=intruder)
    assert callbacks == []


# --- The user menu's control -----------------------------------------------------------------


def test_the_user_menu_shows_the_status_and_both_choices(client, agent):
    client.force_login(agent)

    page = client.get(reverse("ticket_views:all"), follow=True).content.decode()

    assert 'id="chat-status-badge"' in page
    assert 'role="menuitemradio"' in page
    assert 'value="available" role="menuitemradio"' in page
    assert page.count('aria-checked="true"') == 1
    assert 'value="away" role="menuitemradio" class="linklike chat-status-choice" ' in page


def test_htmx_post_sets_own_status_and_answers_with_the_control(client, agent):
    client.force_login(agent)

    response = client.post(
        reverse("accounts:chat_status"), {"status": "away"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="away" role="menuitemradio" class="linklike chat-status-choice" ' in body
    assert 'aria-checked="true"><span class="status-dot is-away"' in body
    assert 'hx-swap-oob="true"' in body  # the badge beside the user's name follows
    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AWAY


def test_plain_post_goes_back_to_the_page(client, agent):
    client.force_login(agent)
    back = "http://testserver" + reverse("ticket_views:all")

    response = client.post(reverse("accounts:chat_status"), {"status": "away"}, HTTP_REFERER=back)

    assert response.status_code == 302
    assert response["Location"] == back


def test_plain_post_never_redirects_off_site(client, agent):
    client.force_login(agent)

    response = client.post(
        reverse("accounts:chat_status"), {"status": "away"}, HTTP_REFERER="https://evil.test/"
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("ticket_views:all")


@pytest.mark.parametrize("status", ["busy", "", "AWAY"], ids=["unknown", "empty", "wrong-case"])
def test_a_bad_status_is_a_clear_400_and_changes_nothing(client, agent, status):
    client.force_login(agent)

    response = client.post(reverse("accounts:chat_status"), {"status": status})

    assert response.status_code == 400
    assert response.content.decode() == "Unknown chat status."
    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AVAILABLE


def test_the_control_needs_post(client, agent):
    client.force_login(agent)
    assert client.get(reverse("accounts:chat_status")).status_code == 405


def test_signed_out_is_sent_to_sign_in(client):
    response = client.post(reverse("accounts:chat_status"), {"status": "away"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_user_without_a_seat_may_not(client):
    user = UserFactory(has_seat=False)
    client.force_login(user)

    response = client.post(reverse("accounts:chat_status"), {"status": "away"})

    assert response.status_code == 403
    assert User.objects.get(pk=user.pk).chat_status == ChatStatus.AVAILABLE


def test_csrf_is_checked(agent):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)

    response = client.post(reverse("accounts:chat_status"), {"status": "away"})

    assert response.status_code == 403
    assert User.objects.get(pk=agent.pk).chat_status == ChatStatus.AVAILABLE
