"""The ticket's own part of the ticket page: header choices, the right sidebar as the user
arranges it, and the timeline. The page itself — with the conversation beside it — is composed
above the domain apps (`workspace/ticket_page.py`); this module knows no conversation.

The page reads a fixed number of statements whatever the number of properties and events: the
references (pipeline, status, owner, team, contact) come with the ticket
(`queries.access_ticket`), a user property is named from the owner choices, and the statuses
are kept per process (`queries.list_stages_cached`)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.accounts.queries import request_user
from svardesk.core.local_cache import cached, forget
from svardesk.core.parsing import parse_id
from svardesk.tickets import properties as props
from svardesk.tickets import queries, sidebar
from svardesk.tickets.forms import MAX_USERS_IN_SELECT, assignable_users
from svardesk.tickets.models import Category, Priority, PropertyType, Ticket


def _reference_display(ticket: Ticket, spec: props.PropertySpec) -> str | None:
    """A built-in reference's name from the records read with the ticket; None: ask
    `props.display_value` (the ticket was read without them)."""
    if not spec.is_builtin or spec.name not in ("pipeline", "stage", "owner", "team", "contact"):
        return None
    if not Ticket._meta.get_field(spec.name).is_cached(ticket):  # type: ignore[union-attr]
        return None
    record = getattr(ticket, spec.name)
    if record is None:
        return ""
    return str(record.name if spec.name == "team" else record.display_name)


def _user_names(
    ticket: Ticket, specs: list[props.PropertySpec], owners: list[User]
) -> dict[int, str]:
    """The names of the users the ticket's user properties name: from the owner choices,
    and one statement for any other (a user who left) — never one per property."""
    names = {user.pk: user.display_name for user in owners}
    wanted = set()
    for spec in specs:
        if not spec.is_builtin and spec.type == PropertyType.USER:
            pk = parse_id(ticket.custom.get(spec.name))
            if pk is not None and pk not in names:
                wanted.add(pk)
    if wanted:
        names.update(
            (user.pk, user.display_name) for user in get_user_model().objects.filter(pk__in=wanted)
        )
    return names


def _property_rows(ticket: Ticket, owners: list[User]) -> list[dict[str, Any]]:
    """One row a property: its spec, plain and displayed value, and — for an editable one —
    its editor's URL and the edit button's label (made here once instead of by a template
    tag per row: the sidebar lists every property)."""
    specs = sidebar.sidebar_specs()
    user_names = _user_names(ticket, specs, owners)
    # Property names are slugs: one reverse() serves every row.
    edit_url = reverse("tickets:edit_property", args=[ticket.pk, _NAME_SLOT])
    rows = []
    for spec in specs:
        value = props.plain_value(ticket, spec)
        display = _reference_display(ticket, spec)
        if display is None and spec.type == PropertyType.USER and not spec.is_builtin:
            pk = parse_id(value)
            if pk is not None:
                display = user_names.get(pk) or _("Unknown user")
        if display is None:
            display = props.display_value(spec, value)
        row = {"spec": spec, "value": value, "display": display}
        if spec.is_editable:
            row["edit_url"] = edit_url.replace(_NAME_SLOT, spec.name)
            row["edit_label"] = _("Edit %(label)s") % {"label": spec.label}
        rows.append(row)
    return rows


_NAME_SLOT = "property-name-slot"


ASSIGNABLE_USERS_KEY = "tickets:assignable-users"


def assignable_users_cached() -> list[User]:
    """The owner choices, kept per process for a few seconds (core.local_cache; saving a
    user forgets them at once in this process, see apps.py)."""
    return cached(ASSIGNABLE_USERS_KEY, lambda: list(assignable_users()))


def forget_assignable_users(*_args: object, **_kwargs: object) -> None:
    """Signal receiver: a user was saved or deleted."""
    forget(ASSIGNABLE_USERS_KEY)


def detail_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    """What `tickets/partials/_detail.html` needs of the ticket itself. `timeline` is the
    ticket's events, oldest first, for the caller to weave into the conversation. The caller
    has checked that the request's user may see the ticket."""
    user = request_user(request)
    owners = assignable_users_cached()
    rows = _property_rows(ticket, owners)
    order, hidden = sidebar.layout_of(user)
    return {
        "ticket": ticket,
        "sidebar_cards": sidebar.arrange(rows, order=order, hidden=hidden),
        # (spec, is shown, the checkbox's label) for the property chooser
        "sidebar_choices": [
            (
                row["spec"],
                row["spec"].name not in hidden,
                _("Show %(label)s in the sidebar") % {"label": row["spec"].label},
            )
            for row in rows
        ],
        "timeline": list(queries.list_timeline(ticket)),
        "owners": owners,
        # Many users: the owner fields search instead of listing them all.
        "owner_picker": len(owners) > MAX_USERS_IN_SELECT,
        "priorities": Priority.choices,
        "categories": Category.choices,
        "stages": queries.list_stages_cached(ticket.pipeline_id),
    }
