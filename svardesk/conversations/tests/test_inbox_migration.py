"""Migrating a conversations inbox's channel into the help desk (`inbox_migration`): counts,
tickets only for conversations without one, the stage rule, resuming after a stop or a kill,
and a second run that changes nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from svardesk.conversations import inbox_migration as engine
from svardesk.conversations.models import (
    Channel,
    ChannelKind,
    Conversation,
    Inbox,
    InboxKind,
    InboxMigration,
    Message,
    MessageDirection,
)
from svardesk.tickets.models import Ticket
from tests.factories import ContactFactory, TicketFactory, default_pipeline

SVARDESK = [str(Path(sys.executable).parent / "svardesk")]
T0 = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)


def build_inbox(
    *, conversations: int, with_ticket: int = 0, answered: int = 0, name: str = "Sales"
) -> tuple[Inbox, Channel]:
    """A conversations inbox with an email channel and `conversations` threads, each opened by
    a customer; the first `with_ticket` have a ticket already, the next `answered` were
    answered last by the team. A chat channel and a help desk conversation stay put."""
    default_pipeline()
    help_desk = Inbox.objects.filter(kind=InboxKind.HELP_DESK).first() or Inbox.objects.create(
        name="Help desk", kind=InboxKind.HELP_DESK
    )
    inbox = Inbox.objects.create(name=name, kind=InboxKind.CONVERSATIONS)
    channel = Channel.objects.create(inbox=inbox, kind=ChannelKind.EMAIL, name="sales@acme.test")
    chat = Channel.objects.create(inbox=inbox, kind=ChannelKind.CHAT, name="Sales chat")
    desk_mail = Channel.objects.create(inbox=help_desk, kind=ChannelKind.EMAIL, name="desk")
    contact = ContactFactory(first_name="Åsa", email="asa@kund.example")
    convs = Conversation.objects.bulk_create(
        Conversation(
            channel=channel,
            inbox=inbox,
            contact=contact,
            subject=f"Question {i}" if i % 2 == 0 else "",
            last_message_at=T0 + dt.timedelta(hours=i, minutes=5),
            ticket=TicketFactory(name=f"Had {i}") if i < with_ticket else None,
        )
        for i in range(conversations)
    )
    messages = [
        Message(
            conversation=c,
            channel=channel,
            direction=MessageDirection.INBOUND,
            sender_address="asa@kund.example",
            body_text=f"Hello number {i}, about the invoice",
            created_at=T0 + dt.timedelta(hours=i),
        )
        for i, c in enumerate(convs)
    ]
    messages += [
        Message(
            conversation=c,
            channel=channel,
            direction=MessageDirection.OUTBOUND,
            body_text="Answered.",
            created_at=T0 + dt.timedelta(hours=i, minutes=5),
        )
        for i, c in enumerate(convs)
        if with_ticket <= i < with_ticket + answered
    ]
    Message.objects.bulk_create(messages)
    Conversation.objects.create(channel=chat, inbox=inbox, subject="chat stays")
    Conversation.objects.create(channel=desk_mail, inbox=help_desk, subject="desk stays")
    return inbox, channel


def _help_desk() -> Inbox:
    return Inbox.objects.get(kind=InboxKind.HELP_DESK)


@pytest.mark.django_db
def test_migration_moves_the_channel_and_every_conversation_with_tickets_for_those_without():
    # Given 7 conversations, 2 with a ticket already, 2 answered last by the team
    inbox, channel = build_inbox(conversations=7, with_ticket=2, answered=2)
    tickets_before = Ticket.objects.count()
    job, is_new = engine.prepare_migration(channel.pk, actor=None)

    # When it runs in batches of 3
    job = engine.run_migration(job.pk, batch_size=3)

    # Then everything moved, and only the 5 without a ticket got one
    channel.refresh_from_db()
    assert is_new
    assert channel.inbox == _help_desk()
    assert (job.status, job.total, job.moved, job.tickets_created) == ("done", 7, 7, 5)
    assert job.finished_at is not None
    assert Conversation.objects.filter(channel=channel, inbox=_help_desk()).count() == 7
    assert not Conversation.objects.filter(channel=channel, ticket=None).exists()
    assert Ticket.objects.count() == tickets_before + 5
    # The chat channel and its conversation stay in the source inbox
    assert Conversation.objects.get(subject="chat stays").inbox == inbox
    assert Channel.objects.get(name="Sales chat").inbox == inbox
    convs = list(Conversation.objects.filter(channel=channel).order_by("id"))
    assert [c.ticket.name for c in convs[:2]] == ["Had 0", "Had 1"]
    # Named from the subject, else the first message; created at the first message
    third, fourth = convs[2].ticket, convs[3].ticket
    assert third.name == "Question 2"
    assert fourth.name == "Hello number 3, about the invoice"
    assert third.created_at == T0 + dt.timedelta(hours=2)
    assert third.last_activity_at == T0 + dt.timedelta(hours=2, minutes=5)
    assert (third.source, third.contact_id) == ("EMAIL", convs[2].contact_id)
    # Stage rule: answered last by the team → closed; the customer wrote last → first stage
    assert [c.ticket.stage.name for c in convs[2:]] == ["Closed", "Closed", "New", "New", "New"]
    assert [c.ticket.is_open for c in convs[2:]] == [False, False, True, True, True]


@pytest.mark.django_db
def test_a_stopped_migration_resumes_where_it_stopped_and_a_second_run_does_nothing():
    _inbox, channel = build_inbox(conversations=8, with_ticket=1)
    job, _ = engine.prepare_migration(channel.pk, actor=None)

    # A run stopped after one batch of 3
    job = engine.run_migration(job.pk, batch_size=3, max_batches=1)
    assert (job.status, job.moved, job.tickets_created) == ("running", 3, 2)
    first_three = list(Conversation.objects.filter(channel=channel).order_by("id")[:3])
    assert job.last_conversation_id == first_three[-1].pk
    assert all(c.inbox == _help_desk() for c in first_three)
    # New mail on the moved channel already lands in the help desk (the channel moved first)
    assert Channel.objects.get(pk=channel.pk).inbox == _help_desk()

    # Resumed
    job = engine.run_migration(job.pk, batch_size=3)
    assert (job.status, job.total, job.moved, job.tickets_created) == ("done", 8, 8, 7)
    tickets = Ticket.objects.count()

    # A second run changes nothing
    job = engine.run_migration(job.pk, batch_size=3)
    assert (job.moved, job.tickets_created) == (8, 7)
    assert Ticket.objects.count() == tickets
    assert Conversation.objects.filter(channel=channel).values("ticket").distinct().count() == 8


@pytest.mark.django_db
def test_a_failed_batch_marks_the_job_failed_and_a_retry_resumes(monkeypatch):
    _inbox, channel = build_inbox(conversations=5)
    job, _ = engine.prepare_migration(channel.pk, actor=None)
    real = engine.create_tickets
    calls = {"n": 0}

    def failing_second_batch(new, *, actor):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return real(new, actor=actor)

    monkeypatch.setattr(engine, "create_tickets", failing_second_batch)
    with pytest.raises(RuntimeError):
        engine.run_migration(job.pk, batch_size=2)
    job.refresh_from_db()
    assert (job.status, job.moved, job.error) == ("failed", 2, "database went away")
    assert Ticket.objects.count() == 2  # the failed batch rolled back whole

    # Retrying (as the page's Start does for a failed job) resumes it
    again, is_new = engine.prepare_migration(channel.pk, actor=None)
    assert (again.pk, is_new, again.status) == (job.pk, False, "queued")
    done = engine.run_migration(job.pk, batch_size=2)
    assert (done.status, done.moved, done.tickets_created, done.error) == ("done", 5, 5, "")
    assert Ticket.objects.count() == 5


@pytest.mark.django_db
def test_a_second_start_while_one_runs_is_refused_and_changes_nothing(super_admin):
    _inbox, channel = build_inbox(conversations=2)
    engine.prepare_migration(channel.pk, actor=super_admin)
    with pytest.raises(engine.InboxMigrationError, match="already being moved"):
        engine.prepare_migration(channel.pk, actor=super_admin)
    assert InboxMigration.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "message"),
    [
        pytest.param(ChannelKind.CHAT, "Chat cannot be migrated", id="chat"),
        pytest.param(ChannelKind.MESSENGER, "Messenger cannot be migrated", id="messenger"),
        pytest.param(ChannelKind.CALL, "Calls cannot be migrated", id="calls"),
    ],
)
def test_only_email_and_form_channels_can_be_migrated(kind, message):
    inbox = Inbox.objects.create(name="Other", kind=InboxKind.CONVERSATIONS)
    channel = Channel.objects.create(inbox=inbox, kind=kind, name="x")
    with pytest.raises(engine.InboxMigrationError, match=message):
        engine.prepare_migration(channel.pk, actor=None)
    assert not InboxMigration.objects.exists()


@pytest.mark.django_db
def test_a_channel_in_the_help_desk_already_is_refused():
    _inbox, channel = build_inbox(conversations=1)
    job, _ = engine.prepare_migration(channel.pk, actor=None)
    engine.run_migration(job.pk)
    with pytest.raises(engine.InboxMigrationError, match="in the help desk already"):
        engine.prepare_migration(channel.pk, actor=None)


@pytest.mark.django_db
def test_start_queues_the_task_after_commit_only(super_admin, django_capture_on_commit_callbacks):
    from huey.contrib.djhuey import HUEY

    _inbox, channel = build_inbox(conversations=3)
    HUEY.immediate = True
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = engine.start_migration(channel.pk, actor=super_admin)
        job.refresh_from_db()
        assert (job.status, job.moved, len(callbacks)) == ("queued", 0, 1)
        callbacks[0]()  # the commit: Huey (immediate) runs the task
    finally:
        HUEY.immediate = False
    job.refresh_from_db()
    assert (job.status, job.moved, job.tickets_created, job.started_by) == (
        "done",
        3,
        3,
        super_admin,
    )


@pytest.mark.django_db
def test_the_command_migrates_an_inbox_by_name_and_prints_a_summary():
    _inbox, channel = build_inbox(conversations=4, with_ticket=1)
    out, err = StringIO(), StringIO()
    call_command("migrate_inbox", "sales", "--batch-size", "3", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "4 conversations moved, 3 tickets created"
    assert "Skipped 'Sales chat': Chat cannot be migrated" in err.getvalue()
    assert InboxMigration.objects.get(channel=channel).status == "done"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["Nowhere"], "No inbox 'Nowhere'", id="unknown-inbox"),
        pytest.param(["Help desk"], "is the help desk", id="help-desk"),
        pytest.param(["Sales", "--channel", "CHAT"], "Chat cannot be migrated", id="chat-channel"),
        pytest.param(["Sales", "--channel", "999999"], "has no channel 999999", id="no-channel"),
    ],
)
def test_the_command_refuses_clearly(args, message):
    build_inbox(conversations=1)
    chat = Channel.objects.get(kind=ChannelKind.CHAT)
    args = [str(chat.pk) if a == "CHAT" else a for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("migrate_inbox", *args, stdout=StringIO(), stderr=StringIO())
    assert not InboxMigration.objects.exists()
    assert not Conversation.objects.filter(inbox__kind=InboxKind.HELP_DESK, subject="").exists()


# --- A real process killed half-way ------------------------------------------------------


def _subprocess_env(tmp_path: Path) -> dict[str, str]:
    """The environment that points `svardesk` at this test's database: PostgreSQL's test
    database by URL; SQLite's in-memory one is copied to a file first (see `_sqlite_file`)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["SVARDESK_DATA_DIR"] = str(tmp_path)
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db["USER"] or "postgres"
        host = db["HOST"] or "127.0.0.1"
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["DATABASE_URL"] = (
            f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env["SVARDESK_DB_POOL"] = "0"
    else:
        env["DATABASE_URL"] = ""
    return env


def _copy_sqlite(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    source.backup(target)


@pytest.mark.django_db(transaction=True)
def test_a_migration_killed_half_way_and_run_again_moves_each_conversation_once(tmp_path):
    # Given 60 conversations, 10 of which have a ticket already
    _inbox, channel = build_inbox(conversations=60, with_ticket=10)
    had_ticket = set(
        Conversation.objects.filter(channel=channel, ticket__isnull=False).values_list(
            "ticket", flat=True
        )
    )
    tickets_before = Ticket.objects.count()
    env = _subprocess_env(tmp_path)
    sqlite_file = tmp_path / "svardesk.sqlite3"
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(sqlite_file)) as target:
            _copy_sqlite(connection.connection, target)
    command = [*SVARDESK, "migrate_inbox", "Sales", "--batch-size", "4", "--pause", "0.15"]

    def job_state() -> tuple[int, int] | None:
        if connection.vendor == "sqlite":
            with closing(sqlite3.connect(sqlite_file)) as db:
                return db.execute(
                    "SELECT moved, total FROM conversations_inboxmigration"
                ).fetchone()
        return InboxMigration.objects.filter(channel=channel).values_list("moved", "total").first()

    # When the command is killed (SIGKILL) once it is past half-way
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 120
    state = None
    while time.monotonic() < deadline and process.poll() is None:
        state = job_state()
        if state and state[1] and state[0] * 2 >= state[1]:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = job_state()
    assert killed_at is not None
    assert 30 <= killed_at[0] < 60

    # And run again to its end
    done = subprocess.run(command[:5], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "60 conversations moved, 50 tickets created"
    if connection.vendor == "sqlite":
        with closing(sqlite3.connect(sqlite_file)) as source:
            _copy_sqlite(source, connection.connection)

    # Then every conversation is in the help desk exactly once, with one ticket each
    job = InboxMigration.objects.get(channel=channel)
    assert (job.status, job.total, job.moved, job.tickets_created) == ("done", 60, 60, 50)
    moved = Conversation.objects.filter(channel=channel)
    assert moved.count() == 60
    assert moved.filter(inbox__kind=InboxKind.HELP_DESK).count() == 60
    ticket_ids = list(moved.values_list("ticket", flat=True))
    assert None not in ticket_ids
    assert len(set(ticket_ids)) == 60
    assert had_ticket <= set(ticket_ids)
    assert Ticket.objects.count() == tickets_before + 50
    assert InboxMigration.objects.count() == 1
    assert job.finished_at is not None
    assert job.finished_at <= timezone.now()
