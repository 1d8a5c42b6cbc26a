"""Pipelines and their statuses (stages): create, rename, reorder, open or closed, delete."""

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.core.decorators import super_admin_required
from svardesk.tickets import queries as ticket_queries
from svardesk.tickets import services
from svardesk.tickets.exceptions import (
    PipelineInUseError,
    PipelineValidationError,
    StageInUseError,
)
from svardesk.tickets.models import Pipeline
from svardesk.workspace.settings import queries
from svardesk.workspace.settings.common import actor, found, render_settings
from svardesk.workspace.settings.forms import CLOSED, PipelineForm, StageDeleteForm, StageForm

SECTION = "pipelines"


def _pipeline_url(pipeline_id: int) -> str:
    return f"{reverse('settings:pipelines')}#pipeline-{pipeline_id}"


def _stage_form_prefix(pipeline_id: int) -> str:
    return f"stage-{pipeline_id}"


def _render_list(
    request: HttpRequest,
    *,
    create_form: PipelineForm | None = None,
    failed_stage_form: tuple[int, StageForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    pipelines = queries.list_pipelines_with_stage_counts()
    entries: list[dict[str, Any]] = []
    for pipeline in pipelines:
        if failed_stage_form and failed_stage_form[0] == pipeline.pk:
            stage_form = failed_stage_form[1]
        else:
            stage_form = StageForm(prefix=_stage_form_prefix(pipeline.pk))
        entries.append({"pipeline": pipeline, "stages": pipeline.stages.all(), "form": stage_form})
    return render_settings(
        request,
        "workspace/settings/pipelines.html",
        section=SECTION,
        context={
            "entries": entries,
            "create_form": create_form or PipelineForm(),
            "can_delete_pipelines": len(pipelines) > 1,
        },
        status=status,
    )


@super_admin_required
@require_GET
def pipeline_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request)


@super_admin_required
@require_POST
def pipeline_create(request: HttpRequest) -> HttpResponse:
    form = PipelineForm(request.POST)
    if not form.is_valid():
        return _render_list(request, create_form=form, status=422)
    pipeline = services.create_pipeline(actor=actor(request), name=form.cleaned_data["name"])
    messages.success(
        request,
        _("Pipeline %(name)s was created with the default statuses.")
        % {"name": pipeline.display_name},
    )
    return HttpResponseRedirect(_pipeline_url(pipeline.pk))


@super_admin_required
@require_http_methods(["GET", "POST"])
def pipeline_rename(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = found(queries.get_pipeline(pk))
    form = (
        PipelineForm(request.POST)
        if request.method == "POST"
        else PipelineForm(initial={"name": pipeline.display_name})
    )
    if form.is_bound and form.is_valid():
        services.rename_pipeline(pipeline, actor=actor(request), name=form.cleaned_data["name"])
        messages.success(request, _("The pipeline was renamed."))
        return HttpResponseRedirect(_pipeline_url(pipeline.pk))
    return render_settings(
        request,
        "workspace/settings/pipeline_rename.html",
        section=SECTION,
        context={"pipeline": pipeline, "form": form},
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def pipeline_delete(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = found(queries.get_pipeline(pk))
    error = ""
    if request.method == "POST":
        name = pipeline.display_name
        try:
            services.delete_pipeline(pipeline, actor=actor(request))
        except PipelineInUseError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Pipeline %(name)s was deleted.") % {"name": name})
            return redirect("settings:pipelines")
    return render_settings(
        request,
        "workspace/settings/pipeline_delete.html",
        section=SECTION,
        context={"pipeline": pipeline, "error": error},
        status=409 if error else 200,
    )


@super_admin_required
@require_POST
def stage_add(request: HttpRequest, pk: int) -> HttpResponse:
    pipeline = found(queries.get_pipeline(pk))
    form = StageForm(request.POST, prefix=_stage_form_prefix(pipeline.pk))
    if not form.is_valid():
        return _render_list(request, failed_stage_form=(pipeline.pk, form), status=422)
    stage = services.add_stage(
        pipeline, actor=actor(request), name=form.cleaned_data["name"], is_closed=form.is_closed
    )
    messages.success(request, _("Status %(name)s was added.") % {"name": stage.display_name})
    return HttpResponseRedirect(_pipeline_url(pipeline.pk))


@super_admin_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, pk: int) -> HttpResponse:
    stage = found(queries.get_stage(pk))
    initial = {"name": stage.display_name, "kind": CLOSED if stage.is_closed else "open"}
    form = StageForm(request.POST) if request.method == "POST" else StageForm(initial=initial)
    if form.is_bound and form.is_valid():
        services.update_stage(
            stage, actor=actor(request), name=form.cleaned_data["name"], is_closed=form.is_closed
        )
        messages.success(request, _("Status %(name)s was saved.") % {"name": stage.display_name})
        return HttpResponseRedirect(_pipeline_url(stage.pipeline_id))
    return render_settings(
        request,
        "workspace/settings/stage_edit.html",
        section=SECTION,
        context={"stage": stage, "form": form},
        status=422 if form.is_bound else 200,
    )


@super_admin_required
@require_POST
def stage_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a status one place up or down in its pipeline."""
    stage = found(queries.get_stage(pk))
    pipeline: Pipeline = stage.pipeline
    order = list(ticket_queries.list_stages(pipeline).values_list("pk", flat=True))
    index = order.index(stage.pk)
    step = -1 if request.POST.get("direction") == "up" else 1
    other = index + step
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
        try:
            services.reorder_stages(pipeline, actor=actor(request), stage_ids=order)
        except PipelineValidationError as exc:  # a status was added or deleted meanwhile
            messages.error(request, str(exc))
    return HttpResponseRedirect(_pipeline_url(pipeline.pk))


@super_admin_required
@require_http_methods(["GET", "POST"])
def stage_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a status; while it holds tickets, the admin chooses the status they move to."""
    stage = found(queries.get_stage(pk))
    ticket_count: int = stage.ticket_count  # type: ignore[attr-defined]
    form_kwargs: dict[str, Any] = {
        "stage": stage,
        "ticket_count": ticket_count,
        "targets": queries.list_other_stages(stage),
    }
    form = (
        StageDeleteForm(request.POST, **form_kwargs)
        if request.method == "POST"
        else StageDeleteForm(**form_kwargs)
    )
    if form.is_bound and form.is_valid():
        name = stage.display_name
        pipeline_id = stage.pipeline_id
        try:
            moved = services.delete_stage(stage, actor=actor(request), move_to=form.target_stage())
        except StageInUseError as exc:
            form.add_error(None, str(exc))
        else:
            if moved:
                messages.success(
                    request,
                    ngettext(
                        "Status %(name)s was deleted; %(count)d ticket moved.",
                        "Status %(name)s was deleted; %(count)d tickets moved.",
                        moved,
                    )
                    % {"name": name, "count": moved},
                )
            else:
                messages.success(request, _("Status %(name)s was deleted.") % {"name": name})
            return HttpResponseRedirect(_pipeline_url(pipeline_id))
    return render_settings(
        request,
        "workspace/settings/stage_delete.html",
        section=SECTION,
        context={"stage": stage, "ticket_count": ticket_count, "form": form},
        status=422 if form.is_bound else 200,
    )
