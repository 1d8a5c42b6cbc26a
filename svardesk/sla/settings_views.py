"""Settings → SLA (super admins): when SLAs apply, working hours per team, goals, rules,
due-soon warnings, pausing statuses; saved for new tickets only or recomputed for the open
ones too (`svardesk.sla.recompute.apply_settings`, a background job with progress).

The pages extend the workspace's settings layout by template name only; this module imports
nothing from `svardesk.workspace` (domain apps stay below the shell).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from svardesk.accounts.models import User
from svardesk.core.decorators import super_admin_required
from svardesk.core.parsing import parse_ascii_int
from svardesk.core.shortcuts import render_settings
from svardesk.sla.models import GOALS, Applies, GoalMode, Recomputation, Schedule, SlaRule
from svardesk.sla.policy import get_settings
from svardesk.sla.settings_forms import (
    DEFAULT_KEY,
    GOAL_LABELS,
    UNIT_CHOICES,
    WEEKDAYS,
    Duration,
    SlaPage,
    goal_property_specs,
    holiday_countries,
    time_zones,
)
from svardesk.teams.models import Team
from svardesk.tickets.models import Pipeline

SECTION = "sla"


def _apply(request: HttpRequest, *, existing_open: bool) -> None:
    """The settings were saved: new tickets follow them; with `existing_open`, a background
    job recomputes every open ticket's timers (its progress shows on the page)."""
    from svardesk.sla.recompute import apply_settings

    job = apply_settings(actor=cast(User, request.user), existing_open=existing_open)
    if job is None:
        messages.success(request, _("SLA settings saved. They apply to new tickets."))
    else:
        messages.success(
            request,
            _("SLA settings saved. Open tickets are being recomputed in the background."),
        )


def _pipelines() -> list[Pipeline]:
    return list(Pipeline.objects.prefetch_related("stages").order_by("display_order", "id"))


def _latest_job() -> Recomputation | None:
    return Recomputation.objects.order_by("-id").first()


def _page_context(page: SlaPage) -> dict[str, Any]:
    specs = goal_property_specs()
    teams = list(Team.objects.order_by("name"))
    team_ids_with_schedule = set(
        Schedule.objects.filter(team__isnull=False).values_list("team_id", flat=True)
    )
    current_team = next((t for t in teams if str(t.pk) == page.schedule_key), None)
    return {
        "page": page,
        "errors": page.errors,
        "applies_choices": Applies.choices,
        "mode_choices": GoalMode.choices,
        "weekdays": [
            {"day": day, "label": WEEKDAYS[day], "ranges": page.weekly.get(day, [])}
            for day in range(7)
        ],
        "time_zones": time_zones(),
        "countries": holiday_countries(),
        "teams": teams,
        "team_ids_with_schedule": team_ids_with_schedule,
        "current_team": current_team,
        "default_key": DEFAULT_KEY,
        "goal_rows": [
            {
                "goal": goal,
                "label": GOAL_LABELS[goal],
                "duration": page.goals[goal],
                "due_soon": page.due_soon[goal],
                "prefix": f"goal-{goal}",
                "soon_prefix": f"soon-{goal}",
                "error": page.errors.get(f"goal-{goal}", ""),
                "soon_error": page.errors.get(f"soon-{goal}", ""),
            }
            for goal in GOALS
        ],
        "value_rows": [
            {
                "index": index,
                "value": row.value,
                "label": row.label,
                "is_enabled": row.is_enabled,
                "cells": [
                    {
                        "prefix": f"pv-{index}-{goal}",
                        "duration": row.goals.get(goal, Duration()),
                        "label": f"{row.label}: {GOAL_LABELS[goal]}",
                        "error": page.errors.get(f"pv-{index}-{goal}", ""),
                    }
                    for goal in GOALS
                ],
            }
            for index, row in enumerate(page.value_goals)
        ],
        "goal_labels": [GOAL_LABELS[goal] for goal in GOALS],
        "goals": GOALS,
        "units": UNIT_CHOICES,
        "property_choices": [(name, spec.label) for name, spec in specs.items()],
        "pipelines": _pipelines(),
        "rules": list(SlaRule.objects.select_related("schedule__team")),
        "job": _latest_job(),
    }


def _render(request: HttpRequest, page: SlaPage, *, status: int = 200) -> HttpResponse:
    return render_settings(
        request, "sla/settings.html", section=SECTION, context=_page_context(page), status=status
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def sla_settings(request: HttpRequest) -> HttpResponse:
    row = get_settings()
    if request.method == "GET":
        key = request.GET.get("schedule", DEFAULT_KEY)
        if key != DEFAULT_KEY and not Team.objects.filter(pk=parse_ascii_int(key) or 0).exists():
            key = DEFAULT_KEY
        return _render(request, SlaPage.load(row, key))
    data = request.POST
    page = SlaPage.from_post(data)
    action = data.get("save", "")
    if "add_hours" in data:
        page.add_hours(parse_ascii_int(data.get("add_hours")) or 0)
        return _render(request, page)
    if "remove_hours" in data:
        day, _sep, index = data.get("remove_hours", "").partition(":")
        page.remove_hours(parse_ascii_int(day) or 0, parse_ascii_int(index) or 0)
        return _render(request, page)
    if action not in ("new", "open"):
        return _render(request, page)  # a re-render (e.g. another property chosen)
    clean = page.clean()
    if clean is None:
        return _render(request, page, status=422)
    clean.save(row)
    _apply(request, existing_open=action == "open")
    url = reverse("sla_settings:settings")
    if page.schedule_key != DEFAULT_KEY:
        url += f"?schedule={page.schedule_key}"
    return redirect(url)


@super_admin_required
@require_GET
def recompute_progress(request: HttpRequest) -> HttpResponse:
    """The latest recomputation's progress (polled by the page while it runs)."""
    return render_settings(
        request,
        "sla/partials/_recompute_progress.html",
        section=SECTION,
        context={"job": _latest_job()},
    )


# -- rules -------------------------------------------------------------------------------


def _rule_context(
    rule: SlaRule | None, data: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    from svardesk.ticket_views import labels
    from svardesk.ticket_views.filters import filterable_specs
    from svardesk.ticket_views.state import encode_filter

    specs = filterable_specs()
    return {
        "rule": rule,
        "name": data["name"],
        "is_enabled": data["is_enabled"],
        "schedule_id": data["schedule_id"],
        "schedules": list(Schedule.objects.select_related("team").order_by("team__name")),
        "conditions": [
            {"label": labels.describe(item, specs), "encoded": encode_filter(item)}
            for item in data["filters"]
        ],
        "filter_properties": list(specs.values()),
        "goal_rows": [
            {"goal": goal, "label": GOAL_LABELS[goal], "duration": data["goals"][goal]}
            for goal in GOALS
        ],
        "units": UNIT_CHOICES,
        "errors": errors,
    }


def _rule_editor(request: HttpRequest, rule: SlaRule | None) -> HttpResponse:
    from svardesk.ticket_views.filters import (
        FilterError,
        filterable_specs,
        filters_from_data,
        filters_to_data,
        validate_filter,
    )
    from svardesk.ticket_views.state import decode_filter, filter_from_form

    errors: dict[str, str] = {}
    if request.method == "GET":
        data: dict[str, Any] = {
            "name": rule.name if rule else "",
            "is_enabled": rule.is_enabled if rule else True,
            "schedule_id": rule.schedule_id if rule else None,
            "filters": filters_from_data(rule.conditions) if rule else [],
            "goals": {
                goal: Duration.of(rule.goal_seconds()[goal] if rule else None) for goal in GOALS
            },
        }
        return _render_rule(request, rule, data, errors)
    post: QueryDict = request.POST
    specs = filterable_specs()
    filters = []
    for raw in post.getlist("f"):
        try:
            filters.append(decode_filter(raw))
        except FilterError as exc:
            errors["filters"] = str(exc)
    remove = parse_ascii_int(post.get("remove"))
    if remove is not None:
        filters = [item for index, item in enumerate(filters) if index != remove]
    action = post.get("action", "")
    if action == "add":
        try:
            item = filter_from_form(post, specs.get(post.get("add_property", "")))
            if item is not None:
                filters.append(validate_filter(item, specs))
        except FilterError as exc:
            errors["filters"] = str(exc)
    schedule_id = parse_ascii_int(post.get("schedule"))
    data = {
        "name": post.get("name", "").strip(),
        "is_enabled": post.get("is_enabled") == "on",
        "schedule_id": schedule_id,
        "filters": filters,
        "goals": {
            goal: Duration(post.get(f"goal-{goal}-value", ""), post.get(f"goal-{goal}-unit", ""))
            for goal in GOALS
        },
    }
    if action not in ("new", "open"):
        return _render_rule(request, rule, data, errors)
    seconds: dict[str, int | None] = {}
    for goal in GOALS:
        try:
            seconds[goal] = data["goals"][goal].seconds()
        except ValueError as exc:
            errors[f"goal-{goal}"] = str(exc)
    if not data["name"]:
        errors["name"] = _("Give the rule a name.")
    elif len(data["name"]) > 100:
        errors["name"] = _("Use at most 100 characters.")
    if not filters:
        errors["filters"] = _(
            "Add at least one condition: a rule without one would match every ticket."
        )
    if schedule_id is not None and not Schedule.objects.filter(pk=schedule_id).exists():
        errors["schedule"] = _("That working schedule no longer exists.")
    if errors:
        return _render_rule(request, rule, data, errors, status=422)
    if rule is None:
        last = SlaRule.objects.order_by("-position").values_list("position", flat=True).first()
        rule = SlaRule(position=(last or 0) + 1)
    rule.name = data["name"]
    rule.is_enabled = data["is_enabled"]
    rule.schedule_id = schedule_id
    rule.conditions = filters_to_data(filters)
    for goal in GOALS:
        setattr(rule, f"{goal}_seconds", seconds[goal])
    rule.save()
    _apply(request, existing_open=action == "open")
    return redirect(reverse("sla_settings:settings") + "#sla-rules")


def _render_rule(
    request: HttpRequest,
    rule: SlaRule | None,
    data: dict[str, Any],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> HttpResponse:
    return render_settings(
        request,
        "sla/rule_form.html",
        section=SECTION,
        context=_rule_context(rule, data, errors),
        status=status,
    )


@super_admin_required
@require_http_methods(["GET", "POST"])
def rule_create(request: HttpRequest) -> HttpResponse:
    return _rule_editor(request, None)


@super_admin_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _rule_editor(request, get_object_or_404(SlaRule, pk=pk))


@super_admin_required
@require_POST
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(SlaRule, pk=pk)
    name = rule.name
    rule.delete()
    messages.success(
        request, _("Rule “%(name)s” deleted. It no longer applies to new tickets.") % {"name": name}
    )
    from svardesk.sla.recompute import apply_settings

    apply_settings(actor=cast(User, request.user), existing_open=False)
    return redirect(reverse("sla_settings:settings") + "#sla-rules")


@super_admin_required
@require_POST
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a rule one place up or down (rules are evaluated in order)."""
    rule = get_object_or_404(SlaRule, pk=pk)
    rules = list(SlaRule.objects.all())
    index = next(i for i, item in enumerate(rules) if item.pk == rule.pk)
    other = index - 1 if request.POST.get("direction") == "up" else index + 1
    if 0 <= other < len(rules):
        rules[index], rules[other] = rules[other], rules[index]
        for position, item in enumerate(rules, start=1):
            if item.position != position:
                item.position = position
                item.save(update_fields=["position", "updated_at"])
        from svardesk.sla.recompute import apply_settings

        apply_settings(actor=cast(User, request.user), existing_open=False)
    return redirect(reverse("sla_settings:settings") + "#sla-rules")
