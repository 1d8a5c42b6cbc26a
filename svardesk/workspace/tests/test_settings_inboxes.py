"""Settings → Inboxes: who may use it, creating and renaming inboxes, the irreversible
"Move to help desk" confirm and start, the progress fragment, and a second start refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from svardesk.conversations import inbox_migration as engine
from svardesk.conversations.models import Channel, ChannelKind, Inbox, InboxKind, InboxMigration
from svardesk.conversations.tests.test_inbox_migration import build_inbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales():  # type: ignore[no-untyped-def]
    return build_inbox(conversations=3, with_ticket=1)


@pytest.fixture
def tasks_later():  # type: ignore[no-untyped-def]
    """Huey keeps what the view queues (no consumer runs in these tests)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = False
    HUEY.storage.flush_all()
    yield HUEY
    HUEY.storage.flush_all()


def _urls(channel: Channel, job: InboxMigration | None = None) -> list[tuple[str, str]]:
    urls = [
        ("get", reverse("settings:inboxes")),
        ("post", reverse("settings:inbox_create")),
        ("get", reverse("settings:inbox_rename", args=[channel.inbox_id])),
        ("get", reverse("settings:inbox_migrate", args=[channel.pk])),
        ("post", reverse("settings:inbox_migrate", args=[channel.pk])),
    ]
    if job is not None:
        urls += [
            ("get", reverse("settings:inbox_migration", args=[job.pk])),
            ("get", reverse("settings:inbox_migration_progress", args=[job.pk])),
        ]
    return urls


def test_an_agent_without_account_access_gets_403_everywhere_and_nothing_changes(
    client, agent, sales
):
    _inbox, channel = sales
    job, _ = engine.prepare_migration(channel.pk, actor=None)
    client.force_login(agent)
    inboxes = Inbox.objects.count()
    for method, url in _urls(channel, job):
        response = getattr(client, method)(url, {"name": "Hijack"})
        assert response.status_code == 403, url
    assert Inbox.objects.count() == inboxes
    assert InboxMigration.objects.count() == 1
    assert Channel.objects.get(pk=channel.pk).inbox.kind == InboxKind.CONVERSATIONS


def test_the_list_shows_inboxes_channels_and_what_can_move(client, super_admin, sales):
    inbox, channel = sales
    messenger = Channel.objects.create(inbox=inbox, kind=ChannelKind.MESSENGER, name="Page")
    client.force_login(super_admin)

    response = client.get(reverse("settings:inboxes"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Sales" in html
    assert "sales@acme.test" in html
    assert reverse("settings:inbox_migrate", args=[channel.pk]) in html
    assert reverse("settings:inbox_migrate", args=[messenger.pk]) not in html
    assert "Facebook Messenger cannot be migrated" in html
    assert "Chat cannot be migrated" in html
    # The help desk's own channel is listed without a move
    desk = Channel.objects.get(name="desk")
    assert "desk" in html
    assert reverse("settings:inbox_migrate", args=[desk.pk]) not in html


def test_an_account_access_user_creates_and_renames_an_inbox(client, agent):
    agent.has_account_access = True
    agent.save(update_fields=["has_account_access"])
    client.force_login(agent)

    created = client.post(reverse("settings:inbox_create"), {"name": "  Partners  "})
    inbox = Inbox.objects.get(name="Partners")
    renamed = client.post(reverse("settings:inbox_rename", args=[inbox.pk]), {"name": "Resellers"})
    empty = client.post(reverse("settings:inbox_rename", args=[inbox.pk]), {"name": "  "})

    assert created.status_code == 302
    assert inbox.kind == InboxKind.CONVERSATIONS
    assert renamed.status_code == 302
    assert empty.status_code == 422
    inbox.refresh_from_db()
    assert inbox.name == "Resellers"


def test_the_confirm_page_says_it_is_irreversible_with_the_counts(client, super_admin, sales):
    _inbox, channel = sales
    client.force_login(super_admin)

    response = client.get(reverse("settings:inbox_migrate", args=[channel.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "This cannot be undone." in html
    assert "All its 3 historical conversations move too" in html
    assert "tickets are created for the 2 without one" in html
    assert not InboxMigration.objects.exists()


def test_starting_queues_the_job_shows_progress_and_refuses_a_second_start(
    client, super_admin, sales, tasks_later, django_capture_on_commit_callbacks
):
    _inbox, channel = sales
    client.force_login(super_admin)
    url = reverse("settings:inbox_migrate", args=[channel.pk])

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url)

    job = InboxMigration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("settings:inbox_migration", args=[job.pk])
    assert (job.status, job.started_by, len(callbacks)) == ("queued", super_admin, 1)
    assert len(tasks_later.pending()) == 1  # the task waits for the consumer
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert 'hx-trigger="every 2s"' in page
    # A second start while it is queued goes to its progress page and makes no job
    again = client.post(url)
    assert again.status_code == 302
    assert InboxMigration.objects.count() == 1


def test_the_progress_fragment_follows_the_job_and_stops_polling_when_done(
    client, super_admin, sales
):
    _inbox, channel = sales
    job, _ = engine.prepare_migration(channel.pk, actor=super_admin)
    client.force_login(super_admin)
    url = reverse("settings:inbox_migration_progress", args=[job.pk])

    job = engine.run_migration(job.pk, batch_size=2, max_batches=1)
    halfway = client.get(url).content.decode()
    engine.run_migration(job.pk, batch_size=2)
    done = client.get(url).content.decode()

    assert 'value="66"' in halfway
    assert "2 of 3 conversations moved" in halfway
    assert 'hx-trigger="every 2s"' in halfway
    assert 'value="100"' in done
    assert "3 of 3 conversations moved" in done
    assert "hx-trigger" not in done
    assert "<html" not in done  # the fragment alone


def test_a_failed_job_offers_try_again_which_resumes_it(client, super_admin, sales):
    _inbox, channel = sales
    job, _ = engine.prepare_migration(channel.pk, actor=super_admin)
    InboxMigration.objects.filter(pk=job.pk).update(status="failed", error="disk full")
    client.force_login(super_admin)

    confirm = client.get(reverse("settings:inbox_migrate", args=[channel.pk])).content.decode()
    assert "disk full" in confirm
    assert "Try again" in confirm
    response = client.post(reverse("settings:inbox_migrate", args=[channel.pk]))

    assert response.status_code == 302
    job.refresh_from_db()
    assert InboxMigration.objects.count() == 1
    assert job.status in ("queued", "done")


def test_a_chat_channel_cannot_be_started(client, super_admin, sales):
    chat = Channel.objects.get(kind=ChannelKind.CHAT)
    client.force_login(super_admin)
    response = client.post(reverse("settings:inbox_migrate", args=[chat.pk]))
    assert response.status_code == 409
    assert "Chat cannot be migrated" in response.content.decode()
    assert not InboxMigration.objects.exists()
