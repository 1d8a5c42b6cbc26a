"""Deleting tickets: the rows, their timelines and associations go; announcements only after
commit."""

import pytest

from svardesk.crm import associations
from svardesk.crm.models import Association, Contact
from svardesk.tickets.deletion import delete_tickets
from svardesk.tickets.models import Ticket, TicketEvent, TicketRedirect
from svardesk.tickets.signals import ticket_changed, tickets_deleted
from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    got: list[tuple[str, object]] = []

    def on_deleted(sender, *, ticket_ids, actor_id, **kwargs):
        got.append(("deleted", (ticket_ids, actor_id)))

    def on_changed(sender, *, ticket_id, actor_id, **kwargs):
        got.append(("changed", ticket_id))

    tickets_deleted.connect(on_deleted, weak=False)
    ticket_changed.connect(on_changed, weak=False)
    yield got
    tickets_deleted.disconnect(on_deleted)
    ticket_changed.disconnect(on_changed)


def test_deleting_removes_tickets_events_redirects_and_associations(
    super_admin, heard, django_capture_on_commit_callbacks
):
    contact = ContactFactory()
    doomed = TicketFactory(contact=contact)
    TicketEvent.objects.create(ticket=doomed, kind="created", created_at=doomed.created_at)
    TicketRedirect.objects.create(old_id=9_999, ticket=doomed, merged_at=doomed.created_at)
    kept = TicketFactory(contact=contact)

    with django_capture_on_commit_callbacks(execute=True):
        deleted = delete_tickets([doomed.pk, 123_456_789, doomed.pk], actor=super_admin)

    assert deleted == [doomed.pk]
    assert list(Ticket.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not TicketEvent.objects.filter(ticket_id=doomed.pk).exists()
    assert not TicketRedirect.objects.filter(old_id=9_999).exists()
    assert not Association.objects.filter(from_type="ticket", from_id=doomed.pk).exists()
    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(associations.associated_ids("contact", contact.pk, "ticket")) == [kept.pk]
    assert heard == [("deleted", ([doomed.pk], super_admin.pk)), ("changed", doomed.pk)]


def test_nothing_is_announced_when_the_transaction_rolls_back(
    super_admin, heard, django_capture_on_commit_callbacks
):
    from django.db import transaction

    ticket = TicketFactory()

    def delete_then_fail():
        with transaction.atomic():
            delete_tickets([ticket.pk], actor=super_admin)
            raise RuntimeError("changed my mind")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        delete_then_fail()
    assert callbacks == []
    assert heard == []
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_unknown_ids_delete_nothing(super_admin, heard, django_capture_on_commit_callbacks):
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert delete_tickets([ticket.pk + 1000], actor=super_admin) == []
    assert callbacks == []
    assert Ticket.objects.count() == 1
