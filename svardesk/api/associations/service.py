"""What the associations API reads and changes, as the token's user.

Both ends of a pair must be visible to the user (`tickets.queries.visible_*`); an end that is
not reads as missing (404). Writes go through the functions the workspace's cards and record
pages use, so a ticket's first contact becomes its primary contact, a contact's first company
its primary company, and the records' timelines note each change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from svardesk.accounts.models import User
from svardesk.api.associations import types as T
from svardesk.api.errors import ApiError, not_found, validation_error
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_id
from svardesk.crm import associations
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import Contact
from svardesk.records import card_services, record_services
from svardesk.records.queries import RecordMovedError, access_record, visible_records
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import TicketRedirect
from svardesk.tickets.queries import access_ticket

# A page of associations holds at most this many (HubSpot's v4 limit and default).
MAX_PAGE = 500


def missing(object_type: str, raw_id: object) -> ApiError:
    return not_found(f"No {object_type} with ID {raw_id} exists.", context={"id": [str(raw_id)]})


def resolve(user: User, object_type: str, raw_id: object) -> int:
    """The primary key of a record `user` may see; a merged-away ticket, contact or company
    resolves to the record it was merged into (if visible). 404 otherwise."""
    pk = parse_id(str(raw_id).strip())
    if pk is None:
        raise missing(object_type, raw_id)
    if object_type == T.TICKET:
        if visible_records(user, T.TICKET).filter(pk=pk).exists():
            return pk
        survivor = TicketRedirect.objects.filter(old_id=pk).values_list("ticket_id", flat=True)
        found = survivor.first()
        if found is not None and visible_records(user, T.TICKET).filter(pk=found).exists():
            return found
        raise missing(object_type, raw_id)
    try:
        return int(access_record(object_type, pk, actor=user).pk)
    except RecordMovedError as moved:
        return moved.survivor_id
    except NotFoundError:
        raise missing(object_type, raw_id) from None


# --- Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    partners: list[tuple[int, bool]]  # (partner id, whether the pair carries "primary")
    after: str | None


def associated_page(
    user: User, from_type: str, from_id: int, to_type: str, *, after: int, limit: int
) -> Page:
    """The partners of one record of `to_type` that `user` may see, in id order after
    `after`, at most `limit`, with whether each pair is labelled primary."""
    ids = associations.associated_ids(from_type, from_id, to_type)
    partners: QuerySet[Any] = (
        visible_records(user, to_type)
        .filter(pk__in=ids, pk__gt=after)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    chunk = list(partners[: limit + 1])
    more = len(chunk) > limit
    chunk = chunk[:limit]
    primary = set(
        associations.associated_ids(from_type, from_id, to_type, label=T.PRIMARY).filter(
            **_partner_in(from_type, to_type, chunk)
        )
    )
    return Page(
        partners=[(pk, pk in primary) for pk in chunk],
        after=str(chunk[-1]) if more and chunk else None,
    )


def _partner_in(from_type: str, to_type: str, ids: list[int]) -> dict[str, list[int]]:
    # associated_ids reads the partner from `to_id`, or from `from_id` when the pair is
    # stored the other way round.
    swapped = associations.stored(from_type, to_type).swapped
    return {"from_id__in" if swapped else "to_id__in": ids}


def pair_is_primary(from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
    rows = associations.associated_ids(from_type, from_id, to_type, label=T.PRIMARY)
    return rows.filter(**_partner_in(from_type, to_type, [to_id])).exists()


def pair_exists(from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
    rows = associations.associated_ids(from_type, from_id, to_type)
    return rows.filter(**_partner_in(from_type, to_type, [to_id])).exists()


# --- Writing ---------------------------------------------------------------------------------


def associate(
    user: User, from_type: str, from_id: int, to_type: str, to_id: int, *, primary: bool
) -> None:
    """Associate (`_associate`), answering a domain error as HubSpot's error."""
    try:
        _associate(user, from_type, from_id, to_type, to_id, primary=primary)
    except (associations.AssociationError, RecordValidationError, TicketValidationError) as exc:
        raise validation_error(str(exc)) from None
    except NotFoundError:
        raise missing(to_type, to_id) from None


@transaction.atomic
def _associate(
    user: User, from_type: str, from_id: int, to_type: str, to_id: int, *, primary: bool
) -> None:
    """Associate two visible records (ids from `resolve`). `primary` asks for the primary
    label HubSpot's type id named: the company becomes the ticket's (or the contact's)
    primary company. Deals keep no primary company: the association is made unlabelled."""
    if from_type == T.TICKET or to_type == T.TICKET:
        ticket_id, other_type, other_id = (
            (from_id, to_type, to_id) if from_type == T.TICKET else (to_id, from_type, from_id)
        )
        if primary and other_type == T.COMPANY:
            crm_services.associate_records(
                actor=user,
                from_type=T.TICKET,
                from_id=ticket_id,
                to_type=T.COMPANY,
                to_id=other_id,
                primary=True,
            )
            return
        ticket = access_ticket(ticket_id, actor=user)
        try:
            card_services.add_to_ticket(ticket, other_type, other_id, actor=user)
        except card_services.CardActionError:
            raise missing(other_type, other_id) from None
        return
    if primary and {from_type, to_type} == {T.CONTACT, T.COMPANY}:
        contact_id = from_id if from_type == T.CONTACT else to_id
        company_id = to_id if from_type == T.CONTACT else from_id
        crm_services.associate_records(
            actor=user,
            from_type=T.CONTACT,
            from_id=contact_id,
            to_type=T.COMPANY,
            to_id=company_id,
            primary=True,
        )
        return
    record = access_record(from_type, from_id, actor=user)
    record_services.associate_with_record(
        actor=user, object_type=from_type, record=record, partner_type=to_type, partner_id=to_id
    )


@transaction.atomic
def dissociate(user: User, from_type: str, from_id: int, to_type: str, to_id: int) -> None:
    """Remove every label between two visible records. Taking a ticket's primary contact off
    empties the ticket's contact, as the ticket's card does."""
    if from_type == T.TICKET or to_type == T.TICKET:
        ticket_id, other_type, other_id = (
            (from_id, to_type, to_id) if from_type == T.TICKET else (to_id, from_type, from_id)
        )
        ticket = access_ticket(ticket_id, actor=user)
        card_services.remove_from_ticket(ticket, other_type, other_id, actor=user)
        return
    record = access_record(from_type, from_id, actor=user)
    record_services.dissociate_from_record(
        actor=user, object_type=from_type, record=record, partner_type=to_type, partner_id=to_id
    )


@transaction.atomic
def remove_labels(
    user: User, from_type: str, from_id: int, to_type: str, to_id: int, *, labels: set[str]
) -> None:
    """Remove just these labels of a pair: the unlabelled type removes the association (and
    every label with it); "primary" only the label, the records stay associated."""
    if T.UNLABELLED in labels:
        dissociate(user, from_type, from_id, to_type, to_id)
        return
    if T.PRIMARY not in labels or not pair_is_primary(from_type, from_id, to_type, to_id):
        return
    pair = {from_type: from_id, to_type: to_id}
    if set(pair) == {T.CONTACT, T.COMPANY}:
        contact = Contact.objects.get(pk=pair[T.CONTACT])
        crm_services.update_contact(contact, actor=user, company_id=None)
    elif set(pair) == {T.TICKET, T.COMPANY}:
        # The ticket keeps no column for its primary company: the label is all there is.
        associations.clear_primary(T.TICKET, pair[T.TICKET], T.COMPANY)
