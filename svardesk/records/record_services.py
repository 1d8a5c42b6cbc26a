"""Writes a record page makes that reach beyond the crm app: an association with a ticket
keeps the ticket's primary contact (`Ticket.contact`, changed only through
`tickets.services.update_ticket`) in step. Everything else is `crm.services`."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from svardesk.accounts.models import User
from svardesk.crm import services as crm_services
from svardesk.records.queries import COMPANY, CONTACT, TICKET
from svardesk.tickets import services as ticket_services
from svardesk.tickets.models import Ticket


@transaction.atomic
def associate_with_record(
    *, actor: User, object_type: str, record: Any, partner_type: str, partner_id: int
) -> None:
    """Associate `record` with a partner (checked visible by the caller). A ticket without a
    primary contact gets this contact as its primary one; a contact without a primary
    company gets this company as its primary one."""
    if partner_type == TICKET:
        crm_services.associate_records(
            actor=actor, from_type=TICKET, from_id=partner_id, to_type=object_type, to_id=record.pk
        )
        if object_type == CONTACT:
            ticket = Ticket.objects.select_for_update().get(pk=partner_id)
            if ticket.contact_id is None:
                ticket_services.update_ticket(
                    ticket.pk, actor=actor, changes={"contact": record.pk}
                )
        return
    primary = False
    if object_type == CONTACT and partner_type == COMPANY:
        primary = record.company_id is None
    elif object_type == COMPANY and partner_type == CONTACT:
        from svardesk.crm.models import Contact

        primary = (
            Contact.objects.filter(pk=partner_id).values_list("company_id", flat=True).first()
            is None
        )
        crm_services.associate_records(
            actor=actor,
            from_type=CONTACT,
            from_id=partner_id,
            to_type=COMPANY,
            to_id=record.pk,
            primary=primary,
        )
        return
    crm_services.associate_records(
        actor=actor,
        from_type=object_type,
        from_id=record.pk,
        to_type=partner_type,
        to_id=partner_id,
        primary=primary,
    )


@transaction.atomic
def dissociate_from_record(
    *, actor: User, object_type: str, record: Any, partner_type: str, partner_id: int
) -> None:
    """Remove the association (every label). Removing a ticket's primary contact also empties
    the ticket's contact, as the ticket's own page would."""
    if partner_type == TICKET and object_type == CONTACT:
        ticket = Ticket.objects.select_for_update().get(pk=partner_id)
        if ticket.contact_id == record.pk:
            ticket_services.update_ticket(ticket.pk, actor=actor, changes={"contact": None})
    if partner_type == TICKET:
        crm_services.dissociate_records(
            actor=actor, from_type=TICKET, from_id=partner_id, to_type=object_type, to_id=record.pk
        )
        return
    crm_services.dissociate_records(
        actor=actor,
        from_type=object_type,
        from_id=record.pk,
        to_type=partner_type,
        to_id=partner_id,
    )
