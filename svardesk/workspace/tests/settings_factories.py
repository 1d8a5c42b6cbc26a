"""Factories for the settings area's tests."""

import factory

from svardesk.accounts.models import User
from svardesk.teams.models import Membership, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Person"


class AgentFactory(UserFactory):
    """A user with a help desk seat who is not a super admin."""

    has_seat = True


class SuperAdminFactory(UserFactory):
    is_superuser = True
    is_staff = True


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    team = factory.SubFactory(TeamFactory)
    user = factory.SubFactory(AgentFactory)
