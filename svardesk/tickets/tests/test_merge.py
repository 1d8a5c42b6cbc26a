"""Merging tickets (tickets.merge): a new ticket with both tickets' history, the old ids
redirecting to it, all or nothing."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from svardesk.channels.email.tests.corpus import (
    CORPUS_SECRET,
    SIGNED_A,
    build_raw,
    connect,
    ingest,
    ticket_with_outbound,
)
from svardesk.conversations.models import Conversation, Message, Notification
from svardesk.crm import associations as assoc
from svardesk.crm.models import Association, Company, Deal
from svardesk.search.queries import search_tickets
from svardesk.sla.models import Applies, SlaSettings, TicketSla
from svardesk.tickets.exceptions import TicketMergeError
from svardesk.tickets.merge import merge_tickets, resolve_ticket_id
from svardesk.tickets.models import (
    Category,
    Priority,
    SlaStatus,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketRedirect,
)
from svardesk.tickets.services import create_ticket, update_ticket
from svardesk.tickets.signals import ticket_changed, tickets_merged, tickets_merging
from tests.factories import ContactFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db

HOUR = 3600


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path):
    settings.SECRET_KEY = CORPUS_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _ticket(name, *, actor=None, days_ago=0, **kwargs):
    ticket = create_ticket(actor=actor, name=name, pipeline=default_pipeline(), **kwargs)
    if days_ago:
        at = timezone.now() - dt.timedelta(days=days_ago)
        Ticket.objects.filter(pk=ticket.pk).update(created_at=at, last_activity_at=at)
        TicketEvent.objects.filter(ticket=ticket).update(created_at=at)
        ticket.refresh_from_db()
    return ticket


def _links(ticket_id, to_type):
    """(partner id, label) of every association of the ticket with `to_type` records."""
    pair = assoc.stored(assoc.TICKET, to_type)
    rows = Association.objects.filter(from_type=pair.from_type, to_type=pair.to_type)
    return sorted(rows.filter(from_id=ticket_id).values_list("to_id", "label"))


# --- The new ticket ---------------------------------------------------------------------------


def test_merge_makes_a_new_ticket_with_the_primarys_values_and_the_older_create_date(agent):
    anna, bo = ContactFactory(), ContactFactory()
    older = _ticket(
        "Printer jams",
        days_ago=3,
        description="Jams on page 2",
        priority=Priority.LOW,
        category=Category.PRODUCT_ISSUE,
        contact=bo,
        custom={},
    )
    primary = _ticket(
        "Printer on fire",
        description="Smoke!",
        priority=Priority.URGENT,
        category=Category.BILLING_ISSUE,
        owner=agent,
        contact=anna,
        stage=stage_named("Waiting on us"),
    )

    merged = merge_tickets(primary=primary, other=older, actor=agent)

    merged.refresh_from_db()
    assert merged.pk not in (primary.pk, older.pk)
    assert (merged.name, merged.description, merged.priority, merged.category) == (
        "Printer on fire",
        "Smoke!",
        Priority.URGENT,
        Category.BILLING_ISSUE,
    )
    assert (merged.owner, merged.contact, merged.stage) == (
        agent,
        anna,
        stage_named("Waiting on us"),
    )
    assert merged.is_open is True
    assert merged.closed_at is None
    assert merged.created_at == older.created_at
    assert merged.last_activity_at == primary.last_activity_at
    assert merged.version == 1
    assert not Ticket.objects.filter(pk__in=[primary.pk, older.pk]).exists()


def test_what_the_primary_leaves_empty_comes_from_the_other(agent, support_team):
    other = _ticket(
        "Billing question",
        description="Invoice 42",
        priority=Priority.HIGH,
        owner=agent,
        team=support_team,
        contact=ContactFactory(),
    )
    primary = _ticket("Invoice", stage=stage_named("Closed"))

    merged = merge_tickets(primary=primary, other=other, actor=None)

    merged.refresh_from_db()
    assert merged.name == "Invoice"
    assert (merged.description, merged.priority, merged.owner, merged.team) == (
        "Invoice 42",
        Priority.HIGH,
        agent,
        support_team,
    )
    # The other's contact becomes the merged ticket's contact, primary in crm too.
    assert merged.contact == other.contact
    assert assoc.primary_id(assoc.TICKET, merged.pk, assoc.CONTACT) == other.contact_id
    # The primary's status wins, closed with it.
    assert (merged.stage, merged.is_open) == (stage_named("Closed"), False)
    assert merged.closed_at == primary.closed_at


def test_the_timelines_move_and_the_merge_is_on_it(agent):
    primary = _ticket("A", days_ago=2)
    other = _ticket("B", days_ago=1)
    update_ticket(other.pk, actor=agent, changes={"priority": Priority.HIGH})
    before = list(
        TicketEvent.objects.filter(ticket__in=[primary, other]).values_list("pk", flat=True)
    )

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    events = list(TicketEvent.objects.filter(ticket=merged).order_by("created_at", "id"))
    assert {e.pk for e in events[:-1]} == set(before)
    assert [e.kind for e in events] == ["created", "created", "property_changed", "merged"]
    last = events[-1]
    assert (last.kind, last.actor, last.data) == (
        TicketEventKind.MERGED,
        agent,
        {"tickets": [[primary.pk, "A"], [other.pk, "B"]]},
    )


def test_associations_are_the_union_and_the_primarys_primaries_stay_primary(agent):
    acme = Company.objects.create(name="Acme")
    globex = Company.objects.create(name="Globex")
    anna = ContactFactory(company=acme)
    bo = ContactFactory(company=globex)
    deal = Deal.objects.create(name="Renewal")
    primary = _ticket("A", contact=anna)
    other = _ticket("B", contact=bo)
    assoc.associate(assoc.TICKET, other.pk, assoc.DEAL, deal.pk)
    assoc.associate(assoc.TICKET, other.pk, assoc.CONTACT, anna.pk)  # shared contact

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    assert _links(merged.pk, assoc.CONTACT) == sorted(
        [(anna.pk, "primary"), (anna.pk, ""), (bo.pk, "")]
    )
    assert sorted(_links(merged.pk, assoc.COMPANY)) == sorted(
        [(acme.pk, "primary"), (acme.pk, ""), (globex.pk, "")]
    )
    assert _links(merged.pk, assoc.DEAL) == [(deal.pk, "")]
    # Nothing is left on the old ids, and nothing is doubled.
    for old in (primary.pk, other.pk):
        for to_type in (assoc.CONTACT, assoc.COMPANY, assoc.DEAL):
            assert _links(old, to_type) == []
    assert Association.objects.filter(from_type=assoc.TICKET, from_id=merged.pk).count() == 7
    assert Ticket.objects.get(pk=merged.pk).contact == anna


def test_conversations_messages_notifications_and_submissions_move(agent):
    from svardesk.channels.forms.models import FormSubmission
    from svardesk.channels.forms.services import create_form

    channel = connect()
    primary, reply_a = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    other, reply_b = ticket_with_outbound(
        channel, message_id="<b@acme.example>", contact_email="bo@example.se"
    )
    note = Notification.objects.create(user=agent, kind="mention", ticket=other, message=reply_b)
    form = create_form(actor=None, name="Contact us")
    submission = FormSubmission.objects.create(form=form, received_at=timezone.now(), ticket=other)

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    assert set(Conversation.objects.filter(ticket=merged)) == {
        reply_a.conversation,
        reply_b.conversation,
    }
    assert set(Message.objects.filter(conversation__ticket=merged)) == {reply_a, reply_b}
    note.refresh_from_db()
    assert note.ticket_id == merged.pk
    submission.refresh_from_db()
    assert submission.ticket_id == merged.pk


# --- Old ids ----------------------------------------------------------------------------------


def test_old_ids_redirect_and_chains_flatten(agent):
    a, b, c = _ticket("A"), _ticket("B"), _ticket("C")

    first = merge_tickets(primary=a, other=b, actor=agent)
    second = merge_tickets(primary=c, other=first, actor=agent)

    assert dict(TicketRedirect.objects.values_list("old_id", "ticket_id")) == {
        a.pk: second.pk,
        b.pk: second.pk,
        first.pk: second.pk,
        c.pk: second.pk,
    }
    for old in (a.pk, b.pk, c.pk, first.pk, second.pk):
        assert resolve_ticket_id(old) == second.pk
    assert resolve_ticket_id(second.pk + 1000) is None


def test_resolve_ticket_id_is_one_query():
    a, b = _ticket("A"), _ticket("B")
    merged = merge_tickets(primary=a, other=b, actor=None)

    with CaptureQueriesContext(connection) as queries:
        assert resolve_ticket_id(a.pk) == merged.pk
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert resolve_ticket_id(merged.pk) == merged.pk
    assert len(queries) == 1


def test_merged_events_fire_after_commit_only(agent, django_capture_on_commit_callbacks):
    a, b = _ticket("A"), _ticket("B")
    seen = []

    def on_merged(sender, ticket_id, merged_ids, actor_id, **kwargs):
        seen.append(("merged", ticket_id, merged_ids, actor_id))

    def on_changed(sender, ticket_id, actor_id, **kwargs):
        seen.append(("changed", ticket_id, actor_id))

    tickets_merged.connect(on_merged)
    ticket_changed.connect(on_changed)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            merged = merge_tickets(primary=a, other=b, actor=agent)
            assert seen == []
    finally:
        tickets_merged.disconnect(on_merged)
        ticket_changed.disconnect(on_changed)
    assert callbacks
    assert ("merged", merged.pk, sorted([a.pk, b.pk]), agent.pk) in seen
    assert ("changed", merged.pk, agent.pk) in seen


# --- Refusals and atomicity -------------------------------------------------------------------


def _snapshot(*tickets):
    ids = [t.pk for t in tickets]
    return (
        list(Ticket.objects.filter(pk__in=ids).order_by("pk").values()),
        list(TicketEvent.objects.filter(ticket_id__in=ids).order_by("pk").values()),
        list(Association.objects.filter(from_type=assoc.TICKET).order_by("pk").values()),
        list(Conversation.objects.order_by("pk").values("pk", "ticket_id")),
        list(TicketRedirect.objects.values()),
        Ticket.objects.count(),
    )


def test_a_failure_half_way_leaves_both_tickets_as_they_were(
    agent, django_capture_on_commit_callbacks
):
    channel = connect()
    primary, _ = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    other = _ticket("B", contact=ContactFactory())
    before = _snapshot(primary, other)

    def explode(sender, **kwargs):
        raise RuntimeError("disk full")

    tickets_merging.connect(explode)
    try:
        with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError):
            merge_tickets(primary=primary, other=other, actor=agent)
    finally:
        tickets_merging.disconnect(explode)

    assert _snapshot(primary, other) == before
    assert callbacks == []


@pytest.mark.parametrize("case", ["same", "gone"])
def test_one_ticket_twice_or_a_merged_away_one_is_refused(agent, case):
    a, b = _ticket("A"), _ticket("B")
    if case == "same":
        first, second = a, a
    else:
        merge_tickets(primary=a, other=b, actor=agent)
        first, second = a, _ticket("C")
    count = Ticket.objects.count()

    with pytest.raises(TicketMergeError) as caught:
        merge_tickets(primary=first, other=second, actor=agent)

    assert caught.value.code == case
    assert isinstance(caught.value, ValueError)
    assert Ticket.objects.count() == count


def test_a_ticket_out_of_the_actors_scope_is_refused(team_agent, billing_team):
    mine = _ticket("Mine", team=billing_team)
    hidden = _ticket("Someone else's")
    before = _snapshot(mine, hidden)

    with pytest.raises(TicketMergeError) as caught:
        merge_tickets(primary=mine, other=hidden, actor=team_agent)

    assert caught.value.code == "not_found"
    assert _snapshot(mine, hidden) == before


def test_tickets_past_the_merge_limit_are_refused(agent, monkeypatch):
    from svardesk.tickets import merge

    monkeypatch.setattr(merge, "MAX_MERGES", 3)
    first = merge_tickets(primary=_ticket("A"), other=_ticket("B"), actor=agent)

    with pytest.raises(TicketMergeError) as caught:
        merge_tickets(primary=first, other=_ticket("C"), actor=agent)

    assert caught.value.code == "too_many"


# --- Email, search and SLA follow -------------------------------------------------------------


def test_replies_to_either_old_thread_land_in_the_merged_ticket(agent):
    channel = connect()
    primary, _ = ticket_with_outbound(
        channel, message_id=SIGNED_A, contact_email="anna.svensson@example.se"
    )
    other, _ = ticket_with_outbound(
        channel,
        message_id="<plain-b@acme.example>",
        contact_email="kund@example.com",
        subject="Leverans",
    )
    merged = merge_tickets(primary=primary, other=other, actor=agent)

    # A reply citing our signed id on the primary's thread.
    signed = ingest(channel, "reply_gmail.eml").recorded_message
    # A reply citing the other ticket's (unsigned) message id.
    plain = ingest(
        channel,
        build_raw(
            message_id="<r2@example.com>",
            subject="Re: Leverans",
            in_reply_to="<plain-b@acme.example>",
            references="<plain-b@acme.example>",
        ),
    ).recorded_message
    # A reply with only the old ticket's subject token, from its customer.
    token = ingest(
        channel,
        build_raw(message_id="<r3@example.com>", subject=f"Re: Leverans [#{other.pk}]"),
    ).recorded_message

    for message in (signed, plain, token):
        assert message.conversation.ticket_id == merged.pk
    assert Ticket.objects.count() == 1


def test_search_finds_the_merged_ticket_not_the_old_ones(super_admin):
    primary = _ticket("Frostbitten router")
    other = _ticket("Other words entirely")

    merged = merge_tickets(primary=primary, other=other, actor=None)

    found = search_tickets(super_admin, "frostbitten").tickets
    assert [t.pk for t in found] == [merged.pk]
    assert search_tickets(super_admin, "entirely").tickets == []


@pytest.fixture
def sla(db):
    return SlaSettings.objects.create(
        pk=1,
        is_enabled=True,
        applies=Applies.ALWAYS,
        first_response_seconds=HOUR,
        next_response_seconds=HOUR // 2,
        close_seconds=24 * HOUR,
    )


def test_the_merged_ticket_keeps_the_primarys_sla_timers(agent, sla):
    other = _ticket("Other", days_ago=2, source="EMAIL")
    two_days_ago = other.created_at
    TicketSla.objects.filter(ticket=other).update(
        first_response_started_at=two_days_ago, close_started_at=two_days_ago
    )
    primary = _ticket("Primary", source="EMAIL")
    primary_timers = TicketSla.objects.get(ticket=primary)
    primary.refresh_from_db()

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    merged.refresh_from_db()
    timers = TicketSla.objects.get(ticket=merged)
    assert timers.first_response_started_at == primary_timers.first_response_started_at
    assert timers.close_started_at == primary_timers.close_started_at != two_days_ago
    assert (merged.sla_first_response_status, merged.sla_first_response_due) == (
        primary.sla_first_response_status,
        primary.sla_first_response_due,
    )
    assert TicketSla.objects.count() == 1
    # The other's SLA history is on the merged timeline.
    sla_events = TicketEvent.objects.filter(ticket=merged, kind=TicketEventKind.SLA)
    assert sla_events.count() == 4  # first response and close started, on each ticket


def test_a_goal_the_primary_has_no_timer_for_comes_from_the_other(agent, sla):
    primary = _ticket("No SLA", source="EMAIL")
    TicketSla.objects.filter(ticket=primary).delete()
    Ticket.objects.filter(pk=primary.pk).update(
        sla_first_response_status=None,
        sla_first_response_due=None,
        sla_close_status=None,
        sla_close_due=None,
    )
    other = _ticket("With SLA", source="EMAIL")
    other.refresh_from_db()
    Ticket.objects.filter(pk=other.pk).update(sla_first_response_status=SlaStatus.OVERDUE)

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    merged.refresh_from_db()
    assert merged.sla_first_response_status == SlaStatus.OVERDUE
    assert merged.sla_close_due == other.sla_close_due
    assert TicketSla.objects.get(ticket=merged).first_response_goal == HOUR


def test_a_running_goal_of_the_other_fills_the_primarys_missing_one(agent, sla):
    primary = _ticket("Primary", days_ago=1, source="EMAIL")
    other = _ticket("Other", source="EMAIL")
    primary_timers = TicketSla.objects.get(ticket=primary)
    TicketSla.objects.filter(ticket=other).update(
        next_response_goal=HOUR // 2, next_response_started_at=timezone.now()
    )
    due = timezone.now() + dt.timedelta(minutes=30)
    Ticket.objects.filter(pk=other.pk).update(
        sla_next_response_status=SlaStatus.ON_TRACK, sla_next_response_due=due
    )
    TicketSla.objects.filter(ticket=primary).update(next_response_started_at=None)

    merged = merge_tickets(primary=primary, other=other, actor=agent)

    merged.refresh_from_db()
    timers = TicketSla.objects.get(ticket=merged)
    assert timers.next_response_started_at is not None
    assert timers.first_response_started_at == primary_timers.first_response_started_at
    assert (merged.sla_next_response_status, merged.sla_next_response_due) == (
        SlaStatus.ON_TRACK,
        due,
    )


def test_the_sla_reports_rollup_follows_the_merge(agent, billing_team):
    from svardesk.sla.tests.test_rollup import recount, stored

    due = timezone.now() - dt.timedelta(hours=3)
    primary = _ticket("Primary", team=billing_team, priority=Priority.HIGH)
    other = _ticket("Other", priority=Priority.LOW)
    Ticket.objects.filter(pk=primary.pk).update(
        sla_first_response_status=SlaStatus.MET, sla_first_response_due=due
    )
    Ticket.objects.filter(pk=other.pk).update(
        sla_first_response_status=SlaStatus.MISSED,
        sla_first_response_due=due,
        sla_close_status=SlaStatus.OVERDUE,
        sla_close_due=due,
    )
    assert stored() == recount()

    merge_tickets(primary=primary, other=other, actor=agent)

    assert stored() == recount()
    detailed = {key: n for key, n in stored()["day"].items() if key[4] != -1}  # not totals
    assert sum(detailed.values()) == 1  # the merged ticket's first response, met


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_one_ticket_at_once_merge_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises them)")
    a, b, c = _ticket("A"), _ticket("B"), _ticket("C")
    barrier = threading.Barrier(2)
    merged: list[int] = []
    refused: list[str] = []
    errors: list[BaseException] = []

    def run(primary: Ticket, other: Ticket) -> None:
        try:
            barrier.wait()
            merged.append(merge_tickets(primary=primary, other=other, actor=None).pk)
        except TicketMergeError as exc:
            refused.append(exc.code)
        except BaseException as exc:  # a deadlock or anything else: reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(a, b)),
        threading.Thread(target=run, args=(c, b)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert (len(merged), refused) == (1, ["gone"])
    survivor = merged[0]
    assert resolve_ticket_id(b.pk) == survivor
    assert Ticket.objects.count() == 2  # the merged ticket and the one left alone
    assert TicketRedirect.objects.count() == 2
