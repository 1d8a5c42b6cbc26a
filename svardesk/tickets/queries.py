"""Every read of tickets a view or the API makes, with the reader's ticket access built in."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from svardesk.accounts.models import TicketAccess, User
from svardesk.core.exceptions import NotFoundError
from svardesk.core.local_cache import cached
from svardesk.core.parsing import parse_id
from svardesk.core.precompiled import precompiled_objects, precompiled_rows
from svardesk.crm import associations
from svardesk.crm.models import Association, Company, Contact, Deal
from svardesk.teams.models import Membership
from svardesk.tickets.models import CreateFormField, Pipeline, Stage, Ticket, TicketEvent


def user_team_ids(user: User) -> list[int]:
    """The user's teams (main team included), cached on the user object for one request."""
    cached: list[int] | None = getattr(user, "_svardesk_team_ids", None)
    if cached is None:
        # Every workspace page asks: compiled once per process (core.precompiled).
        rows = precompiled_rows(Membership, "tickets:team_ids", _team_ids_of, user.pk)
        ids = {team_id for (team_id,) in rows}
        if user.primary_team_id:
            ids.add(user.primary_team_id)
        cached = sorted(ids)
        user._svardesk_team_ids = cached  # type: ignore[attr-defined]
    return cached


def _team_ids_of(user_id: int) -> QuerySet[Membership, Any]:
    return Membership.objects.filter(user_id=user_id).values_list("team_id")


@dataclass(frozen=True)
class TicketScope:
    """The tickets a user may see: every ticket (`sees_all`), or those of `team_ids` and
    those `user_id` owns. The database filters with `as_q()`; a live update, which carries a
    changed ticket's team and owner, is checked in memory with `includes()`."""

    user_id: int
    sees_all: bool
    team_ids: tuple[int, ...]

    def as_q(self) -> Q:
        if self.sees_all:
            return Q()
        if self.team_ids:
            return Q(team_id__in=self.team_ids) | Q(owner_id=self.user_id)
        return Q(owner_id=self.user_id)

    def includes(self, *, team_id: int | None, owner_id: int | None) -> bool:
        return (
            self.sees_all
            or (owner_id is not None and owner_id == self.user_id)
            or (team_id is not None and team_id in self.team_ids)
        )


def ticket_scope(user: User) -> TicketScope:
    """Super admins and "all tickets" see all; "team" sees their teams' tickets and their own;
    "own" sees only tickets they own."""
    if user.is_superuser or user.ticket_access == TicketAccess.ALL:
        return TicketScope(user_id=user.pk, sees_all=True, team_ids=())
    if user.ticket_access == TicketAccess.TEAM:
        return TicketScope(user_id=user.pk, sees_all=False, team_ids=tuple(user_team_ids(user)))
    return TicketScope(user_id=user.pk, sees_all=False, team_ids=())


def ticket_access_q(user: User) -> Q:
    """The tickets a user may see, as a condition (`ticket_scope`)."""
    return ticket_scope(user).as_q()


def ticket_team_and_owner(ticket_id: int) -> tuple[int | None, int | None]:
    """What `TicketScope.includes` needs to know of a ticket; (None, None) if it is gone."""
    row = Ticket.objects.filter(pk=ticket_id).values_list("team_id", "owner_id").first()
    return row if row is not None else (None, None)


def visible_tickets(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(ticket_access_q(user))


def visible_ticket(user: User, ticket_id: int) -> Ticket | None:
    """The ticket if `user` may see it (`visible_tickets`), else None. The API reads one ticket
    per request: a statement compiled once per kind of scope (`_ticket_in_scope`)."""
    return _ticket_in_scope(ticket_id, ticket_scope(user))


def _associated_with_visible_tickets(user: User, object_type: str) -> Q | None:
    """Records of `object_type` associated with a ticket `user` may see, as a condition on
    their id; None when the user sees every ticket (and so every record)."""
    scope = ticket_scope(user)
    if scope.sees_all:
        return None
    pair = associations.stored(associations.TICKET, object_type)
    tickets = Ticket.objects.filter(scope.as_q(), pk=OuterRef("from_id"))
    links = Association.objects.filter(
        Exists(tickets),
        from_type=pair.from_type,
        to_type=pair.to_type,
        to_id=OuterRef(OuterRef("pk")),
        label=associations.UNLABELLED,
    )
    return Q(Exists(links))


def visible_contacts(user: User) -> QuerySet[Contact]:
    """The contacts a user may see and put on a ticket. Super admins and "all tickets" users:
    every contact. Team- and own-scoped users: only contacts associated with a ticket they
    can see — a contact id from elsewhere would let them act on another team's customer
    (mark the ticket spam and block that customer's mail, say). Merged-away contacts are
    never listed."""
    condition = _associated_with_visible_tickets(user, associations.CONTACT)
    contacts = Contact.objects.filter(merged_into__isnull=True)
    return contacts if condition is None else contacts.filter(condition)


def visible_companies(user: User) -> QuerySet[Company]:
    """The companies a user may see: all, or those associated with a ticket in their scope."""
    condition = _associated_with_visible_tickets(user, associations.COMPANY)
    companies = Company.objects.filter(merged_into__isnull=True)
    return companies if condition is None else companies.filter(condition)


def visible_deals(user: User) -> QuerySet[Deal]:
    """The deals a user may see: all, or those associated with a ticket in their scope."""
    condition = _associated_with_visible_tickets(user, associations.DEAL)
    return Deal.objects.all() if condition is None else Deal.objects.filter(condition)


def may_use_contact(user: User | None, contact_id: Any) -> bool:
    """Whether the contact exists and `user` may put it on a ticket (`visible_contacts`);
    None — mail, scripts — may use any contact."""
    pk = parse_id(contact_id)  # ASCII digits only: int() would take "٣" as 3
    if pk is None:
        return False
    contacts = Contact.objects.all() if user is None else visible_contacts(user)
    return contacts.filter(pk=pk).exists()


def access_ticket(
    ticket_id: Any,
    *,
    actor: User,
    for_update: bool = False,
    annotate: tuple[str, Mapping[str, Any]] | None = None,
) -> Ticket:
    """The ticket if the actor may see it; NotFoundError otherwise (no hint that it exists).
    `annotate`: a name and the expressions it stands for, read in the same statement (a page
    composed above the tickets app reads what it shows of other apps with the ticket); the
    same name must always mean the same expressions, as the statement is compiled once."""
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError) as exc:
        raise NotFoundError("No such ticket") from exc
    ticket = _ticket_in_scope(
        pk,
        ticket_scope(actor),
        related=_ACCESS_RELATED,
        for_update=for_update,
        annotate=annotate,
    )
    if ticket is None:
        raise NotFoundError("No such ticket")
    return ticket


_ACCESS_RELATED = ("pipeline", "stage", "owner", "team", "contact")


def _ticket_in_scope(
    ticket_id: int,
    scope: TicketScope,
    *,
    related: tuple[str, ...] = (),
    for_update: bool = False,
    annotate: tuple[str, Mapping[str, Any]] | None = None,
) -> Ticket | None:
    """The ticket if `scope` includes it, with `related` (and `annotate`, see access_ticket);
    locked with `for_update`. Every ticket action, API read and ticket page asks, often twice
    a request: the statement is compiled once per kind of scope (core.precompiled; ~1.5 ms of
    compiling each time otherwise, ~2 ms with the ticket page's subqueries)."""
    kind = "all" if scope.sees_all else "scoped"
    lock = "locked" if for_update else "read"
    values = (ticket_id,) if scope.sees_all else (ticket_id, scope.user_id, *scope.team_ids)
    annotations_name, annotations = annotate if annotate else ("", {})
    found = precompiled_objects(
        Ticket,
        f"tickets.in_scope.{kind}.{lock}.{'+'.join(related)}.{annotations_name}",
        _in_scope_query(related, for_update=for_update, annotations=annotations),
        *values,
    )
    return found[0] if found else None


def _in_scope_query(
    related: tuple[str, ...], *, for_update: bool, annotations: Mapping[str, Any]
) -> Callable[..., QuerySet[Ticket]]:
    def build(ticket_id: int, *scope: int) -> QuerySet[Ticket]:
        queryset = Ticket.objects.filter(pk=ticket_id).order_by()
        if related:  # select_related() with no names would follow every foreign key
            queryset = queryset.select_related(*related)
        if annotations:
            queryset = queryset.annotate(**annotations)
        if scope:  # the user's id, then their teams' ids
            user_id, *team_ids = scope
            limited = TicketScope(user_id=user_id, sees_all=False, team_ids=tuple(team_ids))
            queryset = queryset.filter(limited.as_q())
        if for_update:
            # The ticket's row alone: PostgreSQL refuses to lock the nullable side of an
            # outer join (owner, team, contact).
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    return build


def live_scopes(ticket_ids: Iterable[int]) -> dict[int, tuple[Any, ...]]:
    """Each ticket's (team id, owner id, version, stage id): who may hear of a change to it,
    and what a page that made the change updates its header from."""
    rows = (
        Ticket.objects.filter(pk__in=list(ticket_ids))
        .order_by()
        .values_list("pk", "team_id", "owner_id", "version", "stage_id")
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def list_timeline(ticket: Ticket) -> QuerySet[TicketEvent]:
    return ticket.events.select_related("actor").order_by("created_at", "id")


def list_pipelines_with_stages() -> list[Pipeline]:
    return list(Pipeline.objects.prefetch_related("stages"))


def get_default_pipeline() -> Pipeline:
    pipeline = Pipeline.objects.order_by("display_order", "id").first()
    if pipeline is None:
        raise NotFoundError("No pipeline exists")
    return pipeline


def list_stages(pipeline: Pipeline) -> QuerySet[Stage]:
    return pipeline.stages.order_by("display_order", "id")


def list_stages_cached(pipeline_id: int) -> list[Stage]:
    """`list_stages` kept per process for a few seconds (core.local_cache; saving a stage
    or pipeline clears it, see apps.py): every ticket page shows its pipeline's statuses."""
    return cached(
        f"tickets:stages:{pipeline_id}",
        lambda: list(Stage.objects.filter(pipeline_id=pipeline_id).order_by("display_order", "id")),
    )


def count_tickets_in_stage(stage: Stage) -> int:
    return Ticket.objects.filter(stage=stage).count()


def list_create_form_fields() -> list[CreateFormField]:
    return list(CreateFormField.objects.order_by("display_order", "id"))
