"""How a timeline row reads to the person looking at it.

A property change is stored with its values both plain and as they read when it happened
(`services._property_changed`), so a stage renamed later still reads as it did. What the
product itself names — built-in property labels, option labels, Yes/No, the built-in pipeline
and statuses — is read again in the reader's language; names people typed are shown as typed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _lazy

from svardesk.tickets import properties as props
from svardesk.tickets.models import BuiltinPipeline, BuiltinStage, builtin_display_name


@functools.cache
def _legacy_keys(name: str) -> dict[str, str]:
    """The English names of the built-in records, for rows stored before keys were
    (migration tickets 0006): such a row names a built-in exactly as Svardesk did."""
    choices = BuiltinStage if name == "stage" else BuiltinPipeline
    with translation.override(None):  # the untranslated (English) names
        return {str(c.label): c.value for c in choices}


def _builtin_spec(name: str) -> props.PropertySpec | None:
    """A built-in property's spec in the active language, without building every built-in
    spec again for each timeline row (a ticket page reads one per property change)."""
    return _builtin_specs_in(translation.get_language(), len(props.BUILTIN_NAMES)).get(name)


@functools.lru_cache(maxsize=64)
def _builtin_specs_in(language: str | None, _names: int) -> dict[str, props.PropertySpec]:
    # Built-in specs are the product's own: fixed per language once the apps have
    # registered theirs (`_names` tells a later registration apart).
    with translation.override(language):
        return {spec.name: spec for spec in props._builtin_specs()}


@dataclass(frozen=True)
class ChangeReading:
    label: str
    old: str
    new: str


def read_change(data: Mapping[str, Any]) -> ChangeReading:
    """The label, old and new value of a property-change row in the active language."""
    name = str(data.get("property", ""))
    spec = _builtin_spec(name) if name in props.BUILTIN_NAMES else None
    if name == "is_spam":
        label = gettext("Spam")
    elif spec is not None:
        label = spec.label
    else:
        label = str(data.get("label", name))  # a custom property: its label as it was
    return ChangeReading(
        label=label,
        old=_read_value(name, spec, data, "old"),
        new=_read_value(name, spec, data, "new"),
    )


def _read_value(
    name: str, spec: props.PropertySpec | None, data: Mapping[str, Any], side: str
) -> str:
    shown = str(data.get(f"{side}_display") or "")
    raw = data.get(side)
    if name in ("stage", "pipeline"):
        key = data.get(f"{side}_key")
        if key is None:  # stored before keys were
            key = _legacy_keys(name).get(shown, "")
        choices = BuiltinStage if name == "stage" else BuiltinPipeline
        return builtin_display_name(choices, str(key), shown)
    if name == "is_spam" and isinstance(raw, bool):
        return gettext("Yes") if raw else gettext("No")
    if spec is not None and spec.options and raw not in (None, "", []):
        return props.display_value(spec, raw)
    return shown


# --- SLA rows (kind "sla", written by the sla app: {"goal": …, "event": …}) ---------------------

_SLA_GOALS = {
    "first_response": _lazy("Time to first response"),
    "next_response": _lazy("Time to next response"),
    "close": _lazy("Time to close"),
}
_SLA_EVENTS = {
    "started": _lazy("SLA started"),
    "paused": _lazy("SLA paused"),
    "resumed": _lazy("SLA resumed"),
    "met": _lazy("SLA met"),
    "missed": _lazy("SLA missed"),
    "completed_late": _lazy("SLA completed late"),
}


def read_sla_event(data: Mapping[str, Any]) -> str:
    """An SLA row as a sentence in the active language, e.g. "Time to close: SLA paused"."""
    goal = _SLA_GOALS.get(str(data.get("goal", "")), str(data.get("goal", "")))
    event = _SLA_EVENTS.get(str(data.get("event", "")), str(data.get("event", "")))
    return pgettext("SLA timeline row", "%(goal)s: %(event)s") % {"goal": goal, "event": event}
