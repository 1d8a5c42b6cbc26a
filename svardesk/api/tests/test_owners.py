"""Owners API (`/crm/v3/owners`) with the SDK: the users who may own tickets."""

from __future__ import annotations

import pytest
from hubspot.crm.owners.exceptions import ForbiddenException, NotFoundException

from svardesk.accounts.services import set_user_teams
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_owners_are_super_admins_and_seated_users_with_one_primary_team(
    hubspot, raw_api, super_admin, agent, support_team, no_seat_user
):
    tier2 = TeamFactory(name="Tier 2")
    set_user_teams(agent, actor=None, primary_team=support_team, teams=[support_team, tier2])

    # The SDK calls the path with a trailing slash; both spellings answer.
    page = hubspot.crm.owners.owners_api.get_page()
    assert (
        raw_api.get("/crm/v3/owners").body["results"]
        == raw_api.get("/crm/v3/owners/").body["results"]
    )

    by_email = {o.email: o for o in page.results}
    assert set(by_email) == {super_admin.email, agent.email}  # not the user without a seat
    owner = by_email[agent.email]
    assert owner.id == str(agent.pk)
    assert owner.user_id == agent.pk
    assert owner.first_name == "Anna"
    assert owner.type == "PERSON"
    assert owner.archived is False
    assert owner.created_at.tzinfo is not None
    assert {(t.name, t.primary) for t in owner.teams} == {("Support", True), ("Tier 2", False)}
    assert by_email[super_admin.email].teams == []


def test_owners_page_by_id_and_filter_by_email(hubspot, super_admin):
    users = [UserFactory() for _ in range(4)]
    owners = hubspot.crm.owners.owners_api

    first = owners.get_page(limit=2)
    second = owners.get_page(limit=2, after=first.paging.next.after)
    third = owners.get_page(limit=2, after=second.paging.next.after)

    ids = [o.id for page in (first, second, third) for o in page.results]
    assert ids == sorted((str(u.pk) for u in [super_admin, *users]), key=int)
    assert third.paging is None
    found = owners.get_page(email=users[2].email.upper())
    assert [o.id for o in found.results] == [str(users[2].pk)]


def test_an_owner_by_id_or_by_user_id(hubspot, agent):
    owners = hubspot.crm.owners.owners_api

    assert owners.get_by_id(str(agent.pk)).email == agent.email
    assert owners.get_by_id(agent.pk, id_property="userId").id == str(agent.pk)
    with pytest.raises(NotFoundException):
        owners.get_by_id("999999")


def test_deactivated_users_are_archived_owners(hubspot, agent):
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    owners = hubspot.crm.owners.owners_api

    assert agent.email not in {o.email for o in owners.get_page().results}
    archived = owners.get_page(archived=True).results
    assert [(o.email, o.archived) for o in archived] == [(agent.email, True)]
    with pytest.raises(NotFoundException):
        owners.get_by_id(str(agent.pk))
    assert owners.get_by_id(str(agent.pk), archived=True).archived is True


def test_owners_need_the_owners_scope(make_client, make_token, super_admin):
    client = make_client(make_token(super_admin, ["tickets"]))

    with pytest.raises(ForbiddenException):
        client.crm.owners.owners_api.get_page()
