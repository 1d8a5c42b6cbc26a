"""Associations between records: which pairs exist, their stored direction, HubSpot's type
ids, and the writes and reads every other part (sidebar cards, record pages, import, API)
goes through.

A pair is stored once, in the direction `PAIRS` names, and read from either end. Each pair
has an unlabelled row whenever the two records are associated; the "primary" label adds a
second row (a ticket's primary contact and company, a contact's primary company). Removing an
association removes every label of the pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from svardesk.crm.models import Association, AssociationLabel, Company, Contact, Deal, ObjectType

TICKET, CONTACT, COMPANY, DEAL = (
    ObjectType.TICKET.value,
    ObjectType.CONTACT.value,
    ObjectType.COMPANY.value,
    ObjectType.DEAL.value,
)
PRIMARY = AssociationLabel.PRIMARY.value
UNLABELLED = AssociationLabel.NONE.value

# The stored direction of every pair that may be associated.
PAIRS: tuple[tuple[str, str], ...] = (
    (TICKET, CONTACT),
    (TICKET, COMPANY),
    (TICKET, DEAL),
    (DEAL, CONTACT),
    (DEAL, COMPANY),
    (CONTACT, COMPANY),
)
# Pairs where one record has at most one primary partner: (the record, its partner type).
PRIMARY_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {(TICKET, CONTACT), (TICKET, COMPANY), (CONTACT, COMPANY)}
)

# HubSpot's HUBSPOT_DEFINED association type ids (../shared/hubspot-api.md §3.5), per
# (from, to, label) as the API reads them from either end.
HUBSPOT_TYPE_IDS: dict[tuple[str, str, str], int] = {
    (CONTACT, TICKET, UNLABELLED): 15,
    (TICKET, CONTACT, UNLABELLED): 16,
    (COMPANY, TICKET, PRIMARY): 25,
    (TICKET, COMPANY, PRIMARY): 26,
    (DEAL, TICKET, UNLABELLED): 27,
    (TICKET, DEAL, UNLABELLED): 28,
    (CONTACT, COMPANY, UNLABELLED): 279,
    (COMPANY, CONTACT, UNLABELLED): 280,
    (CONTACT, COMPANY, PRIMARY): 1,
    (COMPANY, CONTACT, PRIMARY): 2,
    (TICKET, COMPANY, UNLABELLED): 339,
    (COMPANY, TICKET, UNLABELLED): 340,
    (DEAL, CONTACT, UNLABELLED): 3,
    (CONTACT, DEAL, UNLABELLED): 4,
    (DEAL, COMPANY, UNLABELLED): 341,
    (COMPANY, DEAL, UNLABELLED): 342,
    (DEAL, COMPANY, PRIMARY): 5,
    (COMPANY, DEAL, PRIMARY): 6,
}


class AssociationError(ValueError):
    """Two record types that cannot be associated, or a label the pair does not take."""


@dataclass(frozen=True)
class Stored:
    """How a (from, to) pair is stored: its canonical types and whether they are swapped."""

    from_type: str
    to_type: str
    swapped: bool


def stored(from_type: str, to_type: str) -> Stored:
    if (from_type, to_type) in PAIRS:
        return Stored(from_type, to_type, False)
    if (to_type, from_type) in PAIRS:
        return Stored(to_type, from_type, True)
    raise AssociationError(f"{from_type} and {to_type} cannot be associated")


def _row_key(from_type: str, from_id: int, to_type: str, to_id: int) -> dict[str, Any]:
    pair = stored(from_type, to_type)
    if pair.swapped:
        from_id, to_id = to_id, from_id
    return {
        "from_type": pair.from_type,
        "from_id": from_id,
        "to_type": pair.to_type,
        "to_id": to_id,
    }


def associate(
    from_type: str, from_id: int, to_type: str, to_id: int, *, primary: bool = False
) -> bool:
    """Associate two records (either direction). With `primary`, `from_id` gets `to_id` as
    its primary partner of that type, and any earlier primary partner stays associated but
    loses the label. Returns whether a new association was made. Runs in the caller's
    transaction; the caller keeps mirrored columns (Ticket.contact, Contact.company) in step.
    """
    key = _row_key(from_type, from_id, to_type, to_id)
    with transaction.atomic():
        _, created = Association.objects.get_or_create(**key, label=UNLABELLED)
        if primary:
            if (from_type, to_type) not in PRIMARY_PAIRS:
                raise AssociationError(f"a {from_type} has no primary {to_type}")
            _primary_rows(from_type, from_id, to_type).exclude(
                **_partner_q(key, from_type)
            ).delete()
            Association.objects.get_or_create(**key, label=PRIMARY)
    return created


def _partner_q(key: dict[str, object], from_type: str) -> dict[str, Any]:
    # The row's field naming the partner, as seen from `from_type`'s end.
    if key["from_type"] == from_type:
        return {"to_id": key["to_id"]}
    return {"from_id": key["from_id"]}


def _primary_rows(from_type: str, from_id: int, to_type: str) -> QuerySet[Association]:
    pair = stored(from_type, to_type)
    if pair.swapped:
        return Association.objects.filter(
            from_type=pair.from_type, to_type=pair.to_type, to_id=from_id, label=PRIMARY
        )
    return Association.objects.filter(
        from_type=pair.from_type, from_id=from_id, to_type=pair.to_type, label=PRIMARY
    )


def dissociate(from_type: str, from_id: int, to_type: str, to_id: int) -> bool:
    """Remove every label between the two records. Returns whether anything was removed."""
    deleted, _ = Association.objects.filter(**_row_key(from_type, from_id, to_type, to_id)).delete()
    return deleted > 0


def forget_record(object_type: str, object_id: int) -> None:
    """Remove every association of a deleted record (from both ends)."""
    Association.objects.filter(
        Q(from_type=object_type, from_id=object_id) | Q(to_type=object_type, to_id=object_id)
    ).delete()


def move_associations(object_type: str, old_id: int, new_id: int) -> None:
    """Give `new_id` every association of `old_id` (a merge), keeping `new_id`'s primaries
    where both had one; `old_id` keeps none."""
    rows = Association.objects.filter(
        Q(from_type=object_type, from_id=old_id) | Q(to_type=object_type, to_id=old_id)
    )
    for row in list(rows):
        if row.from_type == object_type and row.from_id == old_id:
            partner_type, partner_id, own_side_from = row.to_type, row.to_id, True
        else:
            partner_type, partner_id, own_side_from = row.from_type, row.from_id, False
        row.delete()
        if partner_type == object_type and partner_id in (old_id, new_id):
            continue  # no record is associated with itself
        is_primary = row.label == PRIMARY
        if (
            is_primary
            and own_side_from
            and _primary_rows(object_type, new_id, partner_type).exists()
        ):
            is_primary = False  # new_id's own primary partner wins; old's stays associated
        if is_primary and not own_side_from:
            # the partner had old_id as its primary: it now has new_id
            associate(partner_type, partner_id, object_type, new_id, primary=True)
            continue
        associate(object_type, new_id, partner_type, partner_id, primary=is_primary)


def associated_ids(
    from_type: str, from_id: int, to_type: str, *, label: str | None = None
) -> QuerySet[Association]:
    """The ids of `to_type` records associated with one record, as a values_list queryset
    (use it as a subquery: `Contact.objects.filter(pk__in=associated_ids(...))`)."""
    pair = stored(from_type, to_type)
    condition: dict[str, object] = {"from_type": pair.from_type, "to_type": pair.to_type}
    condition["label"] = UNLABELLED if label is None else label
    if pair.swapped:
        rows = Association.objects.filter(**condition, to_id=from_id)
        return rows.values_list("from_id", flat=True)  # type: ignore[return-value]
    rows = Association.objects.filter(**condition, from_id=from_id)
    return rows.values_list("to_id", flat=True)  # type: ignore[return-value]


def primary_id(from_type: str, from_id: int, to_type: str) -> int | None:
    """The record's primary partner of `to_type`, if any."""
    return associated_ids(from_type, from_id, to_type, label=PRIMARY).first()  # type: ignore[return-value]


def ids_associated_with_any(
    to_type: str, from_type: str, from_ids: Iterable[int] | QuerySet[Any]
) -> QuerySet[Association]:
    """The ids of `to_type` records associated with any of `from_ids` (a list or a
    values_list subquery), e.g. every contact on a set of tickets."""
    pair = stored(from_type, to_type)
    base = Association.objects.filter(
        from_type=pair.from_type, to_type=pair.to_type, label=UNLABELLED
    )
    if pair.swapped:
        return base.filter(to_id__in=from_ids).values_list("from_id", flat=True)  # type: ignore[return-value]
    return base.filter(from_id__in=from_ids).values_list("to_id", flat=True)  # type: ignore[return-value]


def link_ticket_contacts(pairs: Iterable[tuple[int, int]]) -> None:
    """New tickets' contacts, in bulk: each (ticket id, contact id) becomes associated and
    primary, and the contact's primary company becomes the ticket's (associated, and primary
    since a new ticket has none) — as HubSpot associates a ticket with its contact's company."""
    pairs = [(ticket_id, contact_id) for ticket_id, contact_id in pairs if contact_id]
    if not pairs:
        return
    contact_ids = {contact_id for _, contact_id in pairs}
    companies = dict(
        Contact.objects.filter(pk__in=contact_ids, company_id__isnull=False).values_list(
            "pk", "company_id"
        )
    )
    rows = []
    for ticket_id, contact_id in pairs:
        for label in (UNLABELLED, PRIMARY):
            rows.append(
                Association(
                    from_type=TICKET,
                    from_id=ticket_id,
                    to_type=CONTACT,
                    to_id=contact_id,
                    label=label,
                )
            )
            company_id = companies.get(contact_id)
            if company_id:
                rows.append(
                    Association(
                        from_type=TICKET,
                        from_id=ticket_id,
                        to_type=COMPANY,
                        to_id=company_id,
                        label=label,
                    )
                )
    Association.objects.bulk_create(rows, ignore_conflicts=True)


def set_ticket_contact(ticket_id: int, contact_id: int | None) -> None:
    """The ticket's primary contact changed (Ticket.contact): the new one is associated and
    primary; an earlier one stays associated without the label. None only drops the label."""
    if contact_id is None:
        _primary_rows(TICKET, ticket_id, CONTACT).delete()
        return
    associate(TICKET, ticket_id, CONTACT, contact_id, primary=True)
    company_id = Contact.objects.filter(pk=contact_id).values_list("company_id", flat=True).first()
    if company_id:
        has_primary = _primary_rows(TICKET, ticket_id, COMPANY).exists()
        associate(TICKET, ticket_id, COMPANY, company_id, primary=not has_primary)


def clear_primary(from_type: str, from_id: int, to_type: str) -> None:
    """`from_id` has no primary partner of `to_type` any more; the partner stays
    associated."""
    _primary_rows(from_type, from_id, to_type).delete()


def link_contact_companies(pairs: Iterable[tuple[int, int]]) -> None:
    """New contacts' primary companies, in bulk: each (contact id, company id) becomes
    associated and primary (the contacts have no other company yet)."""
    rows = [
        Association(
            from_type=CONTACT, from_id=contact_id, to_type=COMPANY, to_id=company_id, label=label
        )
        for contact_id, company_id in pairs
        for label in (UNLABELLED, PRIMARY)
    ]
    if rows:
        Association.objects.bulk_create(rows, ignore_conflicts=True)


# Which ids of a record type exist, for the types crm does not own (tickets register theirs
# at start-up: crm knows no ticket model).
_EXISTING: dict[str, Callable[[list[int]], set[int]]] = {}


def register_record_type(object_type: str, existing: Callable[[list[int]], set[int]]) -> None:
    """Tell crm how to check that records of `object_type` exist (the ids that do)."""
    _EXISTING[object_type] = existing


def records_exist(object_type: str, ids: Iterable[int]) -> bool:
    """Whether every id names an existing record of `object_type` (contacts and companies
    that were merged away do not count: use the survivor)."""
    wanted = {int(i) for i in ids}
    if not wanted:
        return True
    if object_type in _EXISTING:
        return _EXISTING[object_type](sorted(wanted)) >= wanted
    models_by_type: dict[str, Any] = {CONTACT: Contact, COMPANY: Company, DEAL: Deal}
    model = models_by_type.get(object_type)
    if model is None:
        raise AssociationError(f"unknown record type {object_type}")
    rows = model._default_manager.filter(pk__in=wanted)
    if model is not Deal:
        rows = rows.filter(merged_into__isnull=True)
    return rows.count() == len(wanted)
