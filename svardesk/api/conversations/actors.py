"""Actors: `A-<user id>` agents, `V-<contact id>` visitors (contacts the token's user may
see), `E-<address>` email addresses and the system `S-hubspot`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from svardesk.accounts.models import User
from svardesk.api.conversations import shapes
from svardesk.api.conversations.common import conversations_endpoint
from svardesk.api.errors import OBJECT_NOT_FOUND, not_found, validation_error
from svardesk.api.http import iso, json_object, json_response, read_json
from svardesk.conversations.queries import users_by_ids
from svardesk.core.parsing import parse_id
from svardesk.tickets.queries import visible_contacts

MAX_INPUTS = 100


def _resolve(actor_ids: list[str], user: User) -> dict[str, dict[str, Any]]:
    """The actors among `actor_ids` that exist (and, for visitors, that the user may see),
    by id, in two statements at most."""
    agents = {a: parse_id(a[2:]) for a in actor_ids if a.startswith("A-")}
    visitors = {a: parse_id(a[2:]) for a in actor_ids if a.startswith("V-")}
    users = users_by_ids(pk for pk in agents.values() if pk is not None)
    contact_ids = [pk for pk in visitors.values() if pk is not None]
    contacts = (
        {c.pk: c for c in visible_contacts(user).filter(pk__in=contact_ids)} if contact_ids else {}
    )
    found: dict[str, dict[str, Any]] = {}
    for actor_id in actor_ids:
        if actor_id in agents:
            pk = agents[actor_id]
            if pk is not None and pk in users:
                found[actor_id] = shapes.agent_shape(users[pk])
        elif actor_id in visitors:
            pk = visitors[actor_id]
            if pk is not None and pk in contacts:
                found[actor_id] = shapes.visitor_shape(contacts[pk])
        elif actor_id.startswith("E-") and "@" in actor_id[2:]:
            found[actor_id] = shapes.email_shape(actor_id[2:])
        elif actor_id == shapes.SYSTEM_ACTOR:
            found[actor_id] = shapes.system_shape()
    return found


@conversations_endpoint()
def actor(request: HttpRequest, actor_id: str) -> HttpResponse:
    found = _resolve([actor_id], request.user).get(actor_id)  # type: ignore[arg-type]
    if found is None:
        raise not_found(f"Actor {actor_id} not found.", context={"id": [actor_id]})
    return json_response(found)


@conversations_endpoint(methods=("POST",), read_methods=("POST",))
def actors_batch_read(request: HttpRequest) -> HttpResponse:
    """200 with every actor, or 207 with the ones found and an error naming the rest."""
    started: dt.datetime = timezone.now()
    inputs = json_object(read_json(request)).get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise validation_error("inputs must be a list of actor ids.")
    if len(inputs) > MAX_INPUTS:
        raise validation_error(f"At most {MAX_INPUTS} inputs are allowed, got {len(inputs)}.")
    wanted = list(dict.fromkeys(inputs))
    found = _resolve(wanted, request.user)  # type: ignore[arg-type]
    missing = [a for a in wanted if a not in found]
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [found[a] for a in wanted if a in found],
        "startedAt": iso(started),
        "completedAt": iso(timezone.now()),
    }
    if not missing:
        return json_response(body)
    body["numErrors"] = 1
    body["errors"] = [
        {
            "status": "error",
            "category": OBJECT_NOT_FOUND,
            "message": "Could not find actors with the given ids.",
            "context": {"ids": missing},
        }
    ]
    return json_response(body, status=207)
