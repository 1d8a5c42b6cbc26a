"""Owners (`/crm/v3/owners`): the users who may own tickets and records — super admins and
users with a help desk seat; `archived=true` lists deactivated users instead. An owner's id is
the user's primary key, what `hubspot_owner_id` holds; `userId` is the same number."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse

from svardesk.accounts.models import User
from svardesk.api import scopes
from svardesk.api.errors import not_found, validation_error
from svardesk.api.http import api_endpoint, iso, json_response, parse_bool, parse_limit
from svardesk.core.parsing import parse_id
from svardesk.teams.models import Membership

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def _owners(*, archived: bool) -> QuerySet[User]:
    users = (
        User.objects.filter(is_active=False)
        if archived
        else User.objects.filter(Q(is_superuser=True) | Q(has_seat=True), is_active=True)
    )
    memberships = Membership.objects.select_related("team").order_by("team__name", "team_id")
    return users.select_related("primary_team").prefetch_related(
        Prefetch("memberships", queryset=memberships)
    )


def _teams(user: User) -> list[dict[str, Any]]:
    """The user's teams; exactly one is primary when there are any (the main team, or the
    first by name for a user whose main team was never chosen)."""
    teams = [m.team for m in user.memberships.all()]
    if user.primary_team is not None and all(t.pk != user.primary_team_id for t in teams):
        teams.insert(0, user.primary_team)
    primary_id = user.primary_team_id or (teams[0].pk if teams else None)
    return [{"id": str(t.pk), "name": t.name, "primary": t.pk == primary_id} for t in teams]


def owner_json(user: User) -> dict[str, Any]:
    return {
        "id": str(user.pk),
        "email": user.email,
        "type": "PERSON",
        "firstName": user.first_name,
        "lastName": user.last_name,
        "userId": user.pk,
        "userIdIncludingInactive": user.pk,
        "createdAt": iso(user.date_joined),
        "updatedAt": iso(user.date_joined),
        "archived": not user.is_active,
        "teams": _teams(user),
    }


@api_endpoint(methods=("GET",))
def owner_list(request: HttpRequest) -> HttpResponse:
    scopes.require(request.api_token.scopes, "owners", write=False)  # type: ignore[attr-defined]
    limit = parse_limit(request.GET.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    archived = parse_bool(request.GET.get("archived"), name="archived")
    owners = _owners(archived=archived).order_by("pk")
    email = request.GET.get("email", "").strip()
    if "\x00" in email:
        raise validation_error("email must not contain NUL characters.")
    if email:
        owners = owners.filter(email__iexact=email)
    raw_after = request.GET.get("after", "")
    if raw_after:
        after = parse_id(raw_after)
        if after is None:
            raise validation_error(f"Invalid after: {raw_after!r}")
        owners = owners.filter(pk__gt=after)
    page = list(owners[: limit + 1])
    body: dict[str, Any] = {"results": [owner_json(u) for u in page[:limit]]}
    if len(page) > limit:
        last = str(page[limit - 1].pk)
        link = request.build_absolute_uri(f"{request.path}?limit={limit}&after={last}")
        body["paging"] = {"next": {"after": last, "link": link}}
    return json_response(body)


@api_endpoint(methods=("GET",))
def owner_detail(request: HttpRequest, owner_id: str) -> HttpResponse:
    scopes.require(request.api_token.scopes, "owners", write=False)  # type: ignore[attr-defined]
    id_property = request.GET.get("idProperty", "id") or "id"
    if id_property not in ("id", "userId"):
        raise validation_error(f"Invalid idProperty: {id_property!r}; use id or userId.")
    archived = parse_bool(request.GET.get("archived"), name="archived")
    pk = parse_id(owner_id)
    owner = None if pk is None else _owners(archived=archived).filter(pk=pk).first()
    if owner is None:
        raise not_found(
            f"No owner with {id_property} {owner_id} exists.", context={"id": [owner_id]}
        )
    return json_response(owner_json(owner))
