"""Deleting tickets for good (the API's archive). The workspace never deletes a ticket; a
script may, and then the ticket's timeline, SLA record and associations go with it, while its
conversations stay without a ticket (they belong to their inbox and keep their messages)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from svardesk.accounts.models import User
from svardesk.core.on_commit import after_commit
from svardesk.crm import associations
from svardesk.tickets.models import Ticket
from svardesk.tickets.signals import ticket_changed, tickets_deleted


def _announce_deleted(ticket_ids: list[int], actor_id: int | None) -> None:
    tickets_deleted.send(sender=Ticket, ticket_ids=ticket_ids, actor_id=actor_id)
    for ticket_id in ticket_ids:
        # Open ticket pages and lists refresh and find the ticket gone.
        ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


@transaction.atomic
def delete_tickets(ticket_ids: Iterable[int], *, actor: User | None) -> list[int]:
    """Delete the tickets that exist among `ticket_ids` (the caller checked the actor may);
    returns their ids, ascending. Rows are locked in primary-key order so two deletes (or a
    delete and an edit) never deadlock. Announced after commit (`tickets_deleted`, then
    `ticket_changed` per ticket)."""
    wanted = sorted({int(pk) for pk in ticket_ids})
    if not wanted:
        return []
    ids = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    for ticket_id in ids:
        associations.forget_record(associations.TICKET, ticket_id)
    Ticket.objects.filter(pk__in=ids).delete()
    after_commit(_announce_deleted, ids, actor.pk if actor else None)
    return ids
