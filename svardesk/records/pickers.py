"""The record pickers: a searchable autocomplete for contacts, companies, deals and users
(owners), served at `/records/pick/<type>/?q=` (`records:pick`) and drawn by
`records/static/records/picker.js` (a WAI-ARIA combobox: arrow keys, Enter, Escape).

The search itself is the search app's (`search.records.pick`: accent-tolerant, any of a
contact's emails, a phone in any format, a company's name and domain), already scoped to the
records the user may see. This module turns its answers into options and builds the widget's
context for the places that use it (the Create ticket panel, the ticket's contact property,
the sidebar cards' "Add", owner fields)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.search import records as record_search

PICKABLE_TYPES = ("contact", "company", "deal", "user")
MAX_RESULTS = 10
MAX_QUERY = 200

_widget_ids = itertools.count(1)


@dataclass(frozen=True)
class PickOption:
    """One option of a picker's list."""

    id: int
    label: str
    secondary: str = ""
    initials: str = ""


def pick_options(
    object_type: str, query: str, *, user: User, limit: int = MAX_RESULTS
) -> list[PickOption]:
    """The records of `object_type` matching `query` that `user` may see, best first."""
    if object_type not in PICKABLE_TYPES:
        raise ValueError(f"Nothing to pick of type {object_type!r}")
    query = query.strip()[:MAX_QUERY]
    if not query and object_type != "user":
        return []
    if not query:  # an owner field lists the first users before anything is typed
        found = [
            record_search.PickedRecord(u.pk, "user", u.display_name, u.email, u.initials)
            for u in record_search.workspace_users().order_by("first_name", "last_name", "pk")[
                :limit
            ]
        ]
    else:
        found = record_search.pick(object_type, query, user=user, limit=limit)
    return [
        PickOption(
            id=int(item.id),
            label=str(item.label),
            secondary=str(getattr(item, "secondary", "") or ""),
            initials=str(getattr(item, "initials", "") or ""),
        )
        for item in found
    ]


def picker_widget(
    object_type: str,
    *,
    name: str,
    label: str,
    value: int | None = None,
    value_label: str = "",
    can_create: bool = False,
    submit_on_pick: bool = False,
    placeholder: str = "",
    required: bool = False,
    input_id: str = "",
    aria_label: str = "",
) -> dict[str, Any]:
    """The context `records/picker/_widget.html` draws: a text box that searches, the hidden
    input named `name` that carries the chosen id, and the list of options."""
    number = next(_widget_ids)
    return {
        "type": object_type,
        "name": name,
        "label": label,
        "value": value,
        "value_label": value_label,
        "can_create": can_create,
        "submit_on_pick": submit_on_pick,
        "required": required,
        "aria_label": aria_label,
        "placeholder": placeholder or _default_placeholder(object_type),
        "url": reverse("records:pick", args=[object_type]),
        "input_id": input_id or f"picker-{object_type}-{number}",
        "list_id": f"picker-list-{object_type}-{number}",
    }


def _default_placeholder(object_type: str) -> str:
    return {
        "contact": _("Search by name, email or phone"),
        "company": _("Search by name or domain"),
        "deal": _("Search by deal name"),
        "user": _("Search by name or email"),
    }[object_type]
