"""How filters read to people: operator names per property kind, the choices a property
offers, and one-line descriptions of conditions ("Priority is any of High, Urgent")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from svardesk.core.parsing import parse_id
from svardesk.teams.models import Team
from svardesk.ticket_views import filters as f
from svardesk.ticket_views.state import LAST_DAYS, NEXT_DAYS
from svardesk.tickets import properties as props
from svardesk.tickets.models import Pipeline, Stage


def operator_choices(spec: props.PropertySpec) -> list[tuple[str, str]]:
    """(operator, label) pairs the advanced filters form offers for a property."""
    kind = f.kind_of(spec)
    known, unknown = _("is known"), _("is unknown")
    if kind == f.USER:
        known, unknown = _("is assigned"), _("is unassigned")
    names: dict[str, str]
    if kind == f.TEXT:
        names = {
            f.CONTAINS_TOKEN: _("contains"),
            f.NOT_CONTAINS_TOKEN: _("doesn't contain"),
            f.EQ: _("is"),
            f.NEQ: _("is not"),
        }
    elif kind == f.NUMBER:
        names = {
            f.EQ: "=",
            f.NEQ: "≠",
            f.LT: "<",
            f.LTE: "≤",
            f.GT: ">",
            f.GTE: "≥",
            f.BETWEEN: _("is between"),
        }
    elif kind in (f.DATE, f.DATETIME):
        names = {
            f.EQ: _("is on"),
            f.LT: _("is before"),
            f.GT: _("is after"),
            f.BETWEEN: _("is between"),
            LAST_DAYS: _("is in the last … days"),
            NEXT_DAYS: _("is in the next … days"),
        }
    elif kind == f.MULTI:
        names = {
            f.IN: _("is any of"),
            f.NOT_IN: _("is none of"),
            f.CONTAINS_TOKEN: _("is all of"),
        }
    elif kind == f.CHECKBOX:
        names = {f.EQ: _("is"), f.NEQ: _("is not")}
    else:
        names = {f.IN: _("is any of"), f.NOT_IN: _("is none of")}
    names[f.HAS_PROPERTY] = known
    names[f.NOT_HAS_PROPERTY] = unknown
    return list(names.items())


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def value_choices(spec: props.PropertySpec) -> list[Choice]:
    """The values a property can be filtered by, for pick lists; empty for free input."""
    kind = f.kind_of(spec)
    if kind in (f.ENUM, f.MULTI):
        return [Choice(value, label) for value, label in spec.options]
    if kind == f.USER:
        from svardesk.tickets.forms import assignable_users

        users = [Choice(str(u.pk), u.display_name) for u in assignable_users()]
        return [Choice(f.ME, _("Me")), *users]
    if kind == f.TEAM:
        teams = [Choice(str(t.pk), t.name) for t in Team.objects.order_by("name")]
        return [Choice(f.MY_TEAM, _("My team")), *teams]
    if spec.type == props.PIPELINE:
        return [Choice(str(p.pk), p.display_name) for p in Pipeline.objects.all()]
    if spec.type == props.STAGE:
        stages = Stage.objects.select_related("pipeline").order_by(
            "pipeline__display_order", "display_order", "id"
        )
        many = Pipeline.objects.count() > 1
        return [
            Choice(
                str(s.pk),
                f"{s.pipeline.display_name}: {s.display_name}" if many else s.display_name,
            )
            for s in stages
        ]
    if kind == f.CHECKBOX:
        return [Choice("true", _("Yes")), Choice("false", _("No"))]
    return []


def describe(item: f.Filter, specs: Mapping[str, props.PropertySpec]) -> str:
    """One line in the user's language, e.g. "Ticket owner is any of me, Anna Agent"."""
    spec = specs.get(item.property)
    if spec is None:
        return _("Unknown property “%(name)s”") % {"name": item.property}
    operator = item.operator
    if (
        operator == f.BETWEEN
        and isinstance(item.value, str)
        and item.value.endswith("_days")
        and item.high_value in (None, "")
    ):
        direction, days = item.value.split("_")[:2]
        label = (
            _("is in the last %(n)s days")
            if direction == "last"
            else _("is in the next %(n)s days")
        )
        return f"{spec.label} {label % {'n': days}}"
    labels = dict(operator_choices(spec))
    operator_label = labels.get(operator, operator)
    if operator in f.NO_VALUE:
        return f"{spec.label} {operator_label}"
    if operator == f.BETWEEN:
        low, high = _value_label(spec, item.value), _value_label(spec, item.high_value)
        return f"{spec.label} {operator_label} {low} {_('and')} {high}"
    values = list(item.values) or [item.value]
    shown = ", ".join(_value_label(spec, v) for v in values)
    return f"{spec.label} {operator_label} {shown}"


def _value_label(spec: props.PropertySpec, value: Any) -> str:
    kind = f.kind_of(spec)
    if value is None:
        return "—"
    text = str(value)
    if kind == f.USER and text == f.ME:
        return _("me")
    if kind == f.TEAM and text == f.MY_TEAM:
        return _("my team")
    if kind in (f.ENUM, f.MULTI):
        return str(dict(spec.options).get(text, text))
    if kind == f.CHECKBOX:
        return _("Yes") if text.lower() in {"true", "1", "yes", "on"} else _("No")
    if kind in (f.DATE, f.DATETIME):
        try:  # a well-formed impossible date ("2024-02-30") raises; it shows as typed
            day = parse_date(text) if len(text) == 10 else None
            if day:
                return date_format(day, "SHORT_DATE_FORMAT")
            moment = parse_datetime(text)
        except ValueError:
            return text
        if moment:
            return date_format(moment, "SHORT_DATETIME_FORMAT")
        return text
    number = parse_id(text)
    if number is not None:
        if kind == f.USER:
            user = get_user_model().objects.filter(pk=number).first()
            return user.display_name if user else _("Unknown user")
        if kind == f.TEAM:
            team = Team.objects.filter(pk=number).first()
            return team.name if team else text
        if spec.type == props.PIPELINE:
            pipeline = Pipeline.objects.filter(pk=number).first()
            return pipeline.display_name if pipeline else text
        if spec.type == props.STAGE:
            stage = Stage.objects.filter(pk=number).first()
            return stage.display_name if stage else text
        if spec.type == "company_ref":  # a contact's company (records.properties)
            from svardesk.crm.models import Company

            company = Company.objects.filter(pk=number).first()
            return str(company) if company else text
    return text
