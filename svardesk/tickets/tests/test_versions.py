"""Every write to a ticket bumps its version, so an edit made on an older view of the ticket
is refused (StaleTicketError) instead of overwriting the change; an edit must say which
version it was made on."""

import pytest
from django.urls import reverse

from svardesk.tickets import services
from svardesk.tickets.exceptions import StaleTicketError
from svardesk.tickets.models import Stage, Ticket, TicketEvent
from tests.factories import TicketFactory, default_pipeline, stage_named

pytestmark = pytest.mark.django_db


def _version(ticket: Ticket) -> int:
    return Ticket.objects.values_list("version", flat=True).get(pk=ticket.pk)


def test_marking_spam_and_back_bumps_the_version(agent):
    ticket = TicketFactory(priority="LOW")
    listed = _version(ticket)
    assert services.mark_spam([ticket.pk], actor=agent, is_spam=True) == 1
    assert _version(ticket) == listed + 1
    # An edit made on the version from before the spam mark is refused, and changes nothing.
    with pytest.raises(StaleTicketError):
        services.update_ticket(
            ticket.pk, actor=agent, changes={"priority": "HIGH"}, expected_version=listed
        )
    assert Ticket.objects.get(pk=ticket.pk).priority == "LOW"
    assert services.mark_spam([ticket.pk], actor=agent, is_spam=False) == 1
    assert _version(ticket) == listed + 2
    # Nothing to change: no new version.
    assert services.mark_spam([ticket.pk], actor=agent, is_spam=False) == 0
    assert _version(ticket) == listed + 2


def test_a_status_turning_closed_bumps_its_tickets_versions(super_admin):
    ticket = TicketFactory(stage=stage_named("Waiting on us"))
    listed = _version(ticket)
    services.update_stage(
        stage_named("Waiting on us"), actor=super_admin, name="Waiting on us", is_closed=True
    )
    assert _version(ticket) == listed + 1
    assert Ticket.objects.get(pk=ticket.pk).is_open is False


def test_deleting_a_status_bumps_the_moved_tickets_versions(super_admin):
    pipeline = default_pipeline()
    doomed = services.add_stage(pipeline, actor=super_admin, name="Parked", is_closed=False)
    ticket = TicketFactory(stage=doomed)
    listed = _version(ticket)
    assert services.delete_stage(doomed, actor=super_admin, move_to=stage_named("New")) == 1
    assert _version(ticket) == listed + 1
    assert not Stage.objects.filter(pk=doomed.pk).exists()


@pytest.mark.parametrize(
    "version",
    [pytest.param(None, id="missing"), pytest.param("", id="empty"), pytest.param("x", id="junk")],
)
def test_header_edit_without_a_version_is_refused_and_changes_nothing(
    client, agent, support_team, version
):
    ticket = TicketFactory(team=support_team, priority="MEDIUM")
    listed = _version(ticket)
    data = {"priority": "URGENT"}
    if version is not None:
        data["version"] = version
    client.force_login(agent)
    response = client.post(
        reverse("tickets:update_properties", args=[ticket.pk]), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "which version of the ticket" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.version) == ("MEDIUM", listed)
    assert not TicketEvent.objects.filter(ticket=ticket, kind="property_changed").exists()


def test_sidebar_edit_without_a_version_is_refused_and_changes_nothing(client, agent, support_team):
    ticket = TicketFactory(team=support_team, priority="MEDIUM")
    client.force_login(agent)
    response = client.post(
        reverse("tickets:edit_property", args=[ticket.pk, "priority"]), {"value": "URGENT"}
    )
    assert response.status_code == 422
    assert "which version of the ticket" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).priority == "MEDIUM"


def test_the_ticket_page_sends_the_version_with_every_edit(client, agent, support_team):
    ticket = TicketFactory(team=support_team)
    client.force_login(agent)
    page = client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    header_form = page.split('class="header-fields"', 1)[1].split("</form>", 1)[0]
    assert f'<input type="hidden" name="version" value="{ticket.version}">' in header_form
    assert "data-assign-to-me" in header_form  # inside the form: it posts the version too
    editor = client.get(reverse("tickets:edit_property", args=[ticket.pk, "priority"]))
    assert f'name="version" value="{ticket.version}"' in editor.content.decode()


@pytest.mark.django_db(transaction=True)
def test_update_ticket_holds_the_tickets_row_until_it_commits(agent):
    """The ticket is read locked (SELECT … FOR UPDATE, compiled once): a second writer waits
    for the first to commit and then sees its version, so neither change is lost."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite serialises whole transactions)")
    ticket = TicketFactory(priority="LOW")
    first_version = _version(ticket)
    inside = threading.Event()
    release = threading.Event()
    outcome: list[object] = []

    def first_writer() -> None:
        try:
            with transaction.atomic():
                services.update_ticket(ticket.pk, actor=agent, changes={"priority": "HIGH"})
                inside.set()
                release.wait(10)
        finally:
            connections.close_all()

    def second_writer() -> None:
        try:
            services.update_ticket(
                ticket.pk,
                actor=agent,
                changes={"priority": "URGENT"},
                expected_version=first_version,
            )
            outcome.append("written")
        except StaleTicketError:
            outcome.append("stale")
        finally:
            connections.close_all()

    holder = threading.Thread(target=first_writer)
    holder.start()
    assert inside.wait(10)
    waiter = threading.Thread(target=second_writer)
    waiter.start()
    waiter.join(0.5)
    assert waiter.is_alive()  # blocked on the row lock
    release.set()
    holder.join(10)
    waiter.join(10)

    assert outcome == ["stale"]  # it read the committed version, not the one before
    assert Ticket.objects.get(pk=ticket.pk).priority == "HIGH"


@pytest.mark.parametrize("ticket_id", [999_999_999, "999999999"])
def test_update_ticket_of_an_unknown_id_raises_does_not_exist(agent, ticket_id):
    with pytest.raises(Ticket.DoesNotExist):
        services.update_ticket(ticket_id, actor=agent, changes={"priority": "HIGH"})
