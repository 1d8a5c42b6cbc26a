"""Every change to tickets, pipelines and property definitions. Each writes its timeline rows
in the same transaction; side effects leave through `after_commit`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, Max, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.core.local_cache import clear_local_cache
from svardesk.core.on_commit import after_commit
from svardesk.core.parsing import parse_id
from svardesk.core.precompiled import precompiled_objects
from svardesk.crm import associations
from svardesk.tickets import properties as props
from svardesk.tickets import queries as ticket_queries
from svardesk.tickets import sidebar
from svardesk.tickets.exceptions import (
    PipelineInUseError,
    PipelineValidationError,
    PropertyDefinitionError,
    SidebarLayoutValidationError,
    StageInUseError,
    StaleTicketError,
    TicketValidationError,
)
from svardesk.tickets.models import (
    BuiltinPipeline,
    BuiltinStage,
    Category,
    CreateFormField,
    Pipeline,
    Priority,
    PropertyDefinition,
    PropertyGroup,
    PropertyType,
    Source,
    Stage,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from svardesk.tickets.signals import (
    ticket_changed,
    ticket_updated,
    tickets_created,
    tickets_moved,
)

DEFAULT_PIPELINE_NAME = "Support pipeline"
DEFAULT_STAGES = [
    ("New", False),
    ("Waiting on contact", False),
    ("Waiting on us", False),
    ("Closed", True),
]
# The default statuses are built-in: keyed, so each reader sees them in their language.
_DEFAULT_STAGE_KEYS = {
    "New": BuiltinStage.NEW,
    "Waiting on contact": BuiltinStage.WAITING_ON_CONTACT,
    "Waiting on us": BuiltinStage.WAITING_ON_US,
    "Closed": BuiltinStage.CLOSED,
}

_REFERENCE_FIELDS = {"pipeline", "stage", "owner", "team", "contact"}
_EDITABLE_BUILTINS = {"name", "description", "priority", "category"} | _REFERENCE_FIELDS


def _announce(ticket_id: int, actor_id: int | None) -> None:
    ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


def announce_changed(ticket_ids: Sequence[int], actor_id: int | None) -> None:
    """`ticket_changed` for each of many tickets (call it after commit): their live scopes
    (team, owner, version, stage) read in one statement and sent along as `scope`, so a
    receiver need not read each ticket again."""
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        return
    scopes = ticket_queries.live_scopes(ids)
    for pk in ids:
        ticket_changed.send(sender=Ticket, ticket_id=pk, actor_id=actor_id, scope=scopes.get(pk))


def announce_merged_contact_tickets(
    sender: object, *, ticket_ids: list[int], actor_id: int | None = None, **kwargs: object
) -> None:
    """Receiver of crm's `contacts_merged` (sent after commit): the merged contact's tickets
    now show the survivor, so each is announced as changed (open ticket pages refresh)."""
    for ticket_id in ticket_ids:
        _announce(ticket_id, actor_id)


# --- Tickets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewTicket:
    """What `create_tickets` needs to know of one ticket (the arguments of `create_ticket`)."""

    name: str
    pipeline: Pipeline
    stage: Stage | None = None
    description: str = ""
    priority: str = ""
    category: str = ""
    owner: User | None = None
    team: Any = None
    contact: Any = None
    source: str = Source.MANUAL
    custom: Mapping[str, Any] | None = None
    now: dt.datetime | None = None


@transaction.atomic
def create_ticket(
    *,
    actor: User | None,
    name: str,
    pipeline: Pipeline,
    stage: Stage | None = None,
    description: str = "",
    priority: str = "",
    category: str = "",
    owner: User | None = None,
    team: Any = None,
    contact: Any = None,
    source: str = Source.MANUAL,
    custom: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Create a ticket and the first line of its timeline. With `create_tickets`, the one way
    tickets come to be."""
    new = NewTicket(
        name=name,
        pipeline=pipeline,
        stage=stage,
        description=description,
        priority=priority,
        category=category,
        owner=owner,
        team=team,
        contact=contact,
        source=source,
        custom=custom,
        now=now,
    )
    return create_tickets([new], actor=actor)[0]


@transaction.atomic
def create_tickets(new: Sequence[NewTicket], *, actor: User | None) -> list[Ticket]:
    """Create tickets and their timelines' first lines, in one INSERT each (inbound mail
    arrives in batches). Each is validated as `create_ticket` would; an invalid one raises
    TicketValidationError and nothing is created."""
    for item in new:
        # A person may name only a contact they may see; mail (no actor) names its sender.
        contact_id = getattr(item.contact, "pk", item.contact)
        needs_check = actor is not None and contact_id not in (None, "")
        if needs_check and not ticket_queries.may_use_contact(actor, contact_id):
            raise TicketValidationError({"contact": _("Choose an existing contact.")})
    tickets = [_unsaved_ticket(item) for item in new]
    if not tickets:
        return []
    Ticket.objects.bulk_create(tickets)
    associations.link_ticket_contacts((t.pk, t.contact_id) for t in tickets if t.contact_id)
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket=ticket,
            actor=actor,
            kind=TicketEventKind.CREATED,
            data={"source": ticket.source},
            created_at=ticket.last_activity_at,
        )
        for ticket in tickets
    )
    tickets_created.send(sender=Ticket, tickets=tickets, actor=actor)
    after_commit(announce_changed, [t.pk for t in tickets], actor.pk if actor else None)
    return tickets


def _unsaved_ticket(new: NewTicket) -> Ticket:
    now = new.now or timezone.now()
    name, pipeline, stage = new.name, new.pipeline, new.stage
    errors: dict[str, str] = {}
    if not name or not name.strip():
        errors["name"] = _("Give the ticket a name.")
    if stage is None:
        stage = pipeline.stages.order_by("display_order", "id").first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        errors["stage"] = _("Choose a status of the chosen pipeline.")
    if new.priority and new.priority not in Priority.values:
        errors["priority"] = _("Unknown priority.")
    if new.category and new.category not in Category.values:
        errors["category"] = _("Unknown category.")
    if new.source not in Source.values:
        errors["source"] = _("Unknown source.")
    if new.owner is not None and not _may_own_tickets(new.owner):
        errors["owner"] = _("This user cannot own tickets.")
    clean_custom, custom_errors = _clean_custom_values(new.custom or {})
    errors.update(custom_errors)
    if errors or stage is None:
        raise TicketValidationError(errors)
    return Ticket(
        name=name.strip(),
        description=new.description,
        pipeline=pipeline,
        stage=stage,
        priority=new.priority,
        category=new.category,
        owner=new.owner,
        team=new.team,
        contact=new.contact,
        source=new.source,
        is_open=not stage.is_closed,
        closed_at=now if stage.is_closed else None,
        last_activity_at=now,
        preview=new.description[:200],
        custom={k: v for k, v in clean_custom.items() if v is not None},
    )


def _may_own_tickets(user: User) -> bool:
    return user.is_active and (user.is_superuser or user.has_seat)


def _clean_custom_values(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if not values:
        return cleaned, errors
    definitions = {
        d.name: d
        for d in props.ticket_property_definitions()
        .filter(name__in=list(values))
        .select_related("group")
    }
    for name, raw in values.items():
        definition = definitions.get(name)
        if definition is None:
            errors[name] = _("Unknown property.")
            continue
        try:
            cleaned[name] = props.clean_custom_value(props.spec_for_definition(definition), raw)
        except props.PropertyValueError as exc:
            errors[name] = str(exc)
    return cleaned, errors


def _locked_ticket(ticket_id: int) -> QuerySet[Ticket]:
    return (
        Ticket.objects.select_for_update()
        .select_related("stage", "pipeline")
        .filter(pk=ticket_id)
        .order_by()
    )


def _ticket_to_change(ticket_id: int) -> Ticket:
    """The ticket, locked until the transaction ends, with its stage and pipeline. The API
    and the workspace change tickets all the time: the statement is compiled once
    (core.precompiled), not on every change."""
    if not isinstance(ticket_id, int):  # an id as text, say: Django's own lookup converts it
        return _locked_ticket(ticket_id).get()
    found = precompiled_objects(Ticket, "tickets.ticket_to_change", _locked_ticket, ticket_id)
    if not found:
        raise Ticket.DoesNotExist(f"Ticket {ticket_id} does not exist.")
    return found[0]


@transaction.atomic
def update_ticket(
    ticket_id: int,
    *,
    actor: User | None,
    changes: Mapping[str, Any],
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Change any ticket properties, built-in or custom, recording each change on the timeline.

    `changes` maps property names to plain values (ids for references; model instances are
    accepted too). With `expected_version`, a ticket someone changed meanwhile raises
    StaleTicketError and nothing is written.
    """
    now = now or timezone.now()
    ticket = _ticket_to_change(ticket_id)
    if expected_version is not None and ticket.version != expected_version:
        raise StaleTicketError(ticket)

    errors: dict[str, str] = {}
    updated_fields: set[str] = set()
    events: list[TicketEvent] = []
    changes = dict(changes)

    # A pipeline change without a stage lands in the new pipeline's first stage.
    if "pipeline" in changes and "stage" not in changes:
        new_pipeline_id = _pk(changes["pipeline"])
        if new_pipeline_id != ticket.pipeline_id:
            first = (
                Stage.objects.filter(pipeline_id=new_pipeline_id)
                .order_by("display_order", "id")
                .first()
            )
            changes["stage"] = first.pk if first else None

    specs = props.specs_for_names(changes)
    # Names of the references already loaded, so the timeline needs no lookups for them.
    known_display = {
        (name, plain): shown
        for name in ("stage", "pipeline")
        if (shown := _loaded_reading(ticket, name)) is not None
        and (plain := getattr(ticket, f"{name}_id")) is not None
    }
    for name, raw in changes.items():
        spec = specs.get(name)
        if spec is None:
            errors[name] = _("Unknown property.")
            continue
        old = props.plain_value(ticket, spec)
        try:
            new = _apply(ticket, spec, raw, changes, now, actor=actor)
        except props.PropertyValueError as exc:
            errors[name] = str(exc)
            continue
        if new == old:
            continue
        updated_fields.update(_fields_for(name, spec))
        old_reading = known_display.get((name, old)) or _reading(spec, old)
        new_reading = _loaded_reading(ticket, name) or _reading(spec, new)
        events.append(
            _property_changed(
                ticket.pk,
                actor,
                now,
                name,
                spec.label,
                (old, *old_reading),
                (new, *new_reading),
            )
        )
    if errors:
        raise TicketValidationError(errors)
    if not events:
        return ticket
    ticket.version += 1
    ticket.updated_at = now
    updated_fields |= {"version", "updated_at"}
    ticket.save(update_fields=sorted(updated_fields))
    TicketEvent.objects.bulk_create(events)
    ticket_updated.send(
        sender=Ticket,
        ticket=ticket,
        changed={event.data["property"] for event in events},
        now=now,
        actor=actor,
    )
    after_commit(_announce, ticket.pk, actor.pk if actor else None)
    return ticket


@transaction.atomic
def move_to_stage(
    ticket_ids: Iterable[int], stage: Stage, *, actor: User | None, now: dt.datetime | None = None
) -> list[int]:
    """Move tickets to `stage` of their pipeline — what `update_ticket` does for a status
    change, for many tickets in one UPDATE (customer replies arrive in batches). Tickets
    already there or in another pipeline are left alone. Returns the ids moved."""
    now = now or timezone.now()
    moving = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=list(ticket_ids), pipeline_id=stage.pipeline_id)
        .exclude(stage=stage)
        .order_by("pk")
        .values_list("pk", "stage_id", "is_open")
    )
    if not moving:
        return []
    old_names = {
        pk: (name, key)
        for pk, name, key in Stage.objects.filter(
            pk__in={old for _pk, old, _open in moving}
        ).values_list("pk", "name", "builtin_key")
    }
    ids = [pk for pk, _old, _open in moving]
    if stage.is_closed:  # the close date is when a ticket closes, not when it moves again
        closed_at: Any = Case(When(is_open=True, then=Value(now)), default=F("closed_at"))
    else:
        closed_at = None
    Ticket.objects.filter(pk__in=ids).update(
        stage=stage,
        is_open=not stage.is_closed,
        closed_at=closed_at,
        version=F("version") + 1,
        updated_at=now,
    )
    label = props.specs_for_names(["stage"])["stage"].label
    TicketEvent.objects.bulk_create(
        _property_changed(
            pk,
            actor,
            now,
            "stage",
            label,
            (old, *old_names.get(old, (str(old), ""))),
            (stage.pk, stage.name, stage.builtin_key),
        )
        for pk, old, _open in moving
    )
    tickets_moved.send(sender=Ticket, ticket_ids=ids, stage=stage, now=now, actor=actor)
    after_commit(announce_changed, ids, actor.pk if actor else None)
    return ids


@transaction.atomic
def mark_spam(
    ticket_ids: Iterable[int], *, actor: User | None, is_spam: bool, now: dt.datetime | None = None
) -> int:
    """Mark tickets as spam (they leave every view but Spam) or as not spam. Records the change
    on each ticket's timeline; returns how many tickets changed."""
    now = now or timezone.now()
    ids = list(
        Ticket.objects.select_for_update()
        .filter(pk__in=list(ticket_ids))
        .exclude(is_spam=is_spam)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    # A new version, like any edit: a change made on the ticket as it was is refused.
    Ticket.objects.filter(pk__in=ids).update(
        is_spam=is_spam, version=F("version") + 1, updated_at=now
    )
    label = str(_("Spam"))
    yes_no = {True: str(_("Yes")), False: str(_("No"))}
    TicketEvent.objects.bulk_create(
        _property_changed(
            pk,
            actor,
            now,
            "is_spam",
            label,
            (not is_spam, yes_no[not is_spam], ""),
            (is_spam, yes_no[is_spam], ""),
        )
        for pk in ids
    )
    after_commit(announce_changed, ids, actor.pk if actor else None)
    return len(ids)


def _property_changed(
    ticket_id: int,
    actor: User | None,
    now: dt.datetime,
    name: str,
    label: str,
    old: tuple[Any, str, str],
    new: tuple[Any, str, str],
) -> TicketEvent:
    """A timeline row "label: old → new": plain values, how they read, and the built-in key
    of a stage or pipeline ("" for others), so the timeline shows it in each reader's
    language (tickets.timeline)."""
    return TicketEvent(
        ticket_id=ticket_id,
        actor=actor,
        kind=TicketEventKind.PROPERTY_CHANGED,
        created_at=now,
        data={
            "property": name,
            "label": label,
            "old": old[0],
            "new": new[0],
            "old_display": old[1],
            "new_display": new[1],
            "old_key": old[2],
            "new_key": new[2],
        },
    )


def _reading(spec: props.PropertySpec, value: Any) -> tuple[str, str]:
    """How a plain value reads, and the built-in key of the stage or pipeline it names."""
    if spec.is_builtin and spec.name in ("stage", "pipeline") and value is not None:
        model = Stage if spec.name == "stage" else Pipeline
        found = model.objects.filter(pk=value).values_list("name", "builtin_key").first()
        if found is not None:
            return found[0], found[1]
    return props.display_value(spec, value), ""


def _loaded_reading(ticket: Ticket, name: str) -> tuple[str, str] | None:
    """The stored name and built-in key of the ticket's stage or pipeline when that object is
    loaded and current (select_related, or set by `_apply`), else None."""
    if name not in ("stage", "pipeline"):
        return None
    field = Ticket._meta.get_field(name)
    if not field.is_cached(ticket):  # type: ignore[union-attr]
        return None
    related = getattr(ticket, name)
    if related is None or related.pk != getattr(ticket, f"{name}_id"):
        return None
    return str(related.name), str(related.builtin_key)


def _pk(value: Any) -> Any:
    value = getattr(value, "pk", value)
    if value in ("", None):
        return None
    pk = parse_id(value)  # ASCII digits only: int() would take "٣" as 3
    if pk is None:
        raise props.PropertyValueError(_("Choose one of the listed options."))
    return pk


def _fields_for(name: str, spec: props.PropertySpec) -> set[str]:
    if not spec.is_builtin:
        return {"custom"}
    if name == "stage":
        return {"stage", "is_open", "closed_at"}
    if name == "description":
        return {"description", "preview"}
    return {name}


def _apply(
    ticket: Ticket,
    spec: props.PropertySpec,
    raw: Any,
    changes: Mapping[str, Any],
    now: dt.datetime,
    *,
    actor: User | None,
) -> Any:
    """Set one property on the (locked) ticket and return its new plain value."""
    name = spec.name
    if not spec.is_builtin:
        value = props.clean_custom_value(spec, raw)
        if value is None:
            ticket.custom.pop(name, None)
        else:
            ticket.custom[name] = value
        return value
    if name not in _EDITABLE_BUILTINS:
        raise props.PropertyValueError(_("This property cannot be changed."))
    if name == "name":
        text = str(raw or "").strip()
        if not text:
            raise props.PropertyValueError(_("Give the ticket a name."))
        ticket.name = text[:255]
        return ticket.name
    if name == "description":
        ticket.description = str(raw or "")
        ticket.preview = ticket.description[:200]
        return ticket.description
    if name in ("priority", "category"):
        value = str(raw or "")
        allowed = Priority.values if name == "priority" else Category.values
        if value and value not in allowed:
            raise props.PropertyValueError(_("Choose one of the listed options."))
        setattr(ticket, name, value)
        return value
    pk = _pk(raw)
    if name == "pipeline":
        if pk is None or not Pipeline.objects.filter(pk=pk).exists():
            raise props.PropertyValueError(_("Choose an existing pipeline."))
        ticket.pipeline_id = pk
        return pk
    if name == "stage":
        pipeline_id = _pk(changes.get("pipeline", ticket.pipeline_id))
        if isinstance(raw, Stage) and raw.pipeline_id == pipeline_id:
            stage: Stage | None = raw  # a loaded stage needs no second look
        else:
            stage = Stage.objects.filter(pk=pk, pipeline_id=pipeline_id).first() if pk else None
        if stage is None:
            raise props.PropertyValueError(_("Choose a status of the ticket's pipeline."))
        was_open = ticket.is_open
        ticket.stage = stage
        ticket.is_open = not stage.is_closed
        if was_open and not ticket.is_open:
            ticket.closed_at = now
        elif ticket.is_open:
            ticket.closed_at = None
        return pk
    if name == "owner":
        if pk is not None:
            owner = get_user_model().objects.filter(pk=pk).first()
            if owner is None or not _may_own_tickets(owner):
                raise props.PropertyValueError(_("This user cannot own tickets."))
        ticket.owner_id = pk
        return pk
    if name == "team":
        from svardesk.teams.models import Team

        if pk is not None and not Team.objects.filter(pk=pk).exists():
            raise props.PropertyValueError(_("Choose an existing team."))
        ticket.team_id = pk
        return pk
    if name == "contact":
        # Only a contact the actor may see (the same answer as for one that does not exist).
        if pk is not None and not ticket_queries.may_use_contact(actor, pk):
            raise props.PropertyValueError(_("Choose an existing contact."))
        ticket.contact_id = pk
        associations.set_ticket_contact(ticket.pk, pk)
        return pk
    raise props.PropertyValueError(_("This property cannot be changed."))


# --- Pipelines and stages -------------------------------------------------------------------


@transaction.atomic
def create_pipeline(
    *,
    actor: User | None,
    name: str,
    stages: Iterable[tuple[str, bool]] = DEFAULT_STAGES,
    builtin_key: str = "",
) -> Pipeline:
    order = (Pipeline.objects.aggregate(m=Max("display_order"))["m"] or 0) + 1
    is_default = stages is DEFAULT_STAGES  # statuses we name are built-in; given ones not
    pipeline = Pipeline.objects.create(
        name=_required_name(name), builtin_key=builtin_key, display_order=order
    )
    Stage.objects.bulk_create(
        Stage(
            pipeline=pipeline,
            name=stage_name,
            is_closed=is_closed,
            display_order=i,
            builtin_key=_DEFAULT_STAGE_KEYS.get(stage_name, "") if is_default else "",
        )
        for i, (stage_name, is_closed) in enumerate(stages)
    )
    clear_local_cache()  # bulk_create sends no signals
    after_commit(clear_local_cache)
    return pipeline


def ensure_default_pipeline() -> Pipeline:
    """The "Support pipeline" with New, Waiting on contact, Waiting on us and Closed."""
    existing = Pipeline.objects.order_by("display_order", "id").first()
    if existing is not None:
        return existing
    return create_pipeline(
        actor=None, name=DEFAULT_PIPELINE_NAME, builtin_key=BuiltinPipeline.SUPPORT
    )


def _required_name(name: str) -> str:
    if not name or not name.strip():
        raise PipelineValidationError(_("Give it a name."))
    return name.strip()[:100]


@transaction.atomic
def rename_pipeline(pipeline: Pipeline, *, actor: User | None, name: str) -> Pipeline:
    """Rename a pipeline. A built-in one given a new name loses its key and from then on
    reads as typed, in every language; saving the name it shows keeps it built-in."""
    name = _required_name(name)
    if not _keeps_builtin_name(pipeline, name):
        pipeline.name = name
        pipeline.builtin_key = ""
        pipeline.save(update_fields=["name", "builtin_key", "updated_at"])
    return pipeline


def _keeps_builtin_name(record: Pipeline | Stage, name: str) -> bool:
    """True when `name` is what a built-in record already reads as (its stored English name
    or its name in the active language): the admin saved the form without renaming it."""
    return bool(record.builtin_key) and name in (record.name, record.display_name)


@transaction.atomic
def reorder_pipelines(*, actor: User | None, pipeline_ids: list[int]) -> None:
    """Put every pipeline in the given order (the settings list and pickers follow it)."""
    pipelines = {p.pk: p for p in Pipeline.objects.select_for_update()}
    if sorted(pipeline_ids) != sorted(pipelines):
        raise PipelineValidationError(_("The new order must list every pipeline once."))
    for position, pipeline_id in enumerate(pipeline_ids):
        pipelines[pipeline_id].display_order = position
    Pipeline.objects.bulk_update(pipelines.values(), ["display_order"])
    clear_local_cache()  # bulk_update sends no signals
    after_commit(clear_local_cache)


@transaction.atomic
def delete_pipeline(pipeline: Pipeline, *, actor: User | None) -> None:
    if Pipeline.objects.count() <= 1:
        raise PipelineInUseError(_("The last pipeline cannot be deleted."))
    if Ticket.objects.filter(pipeline=pipeline).exists():
        raise PipelineInUseError(_("Move this pipeline's tickets to another pipeline first."))
    pipeline.delete()


@transaction.atomic
def add_stage(pipeline: Pipeline, *, actor: User | None, name: str, is_closed: bool) -> Stage:
    order = (pipeline.stages.aggregate(m=Max("display_order"))["m"] or 0) + 1
    return Stage.objects.create(
        pipeline=pipeline, name=_required_name(name), is_closed=is_closed, display_order=order
    )


@transaction.atomic
def update_stage(stage: Stage, *, actor: User | None, name: str, is_closed: bool) -> Stage:
    """Rename a stage or change whether it is open or closed; tickets in it follow."""
    kind_changed = stage.is_closed != is_closed
    name = _required_name(name)
    if not _keeps_builtin_name(stage, name):  # renamed: it reads as typed from now on
        stage.name = name
        stage.builtin_key = ""
    stage.is_closed = is_closed
    stage.save(update_fields=["name", "builtin_key", "is_closed", "updated_at"])
    if kind_changed:
        now = timezone.now()
        Ticket.objects.filter(stage=stage).update(
            is_open=not is_closed,
            closed_at=now if is_closed else None,
            version=F("version") + 1,
            updated_at=now,
        )
    return stage


@transaction.atomic
def reorder_stages(pipeline: Pipeline, *, actor: User | None, stage_ids: list[int]) -> None:
    stages = {s.pk: s for s in pipeline.stages.all()}
    if set(stage_ids) != set(stages):
        raise PipelineValidationError(
            _("The new order must list every status of the pipeline once.")
        )
    for position, stage_id in enumerate(stage_ids):
        stages[stage_id].display_order = position
    Stage.objects.bulk_update(stages.values(), ["display_order"])
    clear_local_cache()  # bulk_update sends no signals
    after_commit(clear_local_cache)


@transaction.atomic
def delete_stage(stage: Stage, *, actor: User | None, move_to: Stage | None = None) -> int:
    """Delete a stage. Tickets in it must move to `move_to` (a stage of any pipeline); each
    move is recorded on that ticket's timeline. Returns how many tickets moved."""
    if stage.pipeline.stages.count() <= 1:
        raise StageInUseError(_("A pipeline needs at least one status."))
    ticket_ids = list(Ticket.objects.filter(stage=stage).values_list("pk", flat=True))
    if ticket_ids and (move_to is None or move_to.pk == stage.pk):
        raise StageInUseError(_("This status is in use: choose where its tickets move."))
    if ticket_ids and move_to is not None:
        now = timezone.now()
        Ticket.objects.filter(pk__in=ticket_ids).update(
            stage=move_to,
            pipeline=move_to.pipeline_id,
            is_open=not move_to.is_closed,
            closed_at=now if move_to.is_closed else None,
            version=F("version") + 1,
            updated_at=now,
        )
        data = {
            "property": "stage",
            "label": str(_("Ticket status")),
            "old": stage.pk,
            "new": move_to.pk,
            "old_display": stage.name,
            "new_display": move_to.name,
            "old_key": stage.builtin_key,
            "new_key": move_to.builtin_key,
        }
        TicketEvent.objects.bulk_create(
            (
                TicketEvent(
                    ticket_id=pk,
                    actor=actor,
                    kind=TicketEventKind.PROPERTY_CHANGED,
                    created_at=now,
                    data=data,
                )
                for pk in ticket_ids
            ),
            batch_size=2000,
        )
    stage.delete()
    return len(ticket_ids)


# --- Custom properties ----------------------------------------------------------------------

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _check_options(type_: str, options: list[dict[str, str]]) -> list[dict[str, str]]:
    if type_ not in (PropertyType.SELECT, PropertyType.MULTISELECT):
        return []
    cleaned = [
        {
            "value": str(o.get("value") or o.get("label", "")).strip(),
            "label": str(o.get("label", "")).strip(),
        }
        for o in options
        if str(o.get("label", "")).strip()
    ]
    if not cleaned:
        raise PropertyDefinitionError(_("Give the property at least one option."))
    values = [o["value"] for o in cleaned]
    if len(values) != len(set(values)):
        raise PropertyDefinitionError(_("Two options have the same value."))
    return cleaned


@transaction.atomic
def create_property_definition(
    *,
    actor: User | None,
    name: str,
    label: str,
    type: str,
    group: PropertyGroup | None = None,
    description: str = "",
    options: list[dict[str, str]] | None = None,
    object_type: str = props.TICKET_OBJECT,
) -> PropertyDefinition:
    """A custom property of tickets, or (`object_type`) of contacts, companies or deals.
    Internal names are unique across every record type."""
    if not _NAME_PATTERN.match(name):
        raise PropertyDefinitionError(
            _(
                "Internal names use lowercase letters, digits and underscores, starting with a letter."
            )
        )
    if name in props.BUILTIN_NAMES or PropertyDefinition.objects.filter(name=name).exists():
        raise PropertyDefinitionError(_("A property with this internal name already exists."))
    if type not in PropertyType.values:
        raise PropertyDefinitionError(_("Unknown field type."))
    if not label.strip():
        raise PropertyDefinitionError(_("Give the property a label."))
    order = (PropertyDefinition.objects.aggregate(m=Max("display_order"))["m"] or 0) + 1
    return PropertyDefinition.objects.create(
        name=name,
        label=label.strip(),
        type=type,
        group=group,
        description=description,
        options=_check_options(type, options or []),
        display_order=order,
        object_type=object_type,
    )


@transaction.atomic
def update_property_definition(
    definition: PropertyDefinition,
    *,
    actor: User | None,
    label: str,
    group: PropertyGroup | None,
    description: str = "",
    options: list[dict[str, str]] | None = None,
) -> PropertyDefinition:
    """Relabel, regroup or change the options of a property. Its type and name stay fixed so
    stored values keep their meaning."""
    if not label.strip():
        raise PropertyDefinitionError(_("Give the property a label."))
    definition.label = label.strip()
    definition.group = group
    definition.description = description
    if options is not None:
        definition.options = _check_options(definition.type, options)
    definition.save(update_fields=["label", "group", "description", "options", "updated_at"])
    return definition


@transaction.atomic
def delete_property_definition(definition: PropertyDefinition, *, actor: User | None) -> None:
    """Delete a custom property. Stored values stay in the tickets' JSON but are no longer
    shown or accepted; a property of the same name later starts from them."""
    CreateFormField.objects.filter(property_name=definition.name).delete()
    definition.delete()


@transaction.atomic
def create_property_group(*, actor: User | None, label: str) -> PropertyGroup:
    if not label.strip():
        raise PropertyDefinitionError(_("Give the group a label."))
    if PropertyGroup.objects.filter(label__iexact=label.strip()).exists():
        raise PropertyDefinitionError(_("A group with this label already exists."))
    order = (PropertyGroup.objects.aggregate(m=Max("display_order"))["m"] or 0) + 1
    return PropertyGroup.objects.create(label=label.strip(), display_order=order)


@transaction.atomic
def rename_property_group(group: PropertyGroup, *, actor: User | None, label: str) -> PropertyGroup:
    if not label.strip():
        raise PropertyDefinitionError(_("Give the group a label."))
    taken = PropertyGroup.objects.filter(label__iexact=label.strip()).exclude(pk=group.pk)
    if taken.exists():
        raise PropertyDefinitionError(_("A group with this label already exists."))
    group.label = label.strip()
    group.save(update_fields=["label", "updated_at"])
    return group


@transaction.atomic
def delete_property_group(group: PropertyGroup, *, actor: User | None) -> None:
    """Delete a group; its properties stay, ungrouped (shown under the built-in group)."""
    PropertyDefinition.objects.filter(group=group).update(group=None)
    clear_local_cache()  # update() sends no signals; the specs name the group
    after_commit(clear_local_cache)
    group.delete()


# --- The "Create ticket" form ---------------------------------------------------------------

DEFAULT_CREATE_FORM = ["contact", "description", "owner", "priority", "category", "team"]
ALWAYS_IN_CREATE_FORM = ("name", "pipeline", "stage")


def ensure_default_create_form() -> None:
    if CreateFormField.objects.exists():
        return
    CreateFormField.objects.bulk_create(
        CreateFormField(property_name=name, display_order=i)
        for i, name in enumerate(DEFAULT_CREATE_FORM)
    )


@transaction.atomic
def set_create_form_fields(*, actor: User | None, fields: list[tuple[str, bool]]) -> None:
    """Replace the optional fields of the "Create ticket" panel: (property name, required)."""
    specs = props.property_specs_by_name()
    unknown = [name for name, _req in fields if name not in specs or not specs[name].is_editable]
    if unknown:
        raise PropertyDefinitionError(
            _("Unknown property: %(names)s") % {"names": ", ".join(unknown)}
        )
    CreateFormField.objects.all().delete()
    CreateFormField.objects.bulk_create(
        CreateFormField(property_name=name, display_order=i, is_required=required)
        for i, (name, required) in enumerate(fields)
        if name not in ALWAYS_IN_CREATE_FORM
    )


# --- The ticket page's sidebar, per user -----------------------------------------------------


@transaction.atomic
def save_sidebar_layout(
    user: User,
    *,
    order: list[str] | None = None,
    shown: list[str] | None = None,
    card: str | None = None,
    card_properties: list[str] | None = None,
) -> dict[str, Any]:
    """Store the user's card order and/or the properties they show on the ticket page (see
    tickets.sidebar), and/or the record properties one association card (`card`: "contact",
    "company" or "deal") shows. Card keys are kept as given (a group may come back); an
    unknown ticket property or something that is not a layout raises
    SidebarLayoutValidationError, and nothing changes. Record property names are checked by
    the caller against the records' registry (above tickets); unknown ones are ignored when
    read."""
    user = User.objects.select_for_update().get(pk=user.pk)
    current_order, current_hidden = sidebar.layout_of(user)
    current_cards = sidebar.card_properties_of(user)
    if order is not None:
        if len(order) > sidebar.MAX_KEYS or not all(
            isinstance(k, str) and len(k) <= 200 for k in order
        ):
            raise SidebarLayoutValidationError(_("That is not a sidebar layout."))
        current_order = list(dict.fromkeys(order))
    if shown is not None:
        names = {spec.name for spec in sidebar.sidebar_specs()}
        unknown = set(shown) - names
        if unknown:
            raise SidebarLayoutValidationError(
                _("There is no property called “%(name)s”.") % {"name": sorted(unknown)[0]}
            )
        current_hidden = names - set(shown)
    if card is not None or card_properties is not None:
        properties = card_properties or []
        if (
            card not in sidebar.ASSOCIATION_CARDS
            or len(properties) > sidebar.MAX_CARD_PROPERTIES
            or not all(isinstance(n, str) and len(n) <= 200 for n in properties)
        ):
            raise SidebarLayoutValidationError(_("That is not a sidebar layout."))
        current_cards[card] = list(dict.fromkeys(properties))
    layout: dict[str, Any] = {"order": current_order, "hidden": sorted(current_hidden)}
    if current_cards:
        layout["cards"] = current_cards
    User.objects.filter(pk=user.pk).update(ticket_sidebar=layout)
    return layout
