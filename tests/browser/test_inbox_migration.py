"""Settings → Inboxes → Move to help desk…: the confirm page, the start, and the progress bar
reaching done, at 1366x768 and 1280x720 (what a user needs stays inside the window)."""

import pytest
from playwright.sync_api import expect

from svardesk.conversations.models import Conversation, InboxKind, InboxMigration
from svardesk.conversations.tests.test_inbox_migration import build_inbox
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tasks_now():  # type: ignore[no-untyped-def]
    """The queued migration runs in the server's request thread after commit (no consumer)."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield HUEY
    HUEY.immediate = False


@pytest.mark.parametrize(
    "size",
    [
        pytest.param({"width": 1366, "height": 768}, id="1366x768"),
        pytest.param({"width": 1280, "height": 720}, id="1280x720"),
    ],
)
def test_a_super_admin_moves_a_channel_to_the_help_desk_and_sees_it_finish(
    page, super_admin, tasks_now, size
):
    page.set_viewport_size(size)
    _inbox, channel = build_inbox(conversations=12, with_ticket=2, answered=3)
    log_in(page, super_admin.email)
    page.goto("/settings/inboxes/")

    move = page.get_by_role("link", name=f"Move to help desk… {channel.name}")
    expect(move).to_be_in_viewport()
    move.click()
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    expect(page.get_by_text("All its 12 historical conversations move too")).to_be_visible()
    start = page.get_by_role("button", name="Move to help desk")
    expect(start).to_be_in_viewport()
    start.click()

    progress = page.get_by_role("progressbar", name="Progress")
    expect(progress).to_be_in_viewport()
    expect(progress).to_have_attribute("value", "100")
    expect(page.get_by_text("12 of 12 conversations moved")).to_be_visible()
    job = InboxMigration.objects.get(channel=channel)
    assert (job.status, job.moved, job.tickets_created) == ("done", 12, 10)
    assert (
        Conversation.objects.filter(channel=channel, inbox__kind=InboxKind.HELP_DESK).count() == 12
    )
