"""Merging two tickets into a new one, and what a retired ticket id means now.

A merge makes a **new** ticket (a new id, as HubSpot does) holding both tickets' timelines,
associations, conversations and SLA record, then removes the two old rows; each old id — and
every id they had absorbed before — keeps answering through a `TicketRedirect` to the new
ticket, so links, API reads and email replies still find it. The primary's property values
win; a property the primary leaves empty takes the other's (as merging contacts does); the
create date is the older one. Apps above tickets move what they keep per ticket in their
receivers of `tickets_merging` (conversations, SLA timers), inside the same transaction:
if anything fails, both tickets stay exactly as they were. Merges cannot be undone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import ForeignKey, OneToOneField
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.core.on_commit import after_commit
from svardesk.crm import associations
from svardesk.tickets.exceptions import TicketMergeError
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind, TicketRedirect
from svardesk.tickets.queries import visible_tickets
from svardesk.tickets.signals import ticket_changed, tickets_merged, tickets_merging

# HubSpot refuses records involved in 250 or more merges combined.
MAX_MERGES = 250

# Copied from the primary, or from the other ticket where the primary's is empty.
_FILLED_FIELDS = (
    "description",
    "priority",
    "category",
    "owner_id",
    "team_id",
    "contact_id",
    "external_id",
)
# The primary's as they are (the stage decides is_open; SLA columns: see sla.merging).
_PRIMARY_FIELDS = (
    "name",
    "pipeline_id",
    "stage_id",
    "source",
    "is_open",
    "is_spam",
    "closed_at",
    "sla_first_response_due",
    "sla_first_response_status",
    "sla_next_response_due",
    "sla_next_response_status",
    "sla_close_due",
    "sla_close_status",
)
# What the latest message left on a ticket: from whichever had the later activity.
_LATEST_FIELDS = ("preview", "last_message_author_id")


def resolve_ticket_id(pk: int) -> int | None:
    """The live ticket an id means now: itself, or the ticket a merge moved it into; None
    when there is neither. One query (ids are never reused, so at most one row answers)."""
    live = Ticket.objects.filter(pk=pk).order_by().values_list("pk", flat=True)
    moved = TicketRedirect.objects.filter(old_id=pk).order_by().values_list("ticket_id", flat=True)
    found = list(live.union(moved, all=True)[:1])
    return found[0] if found else None


@transaction.atomic
def merge_tickets(
    *, primary: Ticket, other: Ticket, actor: User | None, now: dt.datetime | None = None
) -> Ticket:
    """Merge `other` and `primary` into a new ticket and return it (see the module's
    docstring). The actor must see both tickets (None: the system). Raises TicketMergeError
    for one ticket twice, a ticket merged away or deleted meanwhile, one out of the actor's
    scope, or tickets past the merge limit; nothing changes then."""
    if primary.pk == other.pk:
        raise TicketMergeError(_("A ticket cannot be merged with itself."), code="same")
    now = now or timezone.now()
    ids = [primary.pk, other.pk]
    # Locked in id order, as every multi-ticket write does, so two merges cannot deadlock.
    locked = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) < 2:
        raise TicketMergeError(
            _("That ticket was merged or deleted meanwhile. Open it again and retry."),
            code="gone",
        )
    if actor is not None and visible_tickets(actor).filter(pk__in=ids).count() < 2:
        raise TicketMergeError(_("No such ticket."), code="not_found")
    if TicketRedirect.objects.filter(ticket_id__in=ids).count() + 2 > MAX_MERGES:
        raise TicketMergeError(
            _("These tickets already hold too many merged tickets to merge again."),
            code="too_many",
        )
    keep, absorbed = locked[primary.pk], locked[other.pk]
    target = _new_ticket(keep, absorbed, now=now)

    TicketEvent.objects.filter(ticket_id__in=ids).update(ticket=target)
    TicketEvent.objects.create(
        ticket=target,
        actor=actor,
        kind=TicketEventKind.MERGED,
        # [id, name] of each, primary first: the timeline names them as they were.
        data={"tickets": [[keep.pk, keep.name], [absorbed.pk, absorbed.name]]},
        created_at=now,
    )
    _combine_associations(target, keep, absorbed)

    tickets_merging.send(sender=Ticket, target=target, source_ids=ids, now=now, actor=actor)
    _move_remaining_rows(ids, target)

    # Ids the two had absorbed point at the new ticket directly: chains stay one step long.
    TicketRedirect.objects.filter(ticket_id__in=ids).update(ticket=target)
    TicketRedirect.objects.bulk_create(
        TicketRedirect(old_id=pk, ticket=target, merged_at=now) for pk in ids
    )
    Ticket.objects.filter(merged_into_id__in=ids).update(merged_into=target)
    Ticket.objects.filter(pk__in=ids).delete()

    merged_ids = sorted(
        TicketRedirect.objects.filter(ticket=target).values_list("old_id", flat=True)
    )
    actor_id = actor.pk if actor else None
    after_commit(
        tickets_merged.send,
        sender=Ticket,
        ticket_id=target.pk,
        merged_ids=merged_ids,
        actor_id=actor_id,
    )
    # Open pages of the old ids refresh too, and their address now leads to the new ticket.
    for pk in (target.pk, *ids):
        after_commit(ticket_changed.send, sender=Ticket, ticket_id=pk, actor_id=actor_id)
    return target


def _new_ticket(keep: Ticket, absorbed: Ticket, *, now: dt.datetime) -> Ticket:
    values: dict[str, Any] = {name: getattr(keep, name) for name in _PRIMARY_FIELDS}
    for name in _FILLED_FIELDS:
        own = getattr(keep, name)
        values[name] = own if own not in (None, "") else getattr(absorbed, name)
    latest = max((keep, absorbed), key=lambda t: (t.last_activity_at, t.pk))
    for name in _LATEST_FIELDS:
        values[name] = getattr(latest, name)
    custom = dict(absorbed.custom or {})
    custom.update({k: v for k, v in (keep.custom or {}).items() if v not in (None, "", [])})
    values["custom"] = custom
    values["last_activity_at"] = latest.last_activity_at
    if values["is_open"]:
        values["closed_at"] = None
    elif values["closed_at"] is None:
        values["closed_at"] = now
    target = Ticket.objects.create(**values)
    # created_at is set on insert (auto_now_add): the older ticket's is written after.
    created = min(keep.created_at, absorbed.created_at)
    Ticket.objects.filter(pk=target.pk).update(created_at=created, updated_at=now)
    target.created_at, target.updated_at = created, now
    return target


def _combine_associations(target: Ticket, keep: Ticket, absorbed: Ticket) -> None:
    """Both tickets' records, once each; the primary's primary contact and company stay
    primary (the other's stay associated), so the primary's are moved first."""
    associations.move_associations(associations.TICKET, keep.pk, target.pk)
    associations.move_associations(associations.TICKET, absorbed.pk, target.pk)
    # Ticket.contact mirrors the primary contact association: keep both in step, also when
    # only the other ticket had a contact (or a mirror without its association row).
    if target.contact_id is not None:
        associations.set_ticket_contact(target.pk, target.contact_id)


def _move_remaining_rows(ids: list[int], target: Ticket) -> None:
    """Rows of any other app that point at the old tickets through a plain foreign key and
    that no receiver moved (a form submission's ticket, say): they follow to the new ticket
    instead of being deleted with the old rows or losing their ticket."""
    handled = {(TicketEvent, "ticket"), (TicketRedirect, "ticket"), (Ticket, "merged_into")}
    for relation in Ticket._meta.get_fields(include_hidden=True):
        field = getattr(relation, "field", None)
        if not relation.auto_created or relation.concrete or field is None:
            continue
        if not isinstance(field, ForeignKey) or isinstance(field, OneToOneField):
            continue
        model = relation.related_model
        if model is None or (model, field.name) in handled:
            continue
        model._base_manager.filter(**{f"{field.name}__in": ids}).update(**{field.name: target})
