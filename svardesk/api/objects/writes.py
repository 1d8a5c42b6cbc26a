"""Creating, changing and archiving objects for the API, only through the services the
workspace uses (`tickets.services`, `tickets.deletion`, `crm.services`,
`records.record_services`), as the token's user. Service field errors come back as
HubSpot's VALIDATION_ERROR on the API's property names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from svardesk.api.errors import CONFLICT, ApiError, validation_error
from svardesk.api.models import ArchivedRecord
from svardesk.api.objects import inputs
from svardesk.api.objects.reads import visible
from svardesk.api.objects.serialize import (
    COMPANIES,
    CONTACTS,
    DEALS,
    MODELS,
    SINGULAR,
    TICKETS,
    builtin_pipeline,
    known_property_names,
    serialize_objects,
)
from svardesk.core.parsing import parse_id
from svardesk.crm import associations as assoc
from svardesk.crm import services as crm_services
from svardesk.crm.exceptions import RecordNotFoundError, RecordValidationError
from svardesk.crm.models import Contact, ContactEmail, ContactPhone, PhoneKind
from svardesk.records import record_services
from svardesk.tickets import services as ticket_services
from svardesk.tickets.deletion import delete_tickets
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.models import Pipeline, Source, Stage, Ticket
from svardesk.tickets.queries import get_default_pipeline

_CATEGORIES = ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED")
# Ticket properties the ticket row holds itself; any other name is a custom property.
_TICKET_BUILTINS = frozenset(
    {"name", "description", "pipeline", "stage", "priority", "category", "owner", "team"}
)


@dataclass
class ObjectInput:
    """One object to create or change: its properties, inline associations and the caller's
    trace id (echoed back)."""

    properties: dict[str, Any]
    associations: list[tuple[str, int]] = field(default_factory=list)
    trace_id: str | None = None


# --- Associations -------------------------------------------------------------------------------


def parse_associations(object_type: str, raw: Any) -> list[tuple[str, int]]:
    """Inline associations (`[{to: {id}, types: [{associationCategory, associationTypeId}]}]`)
    as (target type, id) pairs; each type id must be one of HubSpot's from this type."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise validation_error("associations must be a list.")
    own = SINGULAR[object_type]
    found: list[tuple[str, int]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("to"), dict):
            raise validation_error("Each association needs to.id and types.")
        target_id = parse_id(str(item["to"].get("id", "")).strip())
        if target_id is None:
            raise validation_error(f"Invalid association target id: {item['to'].get('id')!r}")
        types = item.get("types")
        if not isinstance(types, list) or not types:
            raise validation_error("Each association needs at least one type.")
        for spec in types:
            target = _target_of(own, spec)
            if (target, target_id) not in found:
                found.append((target, target_id))
    return found


def _target_of(own: str, spec: Any) -> str:
    if not isinstance(spec, dict):
        raise validation_error("An association type must be an object.")
    category = spec.get("associationCategory", "HUBSPOT_DEFINED")
    type_id = parse_id(spec.get("associationTypeId"))
    if category not in _CATEGORIES or type_id is None:
        raise validation_error(
            f"Invalid association type: {spec.get('associationCategory')!r} "
            f"{spec.get('associationTypeId')!r}"
        )
    for (from_type, to_type, _label), known in assoc.HUBSPOT_TYPE_IDS.items():
        if known == type_id and from_type == own and category == "HUBSPOT_DEFINED":
            return {"ticket": TICKETS, "contact": CONTACTS, "company": COMPANIES, "deal": DEALS}[
                to_type
            ]
    raise validation_error(
        f"associationTypeId {type_id} ({category}) does not associate a {own} with anything.",
        context={"associationTypeId": [str(type_id)]},
    )


def check_targets(objects: Sequence[ObjectInput], *, user: Any) -> None:
    """400 unless every association target exists and the user may see it."""
    wanted: dict[str, set[int]] = {}
    for item in objects:
        for target, target_id in item.associations:
            wanted.setdefault(target, set()).add(target_id)
    for target, ids in wanted.items():
        seen = set(visible(target, user).filter(pk__in=ids).values_list("pk", flat=True))
        missing = sorted(ids - seen)
        if missing:
            raise validation_error(
                f"Could not create associations: no {target} with id "
                + ", ".join(str(i) for i in missing),
                context={"ids": [str(i) for i in missing]},
            )


def _associate(object_type: str, obj: Any, targets: list[tuple[str, int]], user: Any) -> None:
    own = SINGULAR[object_type]
    for target, target_id in targets:
        if object_type == TICKETS:
            if target == CONTACTS and obj.contact_id == target_id:
                continue  # made the ticket's contact when it was created
            partner = MODELS[target].objects.get(pk=target_id)
            record_services.associate_with_record(
                actor=user,
                object_type=SINGULAR[target],
                record=partner,
                partner_type=assoc.TICKET,
                partner_id=obj.pk,
            )
        else:
            record_services.associate_with_record(
                actor=user,
                object_type=own,
                record=obj,
                partner_type=SINGULAR[target],
                partner_id=target_id,
            )


# --- Tickets ------------------------------------------------------------------------------------


def _missing_required(names: list[str]) -> ApiError:
    return validation_error(
        "Cannot create object with type: TICKET. The following required properties were "
        f"missing: [{', '.join(names)}]",
        context={"properties": names},
        errors=[
            {"message": f"{name} is required", "code": inputs.REQUIRED, "context": {}}
            for name in names
        ],
    )


def _ticket_service_errors(errors: Mapping[str, str]) -> ApiError:
    return inputs.property_errors(
        [
            inputs.Problem(
                inputs.api_ticket_name(own),
                inputs.INVALID_OPTION
                if own in ("pipeline", "stage", "owner", "team", "contact", "priority", "category")
                else inputs.INVALID_VALUE,
                message,
            )
            for own, message in errors.items()
        ]
    )


def create_tickets(items: Sequence[ObjectInput], *, user: Any) -> list[Ticket]:
    """Create tickets (source API) in one batch; any invalid one fails them all (nothing is
    created). `hs_pipeline` defaults to the built-in pipeline; `hs_pipeline_stage` is
    required and must be a stage of the pipeline."""
    builtin = builtin_pipeline()
    planned = []
    for item in items:
        changes = inputs.ticket_changes(item.properties, builtin_pipeline=builtin)
        missing = [
            api
            for api, own in (("hs_pipeline_stage", "stage"), ("subject", "name"))
            if changes.get(own) in (None, "")
        ]
        if missing:
            raise _missing_required(missing)
        if changes.get("pipeline") is None:
            changes["pipeline"] = builtin if builtin is not None else get_default_pipeline().pk
        planned.append(changes)
    check_targets(items, user=user)
    pipelines = Pipeline.objects.in_bulk({c["pipeline"] for c in planned})
    stages = Stage.objects.in_bulk({c["stage"] for c in planned})
    owners = get_user_model().objects.in_bulk({c["owner"] for c in planned if c.get("owner")})
    teams = _teams({c["team"] for c in planned if c.get("team")})
    contacts = Contact.objects.in_bulk(
        {i for item in items for t, i in item.associations if t == CONTACTS}
    )
    new = []
    for changes, item in zip(planned, items, strict=True):
        problems = inputs.Problems()
        pipeline = pipelines.get(changes["pipeline"])
        stage = stages.get(changes["stage"])
        if pipeline is None:
            problems.add("hs_pipeline", inputs.INVALID_OPTION, "The pipeline does not exist")
        elif stage is None or stage.pipeline_id != pipeline.pk:
            problems.add(
                "hs_pipeline_stage",
                inputs.INVALID_OPTION,
                f"{item.properties.get('hs_pipeline_stage')} is not a stage of the pipeline",
            )
        owner = owners.get(changes["owner"]) if changes.get("owner") else None
        if changes.get("owner") and owner is None:
            problems.add("hubspot_owner_id", inputs.INVALID_OPTION, "The owner does not exist")
        team = teams.get(changes["team"]) if changes.get("team") else None
        if changes.get("team") and team is None:
            problems.add("hubspot_team_id", inputs.INVALID_OPTION, "The team does not exist")
        problems.raise_if_any()
        contact_id = next((i for t, i in item.associations if t == CONTACTS), None)
        contact = contacts.get(contact_id) if contact_id else None
        new.append(
            ticket_services.NewTicket(
                name=changes["name"],
                pipeline=pipeline,  # type: ignore[arg-type]
                stage=stage,
                description=changes.get("description") or "",
                priority=changes.get("priority") or "",
                category=changes.get("category") or "",
                owner=owner,
                team=team,
                contact=contact,
                source=Source.API,
                custom={
                    k: v for k, v in changes.items() if k not in _TICKET_BUILTINS and v is not None
                },
            )
        )
    try:
        with transaction.atomic():
            tickets = ticket_services.create_tickets(new, actor=user)
            for ticket, item in zip(tickets, items, strict=True):
                if item.associations:
                    _associate(TICKETS, ticket, item.associations, user)
    except TicketValidationError as exc:
        raise _ticket_service_errors(exc.errors) from None
    return tickets


def _teams(ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    from svardesk.teams.models import Team

    return Team.objects.in_bulk(ids)


def update_ticket(ticket: Ticket, properties: Mapping[str, Any], *, user: Any) -> Ticket:
    """Change the listed properties (an empty string clears one)."""
    changes = inputs.ticket_changes(properties, builtin_pipeline=builtin_pipeline())
    if "name" in changes and not changes["name"]:
        raise _missing_required(["subject"])
    try:
        return ticket_services.update_ticket(ticket.pk, actor=user, changes=changes)
    except TicketValidationError as exc:
        raise _ticket_service_errors(exc.errors) from None


# --- Contacts, companies, deals -----------------------------------------------------------------


def _record_service_errors(object_type: str, errors: Mapping[str, str]) -> ApiError:
    problems = []
    for key, message in errors.items():
        name = inputs.api_record_name(object_type, key)
        problems.append(
            inputs.Problem(name, inputs.error_code_for_record(object_type, name), message)
        )
    return inputs.property_errors(problems)


def _conflict(contact_id: int) -> ApiError:
    return ApiError(
        409,
        CONFLICT,
        f"Contact already exists. Existing ID: {contact_id}",
        context={"id": [str(contact_id)]},
    )


def _email_owner(email: str, *, other_than: int | None = None) -> int | None:
    owners = ContactEmail.objects.filter(email_key=email.strip().lower())
    if other_than is not None:
        owners = owners.exclude(contact_id=other_than)
    return owners.values_list("contact_id", flat=True).first()


def _create_kwargs(object_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for key, value in changes.items():
        if key in ("emails", "phones", "mobile_phones"):
            kwargs[key] = [value] if value else []
        elif key == "custom":
            kwargs[key] = {k: v for k, v in value.items() if v is not None}
        elif value is not None:
            kwargs[key] = value
    if object_type in (COMPANIES, DEALS):
        kwargs.setdefault("name", "")
    return kwargs


def create_records(object_type: str, items: Sequence[ObjectInput], *, user: Any) -> list[Any]:
    """Create contacts, companies or deals in one transaction (any invalid one fails them
    all). A contact whose email another contact has is a 409 CONFLICT."""
    planned = [inputs.record_changes(object_type, item.properties) for item in items]
    check_targets(items, user=user)
    if object_type == CONTACTS:
        seen: set[str] = set()
        for changes in planned:
            email = (changes.get("emails") or "").strip().lower()
            if email:
                existing = _email_owner(email)
                if existing is not None:
                    raise _conflict(existing)
                if email in seen:
                    raise validation_error(f"Duplicate email in batch input: {email}")
                seen.add(email)
    create: Any = {
        CONTACTS: crm_services.create_contact,
        COMPANIES: crm_services.create_company,
        DEALS: crm_services.create_deal,
    }[object_type]
    created = []
    try:
        with transaction.atomic():
            for changes, item in zip(planned, items, strict=True):
                record = create(actor=user, **_create_kwargs(object_type, changes))
                if item.associations:
                    _associate(object_type, record, item.associations, user)
                created.append(record)
    except RecordValidationError as exc:
        raise _record_service_errors(object_type, exc.errors) from None
    except RecordNotFoundError:
        raise validation_error("An association target does not exist.") from None
    # Refreshed: an association may have given a contact its primary company.
    fresh = MODELS[object_type].objects.in_bulk([r.pk for r in created])
    return [fresh[r.pk] for r in created]


def _replace_first(current: list[str], new: Any, primary: str | None) -> list[str]:
    """A record's list of addresses or numbers with its first (primary) one replaced by
    `new` (removed when `new` is empty), the others kept."""
    old_first = (primary or (current[0] if current else "")).lower()
    rest = [v for v in current if v.lower() != old_first and v.lower() != str(new or "").lower()]
    return [new, *rest] if new else rest


def _update_kwargs(record: Any, object_type: str, changes: dict[str, Any]) -> dict[str, Any]:
    kwargs = dict(changes)
    if object_type != CONTACTS:
        return kwargs
    if "emails" in kwargs:
        current = list(
            ContactEmail.objects.filter(contact=record)
            .order_by("-is_primary", "id")
            .values_list("email", flat=True)
        )
        kwargs["emails"] = _replace_first(current, kwargs["emails"], record.email or None)
    for key, kind, column in (
        ("phones", PhoneKind.PHONE, "phone"),
        ("mobile_phones", PhoneKind.MOBILE, "mobile_phone"),
    ):
        if key in kwargs:
            current = list(
                ContactPhone.objects.filter(contact=record, kind=kind)
                .order_by("id")
                .values_list("number", flat=True)
            )
            kwargs[key] = _replace_first(current, kwargs[key], getattr(record, column) or None)
    return kwargs


def update_record(
    object_type: str, record: Any, properties: Mapping[str, Any], *, user: Any
) -> Any:
    changes = inputs.record_changes(object_type, properties)
    if object_type == CONTACTS and changes.get("emails"):
        existing = _email_owner(changes["emails"], other_than=record.pk)
        if existing is not None:
            raise _conflict(existing)
    update: Any = {
        CONTACTS: crm_services.update_contact,
        COMPANIES: crm_services.update_company,
        DEALS: crm_services.update_deal,
    }[object_type]
    try:
        with transaction.atomic():
            return update(record, actor=user, **_update_kwargs(record, object_type, changes))
    except RecordValidationError as exc:
        raise _record_service_errors(object_type, exc.errors) from None


def update_objects(
    object_type: str, pairs: Sequence[tuple[Any, Mapping[str, Any]]], *, user: Any
) -> list[Any]:
    """Change each (object, properties) in one transaction: any invalid change fails all.
    Rows are changed (and locked) in primary-key order, so two batches never deadlock;
    the answer keeps the input's order."""
    order = sorted(range(len(pairs)), key=lambda i: pairs[i][0].pk)
    changed: dict[int, Any] = {}
    with transaction.atomic():
        for i in order:
            obj, props = pairs[i]
            if object_type == TICKETS:
                changed[i] = update_ticket(obj, props, user=user)
            else:
                changed[i] = update_record(object_type, obj, props, user=user)
    return [changed[i] for i in range(len(pairs))]


def create_objects(object_type: str, items: Sequence[ObjectInput], *, user: Any) -> list[Any]:
    if object_type == TICKETS:
        return create_tickets(items, user=user)
    return create_records(object_type, items, user=user)


# --- Archive ------------------------------------------------------------------------------------


def archive_objects(object_type: str, objects: Sequence[Any], *, user: Any) -> None:
    """Delete the objects (which the caller found visible), keeping each one's last properties
    as an `ArchivedRecord`, so `archived=true` reads still find them."""
    if not objects:
        return
    shown = serialize_objects(
        object_type, list(objects), properties=known_property_names(object_type), user=None
    )
    now = timezone.now()
    singular = SINGULAR[object_type]
    with transaction.atomic():
        ids = [obj.pk for obj in objects]
        ArchivedRecord.objects.filter(object_type=singular, object_id__in=ids).delete()
        ArchivedRecord.objects.bulk_create(
            ArchivedRecord(
                object_type=singular,
                object_id=obj.pk,
                properties=item["properties"],
                created_at=obj.created_at,
                updated_at=obj.updated_at,
                archived_at=now,
            )
            for obj, item in zip(objects, shown, strict=True)
        )
        if object_type == TICKETS:
            delete_tickets(ids, actor=user)
            return
        delete: Any = {
            CONTACTS: crm_services.delete_contact,
            COMPANIES: crm_services.delete_company,
            DEALS: crm_services.delete_deal,
        }[object_type]
        for obj in sorted(objects, key=lambda o: o.pk):  # lock order: no deadlocks
            delete(obj, actor=user)


def purge_contact(contact: Contact, *, user: Any) -> None:
    """GDPR delete: the contact goes for good, leaving no archived copy."""
    with transaction.atomic():
        ArchivedRecord.objects.filter(object_type=SINGULAR[CONTACTS], object_id=contact.pk).delete()
        crm_services.delete_contact(contact, actor=user)
