"""The Create ticket panel's one write: the ticket, with a contact and a company picked or
created in place (the new contact's primary company is the picked or new company)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from svardesk.accounts.models import User
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordValidationError
from svardesk.crm.models import Company, Contact
from svardesk.crm.names import split_display_name
from svardesk.tickets import queries, services
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Ticket


@dataclass(frozen=True)
class NewContact:
    name: str
    email: str


@dataclass(frozen=True)
class NewCompany:
    name: str
    domain: str


# A crm field error, as the panel's field it belongs to.
_CONTACT_FIELDS = {"first_name": "name", "last_name": "name", "emails": "email", "email": "email"}
_COMPANY_FIELDS = {"name": "name", "domain": "domain"}


class PanelValidationError(TicketValidationError):
    """Field errors of the panel: keys are the ticket's fields, or `new_contact-<field>` /
    `new_company-<field>` for the records created with it. Nothing was saved."""


@transaction.atomic
def create_ticket_with_records(
    *,
    actor: User,
    ticket_fields: dict[str, Any],
    contact: Contact | None = None,
    company: Company | None = None,
    new_contact: NewContact | None = None,
    new_company: NewCompany | None = None,
) -> Ticket:
    """Create the ticket (`ticket_fields`: create_ticket's arguments but the contact) for a
    picked or new contact, associated with a picked or new company. A new contact's primary
    company is that company. The records picked were checked by the caller's form against
    what `actor` may see. Any invalid value raises PanelValidationError and nothing is saved."""
    if new_company is not None:
        try:
            company = crm_services.create_company(
                actor=actor, name=new_company.name, domain=new_company.domain
            )
        except RecordValidationError as exc:
            raise _panel_errors("new_company", _COMPANY_FIELDS, exc) from exc
    if new_contact is not None:
        first, last = split_display_name(new_contact.name)
        try:
            contact = crm_services.create_contact(
                actor=actor,
                first_name=first,
                last_name=last,
                emails=[new_contact.email] if new_contact.email else [],
                company_id=company.pk if company is not None else None,
            )
        except RecordValidationError as exc:
            raise _panel_errors("new_contact", _CONTACT_FIELDS, exc) from exc
    # A contact just made is on no ticket yet: an agent who sees only their team's tickets
    # may not name it until it is on this one, so it is put on the ticket once it exists.
    later = contact is not None and not queries.may_use_contact(actor, contact.pk)
    ticket = services.create_ticket(
        actor=actor, contact=None if later else contact, **ticket_fields
    )
    if contact is not None and later:
        crm_services.associate_records(
            actor=actor, from_type="ticket", from_id=ticket.pk, to_type="contact", to_id=contact.pk
        )
        ticket = services.update_ticket(ticket.pk, actor=actor, changes={"contact": contact.pk})
    if company is not None:
        crm_services.associate_records(
            actor=actor, from_type="ticket", from_id=ticket.pk, to_type="company", to_id=company.pk
        )
    return ticket


def _panel_errors(
    prefix: str, fields: dict[str, str], exc: RecordValidationError
) -> PanelValidationError:
    errors: dict[str, str] = {}
    for name, message in exc.errors.items():
        errors.setdefault(f"{prefix}-{fields.get(name, 'name')}", message)
    return PanelValidationError(errors)
