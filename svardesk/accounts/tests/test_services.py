import pytest

from svardesk.accounts import services
from svardesk.accounts.exceptions import UserValidationError
from svardesk.accounts.models import User
from svardesk.teams.models import Membership

pytestmark = pytest.mark.django_db


def test_create_user_with_main_team_is_also_a_member(support_team, billing_team):
    user = services.create_user(
        actor=None,
        email="New@Example.com",
        primary_team=support_team,
        teams=[billing_team],
        has_seat=True,
    )
    assert user.email == "new@example.com"
    assert set(Membership.objects.filter(user=user).values_list("team__name", flat=True)) == {
        "Support",
        "Billing",
    }
    assert not user.has_usable_password()


def test_duplicate_email_refused():
    services.create_user(actor=None, email="a@example.com")
    with pytest.raises(UserValidationError):
        services.create_user(actor=None, email="A@example.com")
    assert User.objects.count() == 1


def test_last_super_admin_cannot_be_demoted(super_admin, agent):
    with pytest.raises(UserValidationError):
        services.update_user(
            super_admin, actor=agent, primary_team=None, teams=[], is_superuser=False
        )
    super_admin.refresh_from_db()
    assert super_admin.is_superuser


def test_cannot_remove_own_super_admin(super_admin):
    services.create_user(actor=None, email="other@example.com", is_superuser=True)
    with pytest.raises(UserValidationError):
        services.update_user(
            super_admin, actor=super_admin, primary_team=None, teams=[], is_superuser=False
        )


def test_set_user_teams_replaces_memberships(agent, support_team, billing_team):
    services.set_user_teams(agent, actor=None, primary_team=billing_team, teams=[])
    assert list(Membership.objects.filter(user=agent).values_list("team__name", flat=True)) == [
        "Billing"
    ]
    agent.refresh_from_db()
    assert agent.primary_team == billing_team


def test_createsuperuser_noinput_from_environment(monkeypatch):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "root@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough secret")
    call_command("createsuperuser", interactive=False, verbosity=0)
    user = User.objects.get(email="root@example.com")
    assert user.is_superuser
    assert user.can_use_workspace
    assert user.check_password("a long enough secret")
