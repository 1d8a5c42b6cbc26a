"""Pipelines (`/crm/v3/pipelines/{tickets|0-5|deals}`): ticket pipelines and their stages are
the ones Settings → Pipelines edits, changed through the same `tickets.services`; the deal
pipeline is HubSpot's default sales pipeline, read-only.

Ids: the built-in Support pipeline is `"0"` (HubSpot's default pipeline id), any other its
primary key; stages by primary key. `metadata.ticketState` OPEN/CLOSED is `Stage.is_closed`.
Labels are the stored names (a built-in pipeline's and stage's in English), never translated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from svardesk.accounts.models import User
from svardesk.api import scopes
from svardesk.api.crm_settings.common import clean_text, require_super_admin
from svardesk.api.errors import CONFLICT, METHOD_NOT_ALLOWED, ApiError, not_found, validation_error
from svardesk.api.http import api_endpoint, iso, json_object, json_response, no_content, read_json
from svardesk.api.names import builtin_pipeline_id, pipeline_from_api, pipeline_to_api
from svardesk.core.parsing import parse_id
from svardesk.crm.models import DealStage
from svardesk.tickets import services
from svardesk.tickets.exceptions import (
    PipelineInUseError,
    PipelineValidationError,
    StageInUseError,
)
from svardesk.tickets.models import Pipeline, Stage

TICKETS, DEALS = "tickets", "deals"
_OBJECT_TYPES = {"tickets": TICKETS, "ticket": TICKETS, "0-5": TICKETS, "deals": DEALS,
                 "deal": DEALS, "0-3": DEALS}  # fmt: skip
OPEN, CLOSED = "OPEN", "CLOSED"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# HubSpot's default sales pipeline: each stage's win probability, and whether it is closed.
_DEAL_STAGES: dict[str, tuple[str, bool]] = {
    DealStage.APPOINTMENT_SCHEDULED: ("0.2", False),
    DealStage.QUALIFIED_TO_BUY: ("0.4", False),
    DealStage.PRESENTATION_SCHEDULED: ("0.6", False),
    DealStage.DECISION_MAKER_BOUGHT_IN: ("0.8", False),
    DealStage.CONTRACT_SENT: ("0.9", False),
    DealStage.CLOSED_WON: ("1.0", True),
    DealStage.CLOSED_LOST: ("0.0", True),
}
_DEAL_LABELS: dict[str, str] = {
    DealStage.APPOINTMENT_SCHEDULED: "Appointment scheduled",
    DealStage.QUALIFIED_TO_BUY: "Qualified to buy",
    DealStage.PRESENTATION_SCHEDULED: "Presentation scheduled",
    DealStage.DECISION_MAKER_BOUGHT_IN: "Decision maker bought-in",
    DealStage.CONTRACT_SENT: "Contract sent",
    DealStage.CLOSED_WON: "Closed won",
    DealStage.CLOSED_LOST: "Closed lost",
}


def _object_type(request: HttpRequest, raw: str, *, write: bool) -> str:
    found = _OBJECT_TYPES.get(raw.strip().lower())
    if found is None:
        raise validation_error(f"Unable to infer object type from: {raw}")
    scopes.require(request.api_token.scopes, found, write=write)  # type: ignore[attr-defined]
    if write:
        if found == DEALS:
            raise ApiError(405, METHOD_NOT_ALLOWED, "The deal pipeline is read-only in Svardesk.")
        require_super_admin(request)
    return found


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


# --- Shapes ---------------------------------------------------------------------------------


def stage_json(stage: Stage) -> dict[str, Any]:
    return {
        "id": str(stage.pk),
        "label": stage.name,
        "displayOrder": stage.display_order,
        "metadata": {
            "ticketState": CLOSED if stage.is_closed else OPEN,
            "isClosed": "true" if stage.is_closed else "false",
        },
        "archived": False,
        "createdAt": iso(stage.created_at),
        "updatedAt": iso(stage.updated_at),
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def pipeline_json(pipeline: Pipeline, builtin_id: int | None) -> dict[str, Any]:
    stages = sorted(pipeline.stages.all(), key=lambda s: (s.display_order, s.pk))
    return {
        "id": pipeline_to_api(pipeline.pk, builtin_id),
        "label": pipeline.name,
        "displayOrder": pipeline.display_order,
        "stages": [stage_json(s) for s in stages],
        "archived": False,
        "createdAt": iso(pipeline.created_at),
        "updatedAt": iso(pipeline.updated_at),
    }


def _deal_pipeline() -> dict[str, Any]:
    stages = [
        {
            "id": value,
            "label": _DEAL_LABELS[value],
            "displayOrder": order,
            "metadata": {"probability": probability, "isClosed": "true" if closed else "false"},
            "archived": False,
            "createdAt": iso(EPOCH),
            "updatedAt": iso(EPOCH),
            "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        }
        for order, (value, (probability, closed)) in enumerate(_DEAL_STAGES.items())
    ]
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "stages": stages,
        "archived": False,
        "createdAt": iso(EPOCH),
        "updatedAt": iso(EPOCH),
    }


# --- Reading ids and bodies -------------------------------------------------------------------


def _pipeline(raw_id: str, *, lock: bool = False) -> Pipeline:
    try:
        pk = pipeline_from_api(raw_id, builtin_pipeline_id())
    except ValueError:
        raise _no_pipeline(raw_id) from None
    # Writes read stages afresh (the services reorder what is stored, not a prefetched list).
    pipelines = (
        Pipeline.objects.select_for_update()
        if lock
        else Pipeline.objects.prefetch_related("stages")
    )
    found = pipelines.filter(pk=pk).first()
    if found is None:
        raise _no_pipeline(raw_id)
    return found


def _no_pipeline(raw_id: str) -> ApiError:
    return not_found(f"Pipeline {raw_id} does not exist.", context={"pipelineId": [raw_id]})


def _stage(pipeline: Pipeline, raw_id: str) -> Stage:
    pk = parse_id(raw_id.strip())
    found = pipeline.stages.filter(pk=pk).first() if pk is not None else None
    if found is None:
        raise not_found(f"Stage {raw_id} does not exist.", context={"stageId": [raw_id]})
    return found


def _label(body: dict[str, Any], *, required: bool) -> str | None:
    label = body.get("label")
    if label is None and not required:
        return None
    # Names are cut to 100 characters by the services, as the settings forms do.
    return clean_text(label, "label", max_length=10_000, required=True)


def _display_order(body: dict[str, Any]) -> int | None:
    order = body.get("displayOrder")
    if order is None:
        return None
    if isinstance(order, bool) or not isinstance(order, int):
        raise validation_error("displayOrder must be a whole number.")
    return order


def _is_closed(body: dict[str, Any], *, required: bool) -> bool | None:
    metadata = body.get("metadata")
    if metadata is None and not required:
        return None
    if not isinstance(metadata, dict):
        raise validation_error("metadata with ticketState OPEN or CLOSED is required.")
    state = metadata.get("ticketState")
    if state is None and not required:
        return None
    if state not in (OPEN, CLOSED):
        raise validation_error(
            f"metadata.ticketState must be OPEN or CLOSED, got {state!r}.",
            context={"ticketState": [str(state)]},
        )
    return state == CLOSED


def _no_archiving(body: dict[str, Any]) -> None:
    if body.get("archived") is True:
        raise validation_error("Svardesk keeps no archived pipelines or stages: DELETE it.")


def _stage_inputs(body: dict[str, Any]) -> list[tuple[str, bool, int | None]]:
    stages = body.get("stages")
    if not isinstance(stages, list) or not stages:
        raise validation_error("stages must list at least one stage.")
    parsed = []
    for each in stages:
        stage = json_object(each, "Each stage")
        label = _label(stage, required=True)
        closed = _is_closed(stage, required=True)
        parsed.append((str(label), bool(closed), _display_order(stage)))
    # Stages take their place by displayOrder; those without one keep the order given.
    return sorted(parsed, key=lambda s: s[2] if s[2] is not None else 0)


@contextmanager
def _errors_as_api() -> Iterator[None]:
    """Domain errors of a settings change, answered as HubSpot's (in English, as every API
    message is)."""
    with translation.override("en"):
        try:
            yield
        except (PipelineInUseError, StageInUseError) as error:
            raise ApiError(409, CONFLICT, str(error)) from None
        except PipelineValidationError as error:
            raise validation_error(str(error)) from None


# --- Writes (through tickets.services) --------------------------------------------------------


def _place_pipeline(pipeline: Pipeline, position: int | None, actor: User) -> None:
    """Move `pipeline` to index `position` of the pipelines' order."""
    if position is None:
        return
    order = list(Pipeline.objects.order_by("display_order", "id").values_list("pk", flat=True))
    order.remove(pipeline.pk)
    order.insert(max(0, min(position, len(order))), pipeline.pk)
    services.reorder_pipelines(actor=actor, pipeline_ids=order)


def _place(pipeline: Pipeline, stage: Stage, position: int | None, actor: User) -> None:
    """Move `stage` to index `position` of its pipeline's stage order."""
    if position is None:
        return
    order = list(pipeline.stages.order_by("display_order", "id").values_list("pk", flat=True))
    order.remove(stage.pk)
    order.insert(max(0, min(position, len(order))), stage.pk)
    services.reorder_stages(pipeline, actor=actor, stage_ids=order)


@transaction.atomic
def _replace_stages(
    pipeline: Pipeline, wanted: list[tuple[str, bool, int | None]], actor: User
) -> None:
    """Make the pipeline's stages the `wanted` ones: a stage of the same label keeps its id,
    the rest are paired in order; stages left over are deleted (409 while tickets use them)."""
    existing = list(pipeline.stages.order_by("display_order", "id"))
    by_label = {s.name: s for s in existing}
    kept: list[Stage | None] = []
    for label, _closed, _order in wanted:
        match = by_label.pop(label, None)
        kept.append(match)
    spare = [s for s in existing if s in by_label.values()]
    final: list[Stage] = []
    for (label, closed, _order), match in zip(wanted, kept, strict=True):
        stage = match or (spare.pop(0) if spare else None)
        if stage is None:
            stage = services.add_stage(pipeline, actor=actor, name=label, is_closed=closed)
        else:
            services.update_stage(stage, actor=actor, name=label, is_closed=closed)
        final.append(stage)
    for leftover in spare:
        services.delete_stage(leftover, actor=actor)
    services.reorder_stages(pipeline, actor=actor, stage_ids=[s.pk for s in final])


# --- Views ------------------------------------------------------------------------------------


@api_endpoint(methods=("GET", "POST"))
def pipeline_list(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method == "POST")
    if kind == DEALS:
        return json_response({"results": [_deal_pipeline()]})
    builtin_id = builtin_pipeline_id()
    if request.method == "GET":
        pipelines = Pipeline.objects.prefetch_related("stages").order_by("display_order", "id")
        return json_response({"results": [pipeline_json(p, builtin_id) for p in pipelines]})
    body = json_object(read_json(request))
    label = _label(body, required=True)
    wanted = _stage_inputs(body)
    with _errors_as_api(), transaction.atomic():
        pipeline = services.create_pipeline(
            actor=_user(request), name=str(label), stages=[(n, c) for n, c, _o in wanted]
        )
        _place_pipeline(pipeline, _display_order(body), _user(request))
    return json_response(pipeline_json(_pipeline(str(pipeline.pk)), builtin_id), status=201)


@api_endpoint(methods=("GET", "PATCH", "PUT", "DELETE"))
def pipeline_detail(request: HttpRequest, object_type: str, pipeline_id: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method != "GET")
    if kind == DEALS:
        if pipeline_id != "default":
            raise _no_pipeline(pipeline_id)
        return json_response(_deal_pipeline())
    builtin_id = builtin_pipeline_id()
    actor = _user(request)
    if request.method == "GET":
        return json_response(pipeline_json(_pipeline(pipeline_id), builtin_id))
    with _errors_as_api(), transaction.atomic():
        pipeline = _pipeline(pipeline_id, lock=True)
        if request.method == "DELETE":
            services.delete_pipeline(pipeline, actor=actor)
            return no_content()
        body = json_object(read_json(request))
        _no_archiving(body)
        label = _label(body, required=request.method == "PUT")
        if request.method == "PUT":
            _replace_stages(pipeline, _stage_inputs(body), actor)
        if label is not None:
            services.rename_pipeline(pipeline, actor=actor, name=label)
        _place_pipeline(pipeline, _display_order(body), actor)
    return json_response(pipeline_json(_pipeline(pipeline_id), builtin_id))


@api_endpoint(methods=("GET", "POST"))
def stage_list(request: HttpRequest, object_type: str, pipeline_id: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method == "POST")
    if kind == DEALS:
        if pipeline_id != "default":
            raise _no_pipeline(pipeline_id)
        return json_response({"results": _deal_pipeline()["stages"]})
    if request.method == "GET":
        pipeline = _pipeline(pipeline_id)
        stages = sorted(pipeline.stages.all(), key=lambda s: (s.display_order, s.pk))
        return json_response({"results": [stage_json(s) for s in stages]})
    body = json_object(read_json(request))
    label = _label(body, required=True)
    closed = _is_closed(body, required=True)
    actor = _user(request)
    with _errors_as_api(), transaction.atomic():
        pipeline = _pipeline(pipeline_id, lock=True)
        stage = services.add_stage(pipeline, actor=actor, name=str(label), is_closed=bool(closed))
        _place(pipeline, stage, _display_order(body), actor)
    stage.refresh_from_db()
    return json_response(stage_json(stage), status=201)


@api_endpoint(methods=("GET", "PATCH", "PUT", "DELETE"))
def stage_detail(
    request: HttpRequest, object_type: str, pipeline_id: str, stage_id: str
) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method != "GET")
    if kind == DEALS:
        stages = {s["id"]: s for s in _deal_pipeline()["stages"]}
        if pipeline_id != "default" or stage_id not in stages:
            raise not_found(f"Stage {stage_id} does not exist.", context={"stageId": [stage_id]})
        return json_response(stages[stage_id])
    if request.method == "GET":
        return json_response(stage_json(_stage(_pipeline(pipeline_id), stage_id)))
    actor = _user(request)
    with _errors_as_api(), transaction.atomic():
        pipeline = _pipeline(pipeline_id, lock=True)
        stage = _stage(pipeline, stage_id)
        if request.method == "DELETE":
            services.delete_stage(stage, actor=actor)
            return no_content()
        body = json_object(read_json(request))
        _no_archiving(body)
        replace = request.method == "PUT"
        label = _label(body, required=replace)
        closed = _is_closed(body, required=replace)
        if label is not None or closed is not None:
            services.update_stage(
                stage,
                actor=actor,
                name=label if label is not None else stage.name,
                is_closed=closed if closed is not None else stage.is_closed,
            )
        _place(pipeline, stage, _display_order(body), actor)
    stage.refresh_from_db()
    return json_response(stage_json(stage))
