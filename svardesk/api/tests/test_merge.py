"""POST /crm/v3/objects/tickets/merge through the official SDK (hubspot-api-client 12)."""

import datetime as dt
import json

import pytest
from django.utils import timezone
from hubspot.crm.tickets import PublicMergeInput
from hubspot.crm.tickets.exceptions import ApiException, ForbiddenException, NotFoundException

from svardesk.api.http import iso
from svardesk.crm import associations as assoc
from svardesk.tickets.models import Priority, Ticket
from svardesk.tickets.services import create_ticket
from tests.factories import ContactFactory, default_pipeline


def _ticket(name, *, days_ago=0, **kwargs):
    ticket = create_ticket(actor=None, name=name, pipeline=default_pipeline(), **kwargs)
    if days_ago:
        at = timezone.now() - dt.timedelta(days=days_ago)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=at)
        ticket.refresh_from_db()
    return ticket


def _merge(client, primary, other):
    return client.crm.tickets.basic_api.merge(
        public_merge_input=PublicMergeInput(
            primary_object_id=str(primary), object_id_to_merge=str(other)
        )
    )


def _body(error):
    return json.loads(error.value.body)


def test_merge_returns_a_new_ticket_that_both_old_ids_resolve_to(hubspot):
    anna, bo = ContactFactory(), ContactFactory()
    older = _ticket("Printer jams", days_ago=5, contact=bo, priority=Priority.LOW)
    primary = _ticket("Printer on fire", contact=anna, priority=Priority.URGENT)

    merged = _merge(hubspot, primary.pk, older.pk)

    assert merged.id not in (str(primary.pk), str(older.pk))
    props = merged.properties
    assert props["hs_object_id"] == merged.id
    assert props["subject"] == "Printer on fire"
    assert props["hs_ticket_priority"] == "URGENT"
    assert sorted(props["hs_merged_object_ids"].split(";")) == sorted(
        [str(primary.pk), str(older.pk)]
    )
    assert props["createdate"] == iso(older.created_at)  # the older of the two
    assert iso(merged.created_at) == iso(older.created_at)
    for old in (primary.pk, older.pk):
        again = hubspot.crm.tickets.basic_api.get_by_id(
            str(old), properties=["subject"], associations=["contacts"]
        )
        assert again.id == merged.id
        assert again.properties["subject"] == "Printer on fire"
        linked = sorted(r.id for r in again.associations["contacts"].results)
        assert linked == sorted([str(anna.pk), str(bo.pk)])
    assert assoc.primary_id(assoc.TICKET, int(merged.id), assoc.CONTACT) == anna.pk


def test_an_id_merged_away_before_means_the_ticket_it_became(hubspot):
    a, b, c = _ticket("A"), _ticket("B"), _ticket("C")
    first = _merge(hubspot, a.pk, b.pk)

    second = _merge(hubspot, c.pk, a.pk)  # a now means `first`

    assert sorted(second.properties["hs_merged_object_ids"].split(";")) == sorted(
        [str(a.pk), str(b.pk), str(c.pk), first.id]
    )
    assert hubspot.crm.tickets.basic_api.get_by_id(str(b.pk)).id == second.id


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"primaryObjectId": "1"}, "objectIdToMerge", id="missing-other"),
        pytest.param({"objectIdToMerge": "1"}, "primaryObjectId", id="missing-primary"),
        pytest.param({}, "primaryObjectId, objectIdToMerge", id="empty"),
    ],
)
def test_missing_fields_are_a_validation_error(raw_api, body, message):
    answer = raw_api.post("/crm/v3/objects/tickets/merge", body)

    assert answer.status == 400
    assert answer.body["category"] == "VALIDATION_ERROR"
    assert message in answer.body["message"]


def test_one_ticket_twice_is_a_validation_error_and_changes_nothing(hubspot):
    ticket = _ticket("Alone")

    with pytest.raises(ApiException) as caught:
        _merge(hubspot, ticket.pk, ticket.pk)

    assert caught.value.status == 400
    assert _body(caught)["category"] == "VALIDATION_ERROR"
    assert list(Ticket.objects.values_list("pk", flat=True)) == [ticket.pk]


@pytest.mark.parametrize("bad", ["999999", "abc"])
def test_an_unknown_id_is_not_found(hubspot, bad):
    ticket = _ticket("Real")

    with pytest.raises(NotFoundException) as caught:
        _merge(hubspot, ticket.pk, bad)

    assert _body(caught)["category"] == "OBJECT_NOT_FOUND"
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_a_ticket_the_tokens_user_cannot_see_is_not_found(make_client, make_token, team_agent):
    mine = _ticket("Mine", team=team_agent.primary_team)
    hidden = _ticket("Hidden")
    client = make_client(make_token(team_agent))

    with pytest.raises(NotFoundException):
        _merge(client, mine.pk, hidden.pk)

    assert Ticket.objects.filter(pk__in=[mine.pk, hidden.pk]).count() == 2


def test_merging_needs_the_tickets_scope(make_client, make_token, super_admin):
    a, b = _ticket("A"), _ticket("B")
    client = make_client(make_token(super_admin, scopes=["crm.objects.contacts.write"]))

    with pytest.raises(ForbiddenException) as caught:
        _merge(client, a.pk, b.pk)

    assert _body(caught)["category"] == "MISSING_SCOPES"
    assert Ticket.objects.filter(pk__in=[a.pk, b.pk]).count() == 2
