import datetime as dt
import threading
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.validators import validate_email
from django.db import connection

from svardesk.accounts.models import TicketAccess, User
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Inbox,
    Notification,
)
from svardesk.crm.models import Contact
from svardesk.demo import bulk
from svardesk.demo.generator import (
    DEMO_LOGINS,
    DemoDatabaseBusyError,
    DemoOptions,
    count_assigned_to,
    load_demo,
    team_names,
)
from svardesk.demo.inboxes import SALES_CONVERSATIONS
from svardesk.demo.models import PendingIndex
from svardesk.teams.models import Team
from svardesk.ticket_views.defaults import DEFAULT_VIEWS_BY_KEY
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.queries import visible_tickets

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
LOGINS = {login.key: login for login in DEMO_LOGINS}


def _options(**overrides: object) -> DemoOptions:
    values: dict[str, object] = {
        "tickets": 200,
        "contacts": 40,
        "agents": 6,
        "teams": 8,
        "seed": 7,
        "reset": True,
        "now": NOW,
    }
    values.update(overrides)
    return DemoOptions(**values)  # type: ignore[arg-type]


def _ticket_names() -> list[str]:
    return list(Ticket.objects.order_by("pk").values_list("name", flat=True))


def _login(key: str) -> User:
    return User.objects.get(email=LOGINS[key].email)


def _assigned_to_me(user: User) -> int:
    return Ticket.objects.filter(DEFAULT_VIEWS_BY_KEY["assigned-to-me"].condition(user)).count()


@pytest.mark.django_db
def test_same_seed_gives_the_same_tickets_in_the_same_order():
    load_demo(_options())
    first = _ticket_names()
    first_contacts = list(Contact.objects.order_by("pk").values_list("first_name", "email"))

    load_demo(_options())

    assert len(first) == 200
    assert _ticket_names() == first
    assert list(Contact.objects.order_by("pk").values_list("first_name", "email")) == (
        first_contacts
    )


@pytest.mark.django_db
def test_another_seed_gives_other_tickets():
    load_demo(_options(seed=7))
    seven = _ticket_names()

    load_demo(_options(seed=8))

    assert _ticket_names() != seven


@pytest.mark.django_db
def test_ticket_state_follows_its_stage():
    load_demo(_options())

    tickets = list(Ticket.objects.select_related("stage"))
    closed = [t for t in tickets if t.stage.is_closed]
    assert all(t.is_open is (not t.stage.is_closed) for t in tickets)
    assert all(t.closed_at == t.last_activity_at for t in closed)
    assert all(t.closed_at is None for t in tickets if t.is_open)
    assert all(t.created_at <= t.last_activity_at <= NOW for t in tickets)
    assert all(t.last_activity_at >= NOW - dt.timedelta(days=180) for t in tickets)
    assert 0.25 < len(closed) / len(tickets) < 0.55
    assert all(t.preview == t.description[:200] for t in tickets)
    assert all(t.pipeline_id == t.stage.pipeline_id for t in tickets)


@pytest.mark.django_db
def test_a_share_of_tickets_is_unassigned_and_a_few_are_spam():
    load_demo(_options(tickets=2_000, contacts=300))

    total = Ticket.objects.count()
    unassigned = Ticket.objects.filter(owner__isnull=True).count()
    spam = Ticket.objects.filter(is_spam=True)
    assert 0.25 < unassigned / total < 0.36
    assert 0 < spam.count() < 0.03 * total
    assert not spam.filter(owner__isnull=False).exists()


@pytest.mark.django_db
def test_every_ticket_has_one_created_event_with_its_source():
    load_demo(_options())

    events = TicketEvent.objects.select_related("ticket")
    assert events.count() == Ticket.objects.count()
    assert {e.ticket_id for e in events} == set(Ticket.objects.values_list("pk", flat=True))
    for event in events:
        assert event.kind == TicketEventKind.CREATED
        assert event.data == {"source": event.ticket.source}
        assert event.created_at == event.ticket.created_at


@pytest.mark.django_db
@pytest.mark.parametrize("key", list(LOGINS), ids=list(LOGINS))
def test_demo_logins_sign_in(key):
    load_demo(_options())

    login = LOGINS[key]
    user = authenticate(None, username=login.email, password=login.password)

    assert user is not None
    assert user.email == login.email


@pytest.mark.django_db
def test_demo_logins_have_their_roles():
    load_demo(_options())

    admin, agent = _login("admin"), _login("agent")
    restricted, viewer = _login("restricted"), _login("viewer")
    assert admin.is_superuser
    assert agent.has_seat
    assert agent.can_manage_views
    assert not agent.is_superuser
    assert agent.ticket_access == TicketAccess.ALL
    assert agent.primary_team is not None
    assert agent.primary_team.name == "Support"
    assert restricted.ticket_access == TicketAccess.TEAM
    assert [t.name for t in restricted.teams.all()] == ["Billing"]
    assert not viewer.has_seat
    assert not viewer.can_use_workspace


@pytest.mark.django_db
def test_restricted_agent_sees_only_billing_and_own_tickets():
    load_demo(_options())

    restricted = _login("restricted")
    visible = visible_tickets(restricted)
    billing = Team.objects.get(name="Billing")
    assert 0 < visible.count() < Ticket.objects.count()
    assert not visible.exclude(team=billing).exclude(owner=restricted).exists()


@pytest.mark.django_db
def test_admin_and_agent_have_different_assigned_to_me_counts():
    report = load_demo(_options())

    admin, agent = _login("admin"), _login("agent")
    assert _assigned_to_me(agent) > _assigned_to_me(admin)
    assert (report.assigned_to_admin, report.assigned_to_agent) == (
        _assigned_to_me(admin),
        _assigned_to_me(agent),
    )


@pytest.mark.django_db
def test_even_a_tiny_load_separates_admin_and_agent():
    load_demo(_options(tickets=3, contacts=2, seed=1))

    assert count_assigned_to(_login("agent")) > count_assigned_to(_login("admin"))


@pytest.mark.django_db
def test_rerun_with_reset_replaces_the_data():
    load_demo(_options())
    users = sorted(User.objects.values_list("email", flat=True))
    names = _ticket_names()

    load_demo(_options())

    assert Ticket.objects.count() == 200
    assert TicketEvent.objects.count() == 200
    assert Contact.objects.count() == 40 + SALES_CONVERSATIONS
    assert sorted(User.objects.values_list("email", flat=True)) == users
    assert _ticket_names() == names
    login = LOGINS["agent"]
    assert authenticate(None, username=login.email, password=login.password) is not None


@pytest.mark.django_db
def test_rerun_without_reset_adds_tickets_and_reuses_people():
    load_demo(_options())
    users = User.objects.count()
    teams = Team.objects.count()

    load_demo(_options(reset=False))

    assert Ticket.objects.count() == 400
    assert TicketEvent.objects.count() == 400
    # 40 contacts a load, and the Sales inbox's senders once (demo/inboxes.py).
    assert Contact.objects.count() == 80 + SALES_CONVERSATIONS
    assert User.objects.count() == users
    assert Team.objects.count() == teams


@pytest.mark.django_db
def test_reset_keeps_other_users():
    outsider = User.objects.create_user(email="someone@example.com", password="x")

    load_demo(_options())
    load_demo(_options())

    assert User.objects.filter(pk=outsider.pk).exists()


@pytest.mark.django_db
def test_reset_follows_the_on_delete_rules_of_other_tables():
    load_demo(_options())
    ticket = Ticket.objects.order_by("pk").first()
    contact = Contact.objects.order_by("pk").first()
    inbox = Inbox.objects.order_by("pk").first()
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="Support mail")
    conversation = Conversation.objects.create(
        channel=channel, inbox=inbox, ticket=ticket, contact=contact
    )
    keeper = User.objects.create_user(email="keeper@example.com", password="x")
    about_ticket = Notification.objects.create(user=keeper, kind="mention", ticket=ticket)
    about_nothing = Notification.objects.create(user=keeper, kind="mention")

    load_demo(_options())

    conversation.refresh_from_db()
    assert conversation.ticket_id is None
    assert conversation.contact_id is None
    assert not Notification.objects.filter(pk=about_ticket.pk).exists()
    assert Notification.objects.filter(pk=about_nothing.pk).exists()
    assert Ticket.objects.count() == 200


@pytest.mark.django_db
def test_contacts_look_like_people():
    load_demo(_options(contacts=400))

    contacts = list(Contact.objects.all())
    names = " ".join(f"{c.first_name} {c.last_name}" for c in contacts)
    assert any(ch in names for ch in "åäöÅÄÖé")
    for contact in contacts:
        if contact.email:
            validate_email(contact.email)
    phones = {c.phone for c in contacts} | {c.mobile_phone for c in contacts}
    assert any(p.startswith("+467") for p in phones)  # Swedish mobiles
    assert all(p.startswith("+") for p in phones if p)  # every number in E.164
    assert sum(bool(c.company_name) for c in contacts) > len(contacts) / 2


@pytest.mark.django_db
def test_tickets_mix_english_and_swedish():
    load_demo(_options())

    descriptions = list(Ticket.objects.values_list("description", flat=True))
    assert any(d.startswith(("Hej", "God morgon")) for d in descriptions)
    assert any(d.startswith(("Hi", "Hello", "Good morning")) for d in descriptions)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, ["Support", "Billing", "Technical"]),
        (1, ["Billing", "Support", "Technical"]),
        (3, ["Support", "Billing", "Technical"]),
        (14, [*team_names(12), "Team 13", "Team 14"]),
    ],
    ids=["none", "one", "three", "more-than-named"],
)
def test_team_names_always_include_the_logins_teams(count, expected):
    names = team_names(count)

    assert sorted(names) == sorted(expected)
    assert len(names) == len(set(names))


@pytest.mark.django_db
def test_demo_command_prints_summary_and_logins():
    out = StringIO()

    call_command(
        "demo", "--tickets", "30", "--contacts", "5", "--agents", "2", "--reset", stdout=out
    )

    output = out.getvalue()
    assert "30 tickets" in output
    assert all(login.email in output for login in DEMO_LOGINS)
    assert Ticket.objects.count() == 30


@pytest.mark.django_db
def test_demo_command_can_leave_the_logins_to_its_caller():
    """scripts/run.sh prints the logins beside the address; the demo must not print them too."""
    out = StringIO()

    call_command(
        "demo", "--tickets", "3", "--contacts", "2", "--agents", "1", "--no-logins", stdout=out
    )

    output = out.getvalue()
    assert "3 tickets" in output
    assert not any(login.password in output for login in DEMO_LOGINS)


def _index_and_key_definitions() -> list[str]:
    tables = ("tickets_ticket", "tickets_ticketevent")
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name || ':' || coalesce(sql, '') FROM sqlite_master "
                "WHERE tbl_name IN (%s, %s)",
                tables,
            )
        else:
            cursor.execute(
                "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid IN (%s::regclass, %s::regclass) "
                "UNION ALL SELECT conname || pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid IN (%s::regclass, %s::regclass)",
                tables * 2,
            )
        return sorted(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_index_rebuild_restores_every_index_and_foreign_key(monkeypatch):
    before = _index_and_key_definitions()
    monkeypatch.setattr(bulk, "REBUILD_THRESHOLD", 0)

    report = load_demo(_options())

    assert "indexes" in report.timings
    assert len(before) > 10
    assert _index_and_key_definitions() == before
    assert Ticket.objects.count() == 200


@pytest.mark.django_db
def test_failed_load_keeps_indexes_and_data(monkeypatch):
    load_demo(_options())
    before = _index_and_key_definitions()
    monkeypatch.setattr(bulk, "REBUILD_THRESHOLD", 0)

    def broken(**kwargs: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(bulk, "create_ticket_events", broken)
    with pytest.raises(RuntimeError):
        load_demo(_options(seed=99))

    assert _index_and_key_definitions() == before
    assert Ticket.objects.count() == 200


def _built_on_threads(monkeypatch, fail_on: str = "") -> set[int]:
    """Spy on the pending-index builds: the threads they ran on; a build of an index of the
    table `fail_on` fails, as an interrupted build would."""
    threads: set[int] = set()
    build = bulk._build_pending_index

    def spy(index: PendingIndex, **kwargs: object) -> None:
        threads.add(threading.get_ident())
        if index.table == fail_on:
            raise RuntimeError("interrupted")
        build(index, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bulk, "_build_pending_index", spy)
    return threads


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes wait only there")
def test_indexes_are_built_after_the_commit_on_several_connections(monkeypatch):
    before = _index_and_key_definitions()
    monkeypatch.setattr(bulk, "REBUILD_THRESHOLD", 0)
    threads = _built_on_threads(monkeypatch)

    load_demo(_options())

    assert _index_and_key_definitions() == before
    assert not PendingIndex.objects.exists()
    assert len(threads) >= 2
    assert threading.get_ident() not in threads
    assert Ticket.objects.count() == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes wait only there")
def test_an_interrupted_index_build_is_reported_and_finished_later(monkeypatch):
    from django.core import checks

    before = _index_and_key_definitions()
    monkeypatch.setattr(bulk, "REBUILD_THRESHOLD", 0)
    _built_on_threads(monkeypatch, fail_on="tickets_ticket")

    with pytest.raises(RuntimeError, match="interrupted"):
        load_demo(_options())

    # The rows and foreign keys are in; the ticket indexes (and any a failure cancelled)
    # wait, recorded, and are named.
    assert Ticket.objects.count() == 200
    assert PendingIndex.objects.filter(table="tickets_ticket").exists()
    assert _index_and_key_definitions() != before
    warnings = [m for m in checks.run_checks(databases=["default"]) if m.id == "demo.W001"]
    assert len(warnings) == 1
    assert "svardesk demo --finish-indexes" in warnings[0].hint

    monkeypatch.undo()
    out = StringIO()
    call_command("demo", "--finish-indexes", stdout=out)

    assert "Built" in out.getvalue()
    assert _index_and_key_definitions() == before
    assert not PendingIndex.objects.exists()
    assert not [m for m in checks.run_checks(databases=["default"]) if m.id == "demo.W001"]


@pytest.mark.django_db
def test_nothing_to_finish_is_said_plainly():
    out = StringIO()
    call_command("demo", "--finish-indexes", stdout=out)
    assert "No index pending." in out.getvalue()
    assert not Ticket.objects.exists()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="lock_timeout is PostgreSQL's")
def test_load_gives_up_when_another_session_holds_the_tables():
    import psycopg

    # Given another session reading contacts in an open transaction (taken before this
    # test's transaction touches the table, or the two would wait on each other)
    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"],
        port=settings["PORT"] or None,
    )
    try:
        other.execute("SET lock_timeout = '5s'")  # never hang the test run
        other.execute("LOCK TABLE crm_contact IN ACCESS SHARE MODE")

        with pytest.raises(DemoDatabaseBusyError):
            load_demo(_options(lock_timeout_seconds=1))
    finally:
        other.close()

    assert not Ticket.objects.exists()
    assert not User.objects.filter(email=LOGINS["admin"].email).exists()


@pytest.mark.django_db
def test_demo_tickets_are_in_the_builtin_pipeline_and_read_swedish():
    from django.utils import translation

    load_demo(_options())

    tickets = list(Ticket.objects.select_related("stage", "pipeline"))
    assert {t.pipeline.builtin_key for t in tickets} == {"support"}
    assert {t.stage.builtin_key for t in tickets} <= {
        "new", "waiting_on_contact", "waiting_on_us", "closed"
    }  # fmt: skip
    with translation.override("sv"):
        assert {t.pipeline.display_name for t in tickets} == {"Supportflöde"}
        assert {t.stage.display_name for t in tickets} <= {
            "Ny", "Väntar på kontakt", "Väntar på oss", "Stängd"
        }  # fmt: skip


@pytest.mark.django_db
def test_a_load_with_no_teams_asked_for_still_gives_the_logins_their_teams():
    load_demo(_options(teams=0, tickets=5, contacts=2, agents=0))

    assert set(_login("agent").teams.values_list("name", flat=True)) == {"Support", "Technical"}


@pytest.mark.django_db(transaction=True)
def test_loaded_tickets_carry_the_search_words_the_database_would_write():
    """PostgreSQL: the loader writes each ticket's search words from Python (the trigger is
    off meanwhile); they must equal what the trigger writes, for every ticket, the trigger
    must be back on, and the id sequence must continue after the reserved ids."""
    if connection.vendor != "postgresql":
        pytest.skip("stored search words exist on PostgreSQL only")
    load_demo(_options(tickets=300))
    load_demo(_options(tickets=150, reset=False))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t JOIN search_ticket_words w "
            "ON w.ticket_id = t.id WHERE w.name = svardesk_words(t.name) "
            "AND w.body = svardesk_words(concat_ws(' ', t.name, t.description))"
        )
        assert cursor.fetchone()[0] == Ticket.objects.count() == 450
    from tests.factories import TicketFactory

    copy = TicketFactory(name="Brand new printer", description="")
    assert copy.pk > Ticket.objects.exclude(pk=copy.pk).order_by("-pk").first().pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT name::text FROM search_ticket_words WHERE ticket_id = %s", [copy.pk])
        assert cursor.fetchone()[0] == "'brand' 'new' 'printer'"
