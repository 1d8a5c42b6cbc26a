"""Writing checked rows: contacts, companies and tickets, a batch at a time.

Contacts and companies are written in bulk (one INSERT or UPDATE per table and batch) with the
same rules as crm.services: every address a ContactEmail row (compared lower-case, one
contact per address), every number in E.164 and a ContactPhone row, a new contact at a
company's email domain joining that company (free-mail domains excluded), a RecordEvent for
each record created and each property changed. Tickets go through
`tickets.services.create_tickets`, so pipelines, statuses, timelines and SLA rules hold.

What finds an existing record: contacts by any of their email addresses or an external ID
(phone number when the row has neither); companies by external ID, then domain, then
(with neither) name; tickets by external ID — a ticket row without one gets a fingerprint
of its cells as its external ID, so a re-run finds it. An empty cell changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from svardesk.crm import associations
from svardesk.crm.models import (
    Association,
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    PhoneKind,
    RecordEvent,
)
from svardesk.imports.bulk import AnyOf, insert_rows, plain_index_lookups
from svardesk.imports.engine import Importer, Row, RowError, Tally
from svardesk.imports.fields import ImportField

CONTACT_FIELDS = {
    "firstname": "first_name",
    "lastname": "last_name",
    "company": "company_name",
    "hs_language": "language",
    "hubspot_owner_id": "owner_id",
    "external_id": "external_id",
}
COMPANY_FIELDS = {
    "name": "name",
    "domain": "domain",
    "phone": "phone",
    "address": "street_address",
    "city": "city",
    "zip": "postal_code",
    "country": "country",
    "industry": "industry",
    "hubspot_owner_id": "owner_id",
    "external_id": "external_id",
}
TICKET_FIELDS = {
    "subject": "name",
    "content": "description",
    "hs_pipeline": "pipeline",
    "hs_pipeline_stage": "stage",
    "hs_ticket_priority": "priority",
    "hs_ticket_category": "category",
    "hubspot_owner_id": "owner",
    "contact_email": "contact",
}


def _custom_values(importer: _RecordImporter, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if name in importer.custom_names}


def _event(object_type: str, object_id: int, actor: Any, kind: str, **data: Any) -> RecordEvent:
    return RecordEvent(
        object_type=object_type,
        object_id=object_id,
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        **data,
    )


class _RecordImporter(Importer):
    def __init__(self, context: Any, actor: Any, fields: list[ImportField] | None = None) -> None:
        super().__init__(context, actor, fields)
        from svardesk.imports.fields import fields_for

        fields = fields if fields is not None else fields_for(self.object_type)
        self.custom_names = {f.name for f in fields if f.is_custom}


# --- Contacts ----------------------------------------------------------------------------------


def _emails(values: dict[str, Any]) -> list[str]:
    """The row's addresses, primary first, each once (compared lower-case)."""
    seen: set[str] = set()
    found: list[str] = []
    for email in [values.get("email"), *values.get("hs_additional_emails", [])]:
        if email and email.lower() not in seen:
            seen.add(email.lower())
            found.append(email)
    return found


class ContactImporter(_RecordImporter):
    object_type = "contacts"

    def check(self, values: dict[str, Any]) -> None:
        if not (
            _emails(values)
            or values.get("external_id")
            or values.get("phone")
            or values.get("mobilephone")
        ):
            raise RowError(_("A contact needs an email address, a phone number or an external ID."))

    def keys(self, values: dict[str, Any]) -> frozenset[Any]:
        keys: set[Any] = {("email", email.lower()) for email in _emails(values)}
        if values.get("external_id"):
            keys.add(("external_id", values["external_id"]))
        if not keys:
            keys |= {("phone", values[n]) for n in ("phone", "mobilephone") if values.get(n)}
        return frozenset(keys)

    def _found(
        self, rows: list[Row]
    ) -> tuple[dict[str, int], dict[str | None, int], dict[str, int]]:
        """The contacts the rows name already: by address, by external ID, and (rows with
        neither) by phone number."""
        by_email = dict(
            ContactEmail.objects.filter(
                AnyOf(
                    F("email_key"), list({e.lower() for row in rows for e in _emails(row.values)})
                )
            )
            .order_by()
            .values_list("email_key", "contact_id")
        )
        external_ids = {row.values["external_id"] for row in rows if "external_id" in row.values}
        # Merged contacts are left out here, not in SQL: a condition on merged_into_id offers
        # the planner that column's index, which it took (reading every contact) when the
        # table's statistics were older than its rows.
        by_external = (
            {
                external_id: pk
                for external_id, pk, merged_into in Contact.objects.filter(
                    AnyOf(F("external_id"), list(external_ids))
                )
                .order_by()
                .values_list("external_id", "pk", "merged_into_id")
                if merged_into is None
            }
            if external_ids
            else {}
        )
        phone_only = {
            number
            for row in rows
            if not _emails(row.values) and "external_id" not in row.values
            for number in (row.values.get("phone"), row.values.get("mobilephone"))
            if number
        }
        by_phone: dict[str, int] = {}
        if phone_only:
            for number, contact_id in (
                ContactPhone.objects.filter(number__in=phone_only, contact__merged_into=None)
                .order_by("contact_id")
                .values_list("number", "contact_id")
            ):
                by_phone.setdefault(number, contact_id)
        return by_email, by_external, by_phone

    def apply(self, rows: list[Row], tally: Tally) -> None:
        with plain_index_lookups():
            by_email, by_external, by_phone = self._found(rows)
        targets: list[tuple[Row, int | None]] = []
        for row in rows:
            owners = {by_email[e.lower()] for e in _emails(row.values) if e.lower() in by_email}
            target = by_external.get(row.values.get("external_id"))
            if target is not None and owners - {target}:
                tally.fail(row, _("email: This email belongs to another contact."))
                continue
            if target is None and len(owners) > 1:
                tally.fail(row, _("email: These email addresses belong to different contacts."))
                continue
            if target is None and owners:
                target = owners.pop()
            if target is None and not _emails(row.values) and "external_id" not in row.values:
                numbers = [row.values.get("phone"), row.values.get("mobilephone")]
                target = next((by_phone[n] for n in numbers if n in by_phone), None)
            targets.append((row, target))

        self._create([row for row, target in targets if target is None], tally)
        self._update([(row, target) for row, target in targets if target is not None], tally)

    def _create(self, rows: list[Row], tally: Tally) -> None:
        if not rows:
            return
        companies = self._companies_by_domain(rows)
        contacts: list[dict[str, Any]] = []
        for row in rows:
            values = row.values
            emails = _emails(values)
            custom = _custom_values(self, values)
            contacts.append(
                {
                    "first_name": values.get("firstname", ""),
                    "last_name": values.get("lastname", ""),
                    "email": emails[0] if emails else "",
                    "phone": values.get("phone", ""),
                    "mobile_phone": values.get("mobilephone", ""),
                    "company_name": values.get("company", ""),
                    "language": values.get("hs_language"),
                    "owner_id": values.get("hubspot_owner_id"),
                    "custom": custom or None,
                    "external_id": values.get("external_id"),
                    "company_id": companies.get(_domain(emails[0])) if emails else None,
                }
            )
        ids = insert_rows(Contact, contacts, with_ids=True)
        actor_id = self.actor.pk if getattr(self.actor, "pk", None) else None
        email_rows: list[dict[str, Any]] = []
        phone_rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        links: list[dict[str, Any]] = []
        for contact_id, contact, row in zip(ids, contacts, rows, strict=True):
            for position, email in enumerate(_emails(row.values)):
                email_rows.append(
                    {
                        "contact_id": contact_id,
                        "email": email,
                        "email_key": email.lower(),
                        "is_primary": position == 0,
                    }
                )
            phone_rows.extend(
                {"contact_id": contact_id, "number": phone.number, "kind": phone.kind}
                for phone in _phone_rows(contact_id, row.values)
            )
            events.append(
                {
                    "object_type": "contact",
                    "object_id": contact_id,
                    "actor_id": actor_id,
                    "kind": "created",
                }
            )
            if contact["company_id"]:
                links.extend(
                    {
                        "from_type": link.from_type,
                        "from_id": link.from_id,
                        "to_type": link.to_type,
                        "to_id": link.to_id,
                        "label": link.label,
                    }
                    for link in _contact_company_rows(contact_id, contact["company_id"])
                )
        insert_rows(ContactEmail, email_rows)
        insert_rows(ContactPhone, phone_rows)
        insert_rows(Association, links)
        insert_rows(RecordEvent, events)
        tally.created += len(contacts)

    def _companies_by_domain(self, rows: list[Row]) -> dict[str, int]:
        from svardesk.crm.queries import crm_settings, is_free_email_domain

        if not crm_settings().associate_by_domain:
            return {}
        domains = set()
        for row in rows:
            emails = _emails(row.values)
            if emails:
                domain = _domain(emails[0])
                if domain and not is_free_email_domain(domain):
                    domains.add(domain)
        found: dict[str, int] = {}
        if domains:
            for domain, pk in (
                Company.objects.filter(AnyOf(F("domain"), list(domains)), merged_into__isnull=True)
                .order_by("pk")
                .values_list("domain", "pk")
            ):
                found.setdefault(domain, pk)
        return found

    def _update(self, rows: list[tuple[Row, int]], tally: Tally) -> None:
        if not rows:
            return
        ids = {target for _row, target in rows}
        contacts = Contact.objects.in_bulk(ids)
        emails_of: dict[int, list[str]] = {}
        for contact_id, email in (
            ContactEmail.objects.filter(contact_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "email")
        ):
            emails_of.setdefault(contact_id, []).append(email)
        known_emails = {email.lower() for emails in emails_of.values() for email in emails}
        known_phones = set(
            ContactPhone.objects.filter(contact_id__in=ids).values_list("contact_id", "number")
        )
        changed_fields: set[str] = set()
        changed: dict[int, Contact] = {}
        email_rows: list[ContactEmail] = []
        phone_rows: list[ContactPhone] = []
        events: list[RecordEvent] = []
        for row, target in rows:
            contact = contacts[target]
            values = row.values
            changes: list[tuple[str, Any, Any]] = []
            for name, attr in CONTACT_FIELDS.items():
                if name in values and getattr(contact, attr) != values[name]:
                    changes.append((name, getattr(contact, attr), values[name]))
                    setattr(contact, attr, values[name])
                    changed_fields.add(attr)
            for name, attr in (("phone", "phone"), ("mobilephone", "mobile_phone")):
                if name in values and getattr(contact, attr) != values[name]:
                    changes.append((name, getattr(contact, attr), values[name]))
                    setattr(contact, attr, values[name])
                    changed_fields.add(attr)
            for phone in _phone_rows(contact.pk, values):
                if (contact.pk, phone.number) not in known_phones:
                    known_phones.add((contact.pk, phone.number))
                    phone_rows.append(phone)
            new_emails = [e for e in _emails(values) if e.lower() not in known_emails]
            if new_emails:
                # Recorded as crm.services records it: the contact's whole list of addresses.
                before = list(emails_of.get(contact.pk, []))
                emails_of[contact.pk] = before + new_emails
                changes.append(("emails", before, emails_of[contact.pk]))
            for email in new_emails:
                known_emails.add(email.lower())
                is_primary = not contact.email
                if is_primary:
                    contact.email = email
                    changed_fields.add("email")
                email_rows.append(
                    ContactEmail(
                        contact_id=contact.pk,
                        email=email,
                        email_key=email.lower(),
                        is_primary=is_primary,
                    )
                )
            custom = _custom_values(self, values)
            current = dict(contact.custom or {})
            for name, value in custom.items():
                if current.get(name) != value:
                    changes.append((name, current.get(name), value))
                    current[name] = value
            if current != (contact.custom or {}):
                contact.custom = current
                changed_fields.add("custom")
            if changes:
                changed[contact.pk] = contact
                events.extend(
                    _event(
                        "contact",
                        contact.pk,
                        self.actor,
                        "changed",
                        property_name=name,
                        old_value=old,
                        new_value=new,
                    )
                    for name, old, new in changes
                )
                tally.updated += 1
            else:
                tally.unchanged += 1
        if changed:
            Contact.objects.bulk_update(
                list(changed.values()), sorted(changed_fields | {"updated_at"})
            )
        ContactEmail.objects.bulk_create(email_rows)
        ContactPhone.objects.bulk_create(phone_rows, ignore_conflicts=True)
        RecordEvent.objects.bulk_create(events)


def _domain(email: str) -> str:
    return email.rpartition("@")[2].strip().lower().rstrip(".")


def _phone_rows(contact_id: int, values: dict[str, Any]) -> list[ContactPhone]:
    rows: list[ContactPhone] = []
    for name, kind in (("phone", PhoneKind.PHONE), ("mobilephone", PhoneKind.MOBILE)):
        number = values.get(name)
        if number and all(r.number != number for r in rows):
            rows.append(ContactPhone(contact_id=contact_id, number=number, kind=kind))
    return rows


def _contact_company_rows(contact_id: int, company_id: int) -> list[Association]:
    return [
        Association(
            from_type=associations.CONTACT,
            from_id=contact_id,
            to_type=associations.COMPANY,
            to_id=company_id,
            label=label,
        )
        for label in (associations.UNLABELLED, associations.PRIMARY)
    ]


# --- Companies ---------------------------------------------------------------------------------


class CompanyImporter(_RecordImporter):
    object_type = "companies"

    def keys(self, values: dict[str, Any]) -> frozenset[Any]:
        if values.get("external_id"):
            return frozenset({("external_id", values["external_id"])})
        if values.get("domain"):
            return frozenset({("domain", values["domain"])})
        return frozenset({("name", values.get("name", "").lower())})

    def apply(self, rows: list[Row], tally: Tally) -> None:
        live = Company.objects.filter(merged_into__isnull=True).order_by("pk")
        external_ids = {r.values["external_id"] for r in rows if r.values.get("external_id")}
        domains = {r.values["domain"] for r in rows if r.values.get("domain")}
        names = {
            r.values.get("name", "").lower()
            for r in rows
            if not r.values.get("external_id") and not r.values.get("domain")
        }
        by_external = _first(live.filter(external_id__in=external_ids), "external_id", external_ids)
        by_domain = _first(live.filter(domain__in=domains), "domain", domains)
        by_name: dict[str, int] = {}
        if names:
            for name, pk in (
                live.annotate(lower_name=Lower("name"))
                .filter(lower_name__in=names)
                .values_list("lower_name", "pk")
            ):
                by_name.setdefault(name, pk)
        new: list[Row] = []
        found: list[tuple[Row, int]] = []
        for row in rows:
            values = row.values
            if values.get("external_id"):
                target = by_external.get(values["external_id"])
            elif values.get("domain"):
                target = by_domain.get(values["domain"])
            else:
                target = by_name.get(values.get("name", "").lower())
            if target is None:
                new.append(row)
            else:
                found.append((row, target))
        self._create(new, tally)
        self._update(found, tally)

    def _create(self, rows: list[Row], tally: Tally) -> None:
        if not rows:
            return
        companies = []
        for row in rows:
            fields = {
                attr: row.values[name]
                for name, attr in COMPANY_FIELDS.items()
                if name in row.values
            }
            companies.append(Company(**fields, custom=_custom_values(self, row.values)))
        Company.objects.bulk_create(companies)
        RecordEvent.objects.bulk_create(
            _event("company", company.pk, self.actor, "created") for company in companies
        )
        tally.created += len(companies)

    def _update(self, rows: list[tuple[Row, int]], tally: Tally) -> None:
        if not rows:
            return
        companies = Company.objects.in_bulk({target for _row, target in rows})
        changed: dict[int, Company] = {}
        changed_fields: set[str] = set()
        events: list[RecordEvent] = []
        for row, target in rows:
            company = companies[target]
            changes: list[tuple[str, Any, Any]] = []
            for name, attr in COMPANY_FIELDS.items():
                if name in row.values and getattr(company, attr) != row.values[name]:
                    changes.append((name, getattr(company, attr), row.values[name]))
                    setattr(company, attr, row.values[name])
                    changed_fields.add(attr)
            current = dict(company.custom or {})
            for name, value in _custom_values(self, row.values).items():
                if current.get(name) != value:
                    changes.append((name, current.get(name), value))
                    current[name] = value
            if current != (company.custom or {}):
                company.custom = current
                changed_fields.add("custom")
            if changes:
                changed[company.pk] = company
                events.extend(
                    _event(
                        "company",
                        company.pk,
                        self.actor,
                        "changed",
                        property_name=name,
                        old_value=old,
                        new_value=new,
                    )
                    for name, old, new in changes
                )
                tally.updated += 1
            else:
                tally.unchanged += 1
        if changed:
            Company.objects.bulk_update(
                list(changed.values()), sorted(changed_fields | {"updated_at"})
            )
        RecordEvent.objects.bulk_create(events)


def _first(queryset: Any, field: str, wanted: Iterable[Any]) -> dict[Any, int]:
    found: dict[Any, int] = {}
    if not wanted:
        return found
    for key, pk in queryset.values_list(field, "pk"):
        found.setdefault(key, pk)
    return found


# --- Tickets -----------------------------------------------------------------------------------


FINGERPRINT_PREFIX = "csv:"
PIPELINE_OF_ROW = "_pipeline"  # not a property: never compared or fingerprinted


class TicketImporter(_RecordImporter):
    object_type = "tickets"

    def check(self, values: dict[str, Any]) -> None:
        pipeline = values.get("hs_pipeline") or self.context.default_pipeline
        if pipeline is None:
            raise RowError(_("hs_pipeline: There is no pipeline."))
        # The pipeline a new ticket goes to; a found ticket changes pipeline only when the
        # row names one.
        values[PIPELINE_OF_ROW] = pipeline
        stage_text = values.get("hs_pipeline_stage")
        if stage_text is not None:
            stage = self.context.stages.get(pipeline.pk, {}).get(str(stage_text).lower())
            if stage is None:
                raise RowError(
                    _("hs_pipeline_stage: No status of the pipeline has this id or name.")
                )
            values["hs_pipeline_stage"] = stage
        if not values.get("external_id"):
            values["external_id"] = _fingerprint(values)

    def keys(self, values: dict[str, Any]) -> frozenset[Any]:
        return frozenset({("external_id", values["external_id"])})

    def apply(self, rows: list[Row], tally: Tally) -> None:
        from svardesk.tickets.models import Source, Ticket
        from svardesk.tickets.services import NewTicket, create_tickets

        contact_ids = dict(
            ContactEmail.objects.filter(
                email_key__in={
                    r.values["contact_email"].lower() for r in rows if "contact_email" in r.values
                }
            ).values_list("email_key", "contact_id")
        )
        existing = {
            t.external_id: t
            for t in Ticket.objects.filter(external_id__in={r.values["external_id"] for r in rows})
        }
        users = get_user_model().objects.in_bulk(
            {r.values["hubspot_owner_id"] for r in rows if "hubspot_owner_id" in r.values}
        )
        contacts = Contact.objects.in_bulk(set(contact_ids.values()))
        new_rows: list[Row] = []
        new: list[NewTicket] = []
        for row in rows:
            values = row.values
            contact = None
            if "contact_email" in values:
                contact_id = contact_ids.get(values["contact_email"].lower())
                if contact_id is None:
                    tally.fail(row, _("contact_email: No contact has this email address."))
                    continue
                contact = contacts[contact_id]
            ticket = existing.get(values["external_id"])
            if ticket is not None:
                self._update(ticket, row, contact, tally)
                continue
            new_rows.append(row)
            new.append(
                NewTicket(
                    name=values["subject"],
                    pipeline=values[PIPELINE_OF_ROW],
                    stage=values.get("hs_pipeline_stage"),
                    description=values.get("content", ""),
                    priority=values.get("hs_ticket_priority", ""),
                    category=values.get("hs_ticket_category", ""),
                    owner=users.get(values.get("hubspot_owner_id")),
                    contact=contact,
                    source=Source.IMPORT,
                    custom=_custom_values(self, values),
                )
            )
        if not new:
            return
        actor = self.actor if getattr(self.actor, "pk", None) else None
        tickets = create_tickets(new, actor=actor)
        for ticket, row in zip(tickets, new_rows, strict=True):
            ticket.external_id = row.values["external_id"]
        Ticket.objects.bulk_update(tickets, ["external_id"])
        tally.created += len(tickets)

    def _update(self, ticket: Any, row: Row, contact: Any, tally: Tally) -> None:
        from svardesk.tickets.services import update_ticket

        values = row.values
        wanted: dict[str, Any] = {}
        for name, prop in TICKET_FIELDS.items():
            if name not in values:
                continue
            value = contact if name == "contact_email" else values[name]
            value = getattr(value, "pk", value)
            current = getattr(ticket, f"{prop}_id" if prop in _REFERENCES else prop)
            if current != value:
                wanted[prop] = value
        if "stage" in wanted and "pipeline" not in wanted:
            wanted["pipeline"] = ticket.pipeline_id
        wanted.update(
            (name, value)
            for name, value in _custom_values(self, values).items()
            if ticket.custom.get(name) != value
        )
        if not wanted:
            tally.unchanged += 1
            return
        actor = self.actor if getattr(self.actor, "pk", None) else None
        update_ticket(ticket.pk, actor=actor, changes=wanted)
        tally.updated += 1


_REFERENCES = {"pipeline", "stage", "owner", "contact"}


def _fingerprint(values: dict[str, Any]) -> str:
    plain = {
        name: str(getattr(value, "pk", value))
        for name, value in values.items()
        if name != PIPELINE_OF_ROW
    }
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()
    return FINGERPRINT_PREFIX + digest[:40]


IMPORTERS: dict[str, type[Importer]] = {
    "contacts": ContactImporter,
    "companies": CompanyImporter,
    "tickets": TicketImporter,
}
