"""Changes made from the ticket lists: custom views (create, edit, delete) and bulk actions
on selected tickets, which go through the tickets' own services one ticket at a time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.core.exceptions import NotFoundError
from svardesk.core.parsing import parse_ascii_int, parse_id
from svardesk.core.text import single_line
from svardesk.teams.models import Team
from svardesk.ticket_views.columns import available_columns, parse_columns, parse_sort
from svardesk.ticket_views.exceptions import (
    CustomViewLimitError,
    CustomViewPermissionError,
    CustomViewValidationError,
)
from svardesk.ticket_views.filters import (
    Filter,
    FilterError,
    FilterSchema,
    filterable_specs,
    validate_filter,
)
from svardesk.ticket_views.models import CustomView, Sharing
from svardesk.ticket_views.queries import access_custom_view
from svardesk.tickets import services as ticket_services
from svardesk.tickets.exceptions import StaleTicketError, TicketValidationError
from svardesk.tickets.models import Stage
from svardesk.tickets.properties import TICKET_OBJECT, PropertySpec
from svardesk.tickets.queries import access_ticket, visible_tickets


@dataclass(frozen=True)
class RecordSchema:
    """Views of records other than tickets (contacts, companies): their object type,
    property specs and filter schema (records.properties)."""

    object_type: str
    specs: Mapping[str, PropertySpec]
    schema: FilterSchema


MAX_FILTERS = 18  # HubSpot's limit on filters in one search
_LIMIT_LOCK = 7_482_211  # PostgreSQL advisory lock: one view creation at a time


def _require_permission(actor: User) -> None:
    if not actor.may_manage_views:
        raise CustomViewPermissionError(
            _("Only users with the Custom views permission can create, edit or delete views.")
        )


def _clean(
    *,
    name: str,
    sharing: str,
    teams: Iterable[Team],
    filters: Sequence[Filter],
    sort: str,
    columns: Sequence[str],
    records: RecordSchema | None = None,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    # Control characters (NUL above all, which PostgreSQL refuses) never belong in a name.
    name = single_line(name or "")
    if not name:
        errors["name"] = _("Give the view a name.")
    elif len(name) > 100:
        errors["name"] = _("Keep the name to 100 characters.")
    if sharing not in Sharing.values:
        errors["sharing"] = _("Choose who can see the view.")
    team_list = list(dict.fromkeys(teams))
    if sharing == Sharing.TEAMS and not team_list:
        errors["teams"] = _("Choose at least one team to share the view with.")
    specs = records.specs if records else filterable_specs()
    schema = records.schema if records else None
    clean_filters: list[dict[str, Any]] = []
    if len(filters) > MAX_FILTERS:
        errors["filters"] = _("A view can have at most %(n)s filters.") % {"n": MAX_FILTERS}
    for item in filters:
        try:
            clean_filters.append(validate_filter(item, specs, schema).to_data())
        except FilterError as exc:
            errors["filters"] = str(exc)
            break
    if errors:
        raise CustomViewValidationError(errors)
    if records is not None:
        # Another record type's list: a sort and columns among its properties.
        sort_name = (sort or "").strip().lstrip("-")
        return {
            "name": name,
            "sharing": sharing,
            "teams": team_list if sharing == Sharing.TEAMS else [],
            "filters": clean_filters,
            "sort": sort.strip() if sort_name in specs else "",
            "columns": [c for c in dict.fromkeys(columns) if c in specs],
        }
    parsed_sort = parse_sort(sort, specs)
    chosen = parse_columns(list(columns), available_columns(specs)) if columns else []
    return {
        "name": name,
        "sharing": sharing,
        "teams": team_list if sharing == Sharing.TEAMS else [],
        "filters": clean_filters,
        "sort": ""
        if parsed_sort.property == "last_activity_at" and parsed_sort.descending
        else parsed_sort.token,
        "columns": chosen,
    }


@transaction.atomic
def create_view(
    *,
    actor: User,
    name: str,
    sharing: str = Sharing.PRIVATE,
    teams: Iterable[Team] = (),
    filters: Sequence[Filter] = (),
    sort: str = "",
    columns: Sequence[str] = (),
    records: RecordSchema | None = None,
) -> CustomView:
    """Save a custom view (of tickets, or of the records `records` describes). Only for
    users with the Custom views permission; refused once the help desk holds
    CUSTOM_VIEW_LIMIT views."""
    _require_permission(actor)
    clean = _clean(
        name=name, sharing=sharing, teams=teams, filters=filters, sort=sort, columns=columns,
        records=records,
    )  # fmt: skip
    if connection.vendor == "postgresql":
        # Two people creating the last allowed view at once must not both succeed.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LIMIT_LOCK])
    limit = settings.CUSTOM_VIEW_LIMIT
    if CustomView.objects.count() >= limit:
        raise CustomViewLimitError(
            _(
                "This help desk has reached its limit of %(limit)s custom views. Delete a view "
                "nobody uses any more, or ask your administrator to raise the limit."
            )
            % {"limit": limit}
        )
    team_list = clean.pop("teams")
    object_type = records.object_type if records else TICKET_OBJECT
    view = CustomView.objects.create(created_by=actor, object_type=object_type, **clean)
    view.teams.set(team_list)
    return view


@transaction.atomic
def update_view(
    view: CustomView,
    *,
    actor: User,
    name: str,
    sharing: str,
    teams: Iterable[Team] = (),
    filters: Sequence[Filter] = (),
    sort: str = "",
    columns: Sequence[str] = (),
    records: RecordSchema | None = None,
) -> CustomView:
    """Change a view the actor can see (access_custom_view first)."""
    _require_permission(actor)
    view = access_custom_view(view.pk, actor=actor, object_type=view.object_type)
    clean = _clean(
        name=name, sharing=sharing, teams=teams, filters=filters, sort=sort, columns=columns,
        records=records,
    )  # fmt: skip
    if clean["sharing"] == Sharing.PRIVATE and view.created_by_id != actor.pk:
        raise CustomViewValidationError(
            {"sharing": _("Only the person who created a view can make it private.")}
        )
    team_list = clean.pop("teams")
    for attribute, value in clean.items():
        setattr(view, attribute, value)
    view.save(update_fields=[*clean, "updated_at"])
    view.teams.set(team_list)
    return view


@transaction.atomic
def rename_view(view: CustomView, *, actor: User, name: str) -> CustomView:
    _require_permission(actor)
    view = access_custom_view(view.pk, actor=actor, object_type=view.object_type)
    name = (name or "").strip()
    if not name:
        raise CustomViewValidationError({"name": _("Give the view a name.")})
    view.name = name[:100]
    view.save(update_fields=["name", "updated_at"])
    return view


@transaction.atomic
def delete_view(view: CustomView, *, actor: User) -> None:
    _require_permission(actor)
    view = access_custom_view(view.pk, actor=actor, object_type=view.object_type)
    view.delete()


# --- Bulk actions ---------------------------------------------------------------------------

BULK_PROPERTIES = ("owner", "stage", "priority", "team")
MAX_BULK = 500


@dataclass(frozen=True)
class ListedTicket:
    """A selected ticket as the list showed it: its id and the version the agent saw."""

    pk: int
    version: int


@dataclass
class BulkResult:
    changed: int = 0
    unchanged: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    # Changed by someone else after the list was shown: left alone (ids, ascending).
    stale: list[int] = field(default_factory=list)


def parse_selection(values: Iterable[object]) -> list[ListedTicket]:
    """The bulk bar's selection, "id:version" per ticket (each row's checkbox). A selection
    that does not say which version was listed (a page from before versions travelled, a
    hand-made post) is refused as a whole: acting on it could overwrite someone's change."""
    selection: dict[int, ListedTicket] = {}
    for raw in values:
        pk_text, _sep, version_text = str(raw).partition(":")
        pk, version = parse_id(pk_text), parse_ascii_int(version_text)
        if pk is None or version is None:
            raise CustomViewValidationError(
                {
                    "tickets": _(
                        "The selection does not say which version of each ticket was listed. "
                        "Reload the list and select the tickets again."
                    )
                }
            )
        selection.setdefault(pk, ListedTicket(pk, version))
    if len(selection) > MAX_BULK:
        raise CustomViewValidationError(
            {"tickets": _("Select at most %(n)s tickets at a time.") % {"n": MAX_BULK}}
        )
    return list(selection.values())


def bulk_update_tickets(
    selection: Iterable[ListedTicket], *, actor: User, changes: dict[str, Any]
) -> BulkResult:
    """Apply the same property changes to each selected ticket the actor may see, through
    tickets.services.update_ticket (one timeline row per change, as by hand), each on the
    version that was listed: a ticket changed since is left alone and reported in `stale`.
    A ticket the actor may not see is skipped as if it did not exist; each ticket is its
    own transaction, so one refused change does not undo the others."""
    unknown = set(changes) - set(BULK_PROPERTIES)
    if unknown or not changes:
        raise CustomViewValidationError({"action": _("Choose what to change.")})
    changes = dict(changes)
    if changes.get("stage"):
        # A status belongs to a pipeline: moving to it moves the ticket to its pipeline.
        stage_id = parse_id(changes["stage"])
        stage = Stage.objects.filter(pk=stage_id).first() if stage_id else None
        if stage is None:
            raise CustomViewValidationError({"stage": _("Choose an existing status.")})
        changes["pipeline"] = stage.pipeline_id
    result = BulkResult()
    for listed in selection:
        try:
            ticket = access_ticket(listed.pk, actor=actor)
            updated = ticket_services.update_ticket(
                ticket.pk, actor=actor, changes=changes, expected_version=listed.version
            )
        except NotFoundError:
            continue
        except StaleTicketError:
            result.stale.append(listed.pk)
            continue
        except TicketValidationError as exc:
            result.failed[listed.pk] = str(exc)
            continue
        if updated.version != listed.version:
            result.changed += 1
        else:
            result.unchanged += 1
    result.stale.sort()
    return result


@transaction.atomic
def bulk_mark_spam(selection: Iterable[ListedTicket], *, actor: User) -> BulkResult:
    """Mark the selected tickets the actor may see as spam, each only if it is still at the
    version that was listed (the others are reported in `stale`)."""
    listed = {item.pk: item.version for item in selection}
    result = BulkResult()
    if not listed:
        return result
    current = (
        visible_tickets(actor)
        .select_for_update()
        .filter(pk__in=list(listed))
        .order_by("pk")
        .values_list("pk", "version")
    )
    fresh: list[int] = []
    for pk, version in current:
        (fresh if version == listed[pk] else result.stale).append(pk)
    if fresh:
        result.changed = ticket_services.mark_spam(fresh, actor=actor, is_spam=True)
    result.unchanged = len(fresh) - result.changed
    return result
