"""Annotations and querysets compiled once per process (core.precompiled) read the same as
what Django compiles on every query, in every queryset shape and with every call's ids."""

from __future__ import annotations

import pytest
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.utils import timezone

from svardesk.core import precompiled
from svardesk.tickets.models import Ticket, TicketEvent
from tests.factories import TeamFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


def _event_counts() -> dict[str, Subquery]:
    counted = (
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"), kind=OuterRef("name"))
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    everything = (
        TicketEvent.objects.filter(ticket_id=OuterRef("pk"))
        .order_by()
        .values("ticket_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return {
        "events_named_like_ticket": Subquery(counted, output_field=IntegerField()),
        "event_count": Subquery(everything, output_field=IntegerField()),
    }


def test_precompiled_annotations_read_what_the_expressions_read():
    precompiled.forget_precompiled()
    tickets = [TicketFactory() for _ticket in range(3)]
    for ticket in tickets[:2]:
        ticket.events.create(kind="note", data={}, created_at=timezone.now())
    # Shapes the ticket page uses: joins (select_related), a filter, and a second table alias.
    shapes = [
        Ticket.objects.all(),
        Ticket.objects.select_related("owner", "contact", "stage").filter(pk=tickets[0].pk),
        Ticket.objects.filter(stage__pipeline__isnull=False, owner__isnull=True),
    ]
    calls = []

    def build() -> dict[str, Subquery]:
        calls.append(1)
        return _event_counts()

    for shape in shapes:
        live = {
            row["pk"]: (row["event_count"], row["events_named_like_ticket"])
            for row in shape.annotate(**_event_counts()).values(
                "pk", "event_count", "events_named_like_ticket"
            )
        }
        compiled = {
            row["pk"]: (row["event_count"], row["events_named_like_ticket"])
            for row in shape.annotate(
                **precompiled.precompiled_annotations(Ticket, "test-counts", build)
            ).values("pk", "event_count", "events_named_like_ticket")
        }
        assert compiled == live
        assert live  # the shape found tickets, so the comparison compared something
    assert any(events for events, _named in live.values())
    assert len(calls) == 1  # built and compiled once, whatever the queryset


def test_forgetting_compiles_again():
    precompiled.forget_precompiled()
    calls = []

    def build() -> dict[str, Subquery]:
        calls.append(1)
        return _event_counts()

    precompiled.precompiled_annotations(Ticket, "test-again", build)
    precompiled.precompiled_annotations(Ticket, "test-again", build)
    precompiled.forget_precompiled()
    precompiled.precompiled_annotations(Ticket, "test-again", build)
    assert len(calls) == 2


def _tickets_of(owner_id: int, *team_ids: int):  # type: ignore[no-untyped-def]
    condition = Q(owner_id=owner_id)
    if team_ids:
        condition |= Q(team_id__in=team_ids)
    return Ticket.objects.filter(condition).defer("description").order_by("-id")


def test_precompiled_raw_runs_the_query_with_each_calls_ids():
    precompiled.forget_precompiled()
    owners = [UserFactory(), UserFactory()]
    teams = [TeamFactory(), TeamFactory(), TeamFactory()]
    for owner in owners:
        TicketFactory(owner=owner)
    for team in teams:
        TicketFactory(team=team)
    TicketFactory()  # nobody's

    for owner in owners:
        for chosen in ([], teams[:1], teams[1:], teams):
            ids = [team.pk for team in chosen]
            found = precompiled.precompiled_raw(
                Ticket, "test-tickets-of", _tickets_of, owner.pk, *ids
            )
            assert [t.pk for t in found] == [t.pk for t in _tickets_of(owner.pk, *ids)]
            assert len(list(found)) == 1 + len(chosen)
    ticket = next(
        iter(precompiled.precompiled_raw(Ticket, "test-tickets-of", _tickets_of, owners[0].pk))
    )
    assert ticket.get_deferred_fields() == {"description"}
    assert ticket.owner_id == owners[0].pk


def test_precompiled_raw_refuses_a_query_that_changes_its_ids():
    precompiled.forget_precompiled()
    with pytest.raises(ValueError, match="unchanged"):
        precompiled.precompiled_raw(
            Ticket, "test-shifted", lambda owner_id: Ticket.objects.filter(pk=owner_id + 1), 5
        )
    with pytest.raises(TypeError):
        precompiled.precompiled_raw(
            Ticket, "test-other-model", lambda owner_id: TicketEvent.objects.filter(pk=owner_id), 5
        )


def _tickets_named(subject: str, owner_id: int):  # type: ignore[no-untyped-def]
    return (
        Ticket.objects.select_related("owner", "stage__pipeline")
        .filter(name=subject, owner_id=owner_id)
        .annotate(event_total=Count("events"))
        .order_by("id")
    )


def test_precompiled_objects_are_what_the_queryset_gives_with_each_calls_values():
    precompiled.forget_precompiled()
    owners = [UserFactory(), UserFactory()]
    made = [
        TicketFactory(name=subject, owner=owner)
        for owner in owners
        for subject in ("Skrivaren är trasig", "Printer", "Printer")
    ]
    made[0].events.create(kind="note", data={"a": [1, "ö"]}, created_at=timezone.now())
    compiles = []
    build = _tickets_named

    def counted(subject: str, owner_id: int):  # type: ignore[no-untyped-def]
        compiles.append(1)
        return build(subject, owner_id)

    for owner in owners:
        for subject in ("Skrivaren är trasig", "Printer", "Nothing"):
            found = precompiled.precompiled_objects(
                Ticket, "test-named", counted, subject, owner.pk
            )
            expected = list(_tickets_named(subject, owner.pk))
            assert [t.pk for t in found] == [t.pk for t in expected]
            for got, want in zip(found, expected, strict=True):
                # Every column, converted as Django converts it (dates, JSON, decimals).
                for field in Ticket._meta.concrete_fields:
                    assert getattr(got, field.attname) == getattr(want, field.attname)
                assert got.event_total == want.event_total
                # The select_related objects came with the row, with their own fields.
                assert Ticket.owner.is_cached(got)
                assert Ticket.stage.is_cached(got)
                assert got.owner.email == want.owner.email
                assert got.stage.pipeline.name == want.stage.pipeline.name
                assert not got._state.adding
                assert got._state.db == "default"
    assert len(compiles) == 1  # compiled once, run six times with other values
    first = precompiled.precompiled_objects(
        Ticket, "test-named", counted, "Skrivaren är trasig", owners[0].pk
    )
    assert first[0].event_total == 1


def test_precompiled_objects_refuse_a_query_that_changes_its_values():
    precompiled.forget_precompiled()
    with pytest.raises(ValueError, match="unchanged"):
        precompiled.precompiled_objects(
            Ticket, "test-upper", lambda subject: Ticket.objects.filter(name=subject + "!"), "x"
        )
    with pytest.raises(ValueError, match="unchanged"):
        precompiled.precompiled_objects(
            Ticket, "test-twice", lambda s: Ticket.objects.filter(name=s, description=s), "x"
        )
    # A prefetch would be left out without a word: refused.
    with pytest.raises(ValueError, match="only plain selects"):
        precompiled.precompiled_objects(
            Ticket,
            "test-prefetch",
            lambda pk: Ticket.objects.filter(pk=pk).prefetch_related("events"),
            5,
        )


def test_precompiled_objects_find_nothing_for_a_number_no_column_holds():
    precompiled.forget_precompiled()
    ticket = TicketFactory()
    for huge in (2**63, 10**30, -(2**63) - 1):
        assert precompiled.precompiled_objects(Ticket, "test-by-id", _by_id, huge) == []
    assert precompiled.precompiled_objects(Ticket, "test-by-id", _by_id, ticket.pk) == [ticket]


def _by_id(ticket_id: int):  # type: ignore[no-untyped-def]
    return Ticket.objects.filter(pk=ticket_id)
