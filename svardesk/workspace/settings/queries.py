"""The reads the settings pages make: lists with the counts an admin needs to decide.

They only read configuration (users, teams, pipelines, property definitions) and counts, so
they need no ticket access scoping: the settings area is for super admins only.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.formats import number_format

from svardesk.accounts.models import User
from svardesk.teams.models import Team
from svardesk.ticket_views.queries import COUNT_LIMIT, count_label
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
    """Pipelines in display order, each with `stages` ordered and carrying `ticket_count`,
    exact up to COUNT_LIMIT and COUNT_LIMIT + 1 beyond ("10,000+", as the sidebar counts).

    One statement: per status a count that stops after COUNT_LIMIT + 1 tickets of the status
    index. Counting every ticket by status read the whole index: ~450 ms at 1M tickets.
    A pipeline carries the sum of its statuses' (a ticket's status is always of its
    pipeline, tickets.services) and `ticket_count_exact`, False when a status was cut off."""
    stages = Stage.objects.order_by("display_order", "id")
    pipelines = list(
        Pipeline.objects.order_by("display_order", "id").prefetch_related(
            Prefetch("stages", queryset=stages)
        )
    )
    stage_ids = [stage.pk for pipeline in pipelines for stage in pipeline.stages.all()]
    per_stage = dict(zip(stage_ids, _capped_counts_by_stage(stage_ids), strict=True))
    for pipeline in pipelines:
        total, exact = 0, True
        for stage in pipeline.stages.all():
            count = per_stage[stage.pk]
            stage.ticket_count = count  # type: ignore[attr-defined]
            stage.ticket_count_label = count_label(count)  # type: ignore[attr-defined]
            total += min(count, COUNT_LIMIT)
            exact = exact and count <= COUNT_LIMIT
        pipeline.ticket_count = total  # type: ignore[attr-defined]
        pipeline.ticket_count_exact = exact  # type: ignore[attr-defined]
        pipeline.ticket_count_label = number_format(total, force_grouping=True)  # type: ignore[attr-defined]
    return pipelines


def _capped_counts_by_stage(stage_ids: list[int]) -> list[int]:
    if not stage_ids:
        return []
    table = connection.ops.quote_name(Ticket._meta.db_table)
    column = connection.ops.quote_name(Ticket._meta.get_field("stage").column)
    parts = [
        f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {column} = %s LIMIT %s) AS c{i})"  # noqa: S608 - names from the model
        for i in range(len(stage_ids))
    ]
    params: list[int] = []
    for stage_id in stage_ids:
        params += [stage_id, COUNT_LIMIT + 1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [int(value) for value in row]


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
