"""What the ticket sidebar's association cards change: records put on a ticket, taken off,
created in place, and the primary contact. Associations go through `crm.services` (events
on the records' timelines); the ticket's primary contact, `Ticket.contact`, only through
`tickets.services.update_ticket` (the ticket's timeline, its version, live updates)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.crm import associations
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import DealStage
from svardesk.crm.names import split_display_name
from svardesk.tickets import services as ticket_services
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket
from svardesk.tickets.queries import visible_companies, visible_contacts, visible_deals

TICKET = "ticket"
_VISIBLE = {"contact": visible_contacts, "company": visible_companies, "deal": visible_deals}


class CardActionError(ValueError):
    """The record cannot be put on (or taken off) the ticket; the message is for the user."""


def may_add(user: User, object_type: str, record_id: int | None) -> bool:
    """Whether `user` may put this record on a ticket: only one they may see."""
    if record_id is None:
        return False
    return bool(_VISIBLE[object_type](user).filter(pk=record_id).exists())


@transaction.atomic
def add_to_ticket(ticket: Ticket, object_type: str, record_id: int, *, actor: User) -> bool:
    """Associate an existing record with the ticket. A contact added to a ticket without one
    becomes its primary contact, a company its primary company. Returns whether the ticket
    itself changed (its primary contact), so the caller redraws the whole ticket instead of
    the card."""
    if not may_add(actor, object_type, record_id):
        raise CardActionError(_("Choose one of the listed records."))
    return _associate(ticket, object_type, record_id, actor=actor)


def _associate(ticket: Ticket, object_type: str, record_id: int, *, actor: User) -> bool:
    # A ticket's first company becomes its primary company, as a first contact does.
    primary = object_type == "company" and (
        associations.primary_id(TICKET, ticket.pk, "company") is None
    )
    crm_services.associate_records(
        actor=actor,
        from_type=TICKET,
        from_id=ticket.pk,
        to_type=object_type,
        to_id=record_id,
        primary=primary,
    )
    if object_type == "contact" and ticket.contact_id is None:
        _set_primary_contact(ticket, record_id, actor=actor)
        return True
    return False


@transaction.atomic
def remove_from_ticket(ticket: Ticket, object_type: str, record_id: int, *, actor: User) -> bool:
    """Take a record off the ticket (every label). Removing the primary contact empties
    `Ticket.contact`. Returns whether the ticket itself changed."""
    changed = False
    if object_type == "contact" and ticket.contact_id == record_id:
        _set_primary_contact(ticket, None, actor=actor)
        changed = True
    crm_services.dissociate_records(
        actor=actor, from_type=TICKET, from_id=ticket.pk, to_type=object_type, to_id=record_id
    )
    return changed


@transaction.atomic
def make_primary_contact(ticket: Ticket, contact_id: int, *, actor: User) -> None:
    """Make one of the ticket's contacts its primary contact (the one replies go to)."""
    if not may_add(actor, "contact", contact_id):
        raise CardActionError(_("Choose one of the listed records."))
    _set_primary_contact(ticket, contact_id, actor=actor)


def _set_primary_contact(ticket: Ticket, contact_id: int | None, *, actor: User) -> None:
    try:
        ticket_services.update_ticket(ticket.pk, actor=actor, changes={"contact": contact_id})
    except TicketValidationError as exc:
        raise CardActionError(exc.errors.get("contact") or str(exc)) from exc


# Which form field a service's field error belongs to.
_FIELD_OF_ERROR = {
    "contact": {"first_name": "name", "last_name": "name", "emails": "email", "email": "email"},
    "company": {"name": "name", "domain": "domain"},
    "deal": {"name": "name", "amount": "amount", "stage": "stage"},
}


@transaction.atomic
def create_on_ticket(
    ticket: Ticket, object_type: str, values: Mapping[str, str], *, actor: User
) -> tuple[Any, bool]:
    """Create a record from the card's short form (contact: name + email; company: name +
    domain; deal: name + amount + stage) and put it on the ticket. Returns the record and
    whether the ticket itself changed. Invalid values raise RecordValidationError keyed by
    the form's fields, and nothing is saved."""
    try:
        record = _create(object_type, values, actor=actor)
    except RecordValidationError as exc:
        fields = _FIELD_OF_ERROR[object_type]
        errors: dict[str, str] = {}
        for name, message in exc.errors.items():
            key = fields.get(name, "form")
            errors.setdefault(key, message)
        raise RecordValidationError(errors) from exc
    return record, _associate(ticket, object_type, record.pk, actor=actor)


def _create(object_type: str, values: Mapping[str, str], *, actor: User) -> Any:
    name = " ".join(str(values.get("name", "")).split())
    if object_type == "contact":
        email = str(values.get("email", "")).strip()
        if not name and not email:
            raise RecordValidationError({"name": _("Give the contact a name or an email.")})
        first, last = split_display_name(name)
        return crm_services.create_contact(
            actor=actor, first_name=first, last_name=last, emails=[email] if email else []
        )
    if not name:
        message = _("Give the company a name.") if object_type == "company" else None
        raise RecordValidationError({"name": message or _("Give the deal a name.")})
    if object_type == "company":
        return crm_services.create_company(
            actor=actor, name=name, domain=str(values.get("domain", "")).strip()
        )
    # A decimal comma or spaces between thousands, as people type amounts.
    amount = str(values.get("amount", "")).strip().replace(",", ".").replace(" ", "")
    stage = str(values.get("stage", "")) or DealStage.APPOINTMENT_SCHEDULED
    return crm_services.create_deal(actor=actor, name=name, amount=amount or None, stage=stage)
