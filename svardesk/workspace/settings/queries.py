"""The reads the settings pages make: lists with the counts an admin needs to decide.

They only read configuration (users, teams, pipelines, property definitions) and counts, so
they need no ticket access scoping: the settings area is for super admins only.
"""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from svardesk.accounts.models import User
from svardesk.teams.models import Team
from svardesk.tickets import properties as props
from svardesk.tickets.models import (
    CreateFormField,
    Pipeline,
    PropertyDefinition,
    PropertyGroup,
    Stage,
    Ticket,
)


def list_users(search: str = "") -> QuerySet[User]:
    """Users by name, each word of `search` matching the first name, last name or email."""
    users = User.objects.select_related("primary_team").order_by("first_name", "last_name", "email")
    for word in search.split():
        users = users.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
        )
    return users


def get_user(user_id: int) -> User | None:
    return User.objects.select_related("primary_team").filter(pk=user_id).first()


def list_teams_with_member_counts() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("memberships")).order_by("name")


def get_team(team_id: int) -> Team | None:
    return list_teams_with_member_counts().filter(pk=team_id).first()


def list_pipelines_with_stage_counts() -> list[Pipeline]:
    """Pipelines in display order, each with `stages` ordered and carrying `ticket_count`.

    One count of the tickets by status (an index-only scan of the status index), each
    pipeline's the sum of its statuses' (a ticket's status is always of its pipeline,
    tickets.services): joining both to the tickets and grouping took over 10 s at 1M."""
    per_stage = dict(
        Ticket.objects.order_by()
        .values("stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    )
    stages = Stage.objects.order_by("display_order", "id")
    pipelines = list(
        Pipeline.objects.order_by("display_order", "id").prefetch_related(
            Prefetch("stages", queryset=stages)
        )
    )
    for pipeline in pipelines:
        total = 0
        for stage in pipeline.stages.all():
            stage.ticket_count = per_stage.get(stage.pk, 0)  # type: ignore[attr-defined]
            total += stage.ticket_count  # type: ignore[attr-defined]
        pipeline.ticket_count = total  # type: ignore[attr-defined]
    return pipelines


def get_pipeline(pipeline_id: int) -> Pipeline | None:
    return Pipeline.objects.annotate(ticket_count=Count("tickets")).filter(pk=pipeline_id).first()


def get_stage(stage_id: int) -> Stage | None:
    return (
        Stage.objects.select_related("pipeline")
        .annotate(ticket_count=Count("tickets"))
        .filter(pk=stage_id)
        .first()
    )


def list_other_stages(stage: Stage) -> list[Stage]:
    """Every stage a deleted stage's tickets could move to, by pipeline and stage order."""
    return list(
        Stage.objects.select_related("pipeline")
        .exclude(pk=stage.pk)
        .order_by("pipeline__display_order", "pipeline_id", "display_order", "id")
    )


def list_property_groups() -> QuerySet[PropertyGroup]:
    return PropertyGroup.objects.order_by("display_order", "id")


@dataclass(frozen=True)
class PropertyGroupListing:
    label: str
    definitions: list[PropertyDefinition]


def list_custom_properties_by_group(object_type: str = "ticket") -> list[PropertyGroupListing]:
    """Custom properties of `object_type` records under their groups in group order;
    ungrouped ones last."""
    definitions = PropertyDefinition.objects.filter(object_type=object_type)
    definitions = definitions.select_related("group").order_by(
        "group__display_order", "group_id", "display_order", "id"
    )
    grouped: dict[int | None, PropertyGroupListing] = {}
    ungrouped: list[PropertyDefinition] = []
    for definition in definitions:
        if definition.group is None:
            ungrouped.append(definition)
            continue
        listing = grouped.setdefault(
            definition.group_id, PropertyGroupListing(definition.group.label, [])
        )
        listing.definitions.append(definition)
    listings = list(grouped.values())
    if ungrouped:
        listings.append(PropertyGroupListing("", ungrouped))
    return listings


def get_property_definition(definition_id: int) -> PropertyDefinition | None:
    return PropertyDefinition.objects.select_related("group").filter(pk=definition_id).first()


def list_builtin_properties() -> list[props.PropertySpec]:
    return [spec for spec in props.all_property_specs() if spec.is_builtin]


def list_create_form_candidates() -> list[props.PropertySpec]:
    """Every property an agent can fill in, in the registry's order (built-in first)."""
    return [spec for spec in props.all_property_specs() if spec.is_editable]


def list_create_form_fields() -> list[CreateFormField]:
    return list(CreateFormField.objects.order_by("display_order", "id"))
