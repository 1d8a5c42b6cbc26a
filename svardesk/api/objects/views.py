"""`/crm/v3/objects/{tickets|contacts|companies|deals}`: list, get, create, update, archive,
the batch endpoints and a contact's GDPR delete. Views parse the request, check the scope and
call `reads` / `writes` / `batch`; English errors whatever the request's language."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from svardesk.api import scopes
from svardesk.api.errors import not_found, validation_error
from svardesk.api.http import (
    api_endpoint,
    json_object,
    json_response,
    list_param,
    no_content,
    parse_bool,
    parse_limit,
    read_json,
)
from svardesk.api.objects import batch, reads, writes
from svardesk.api.objects.inputs import properties_object, storable_text
from svardesk.api.objects.serialize import (
    CONTACTS,
    object_type_from_path,
    serialize_archived,
    serialize_objects,
)

MAX_LIMIT = 100
MAX_LIMIT_WITH_HISTORY = 50


def _require(request: HttpRequest, object_type: str, *, write: bool) -> None:
    scopes.require(request.api_token.scopes, object_type, write=write)  # type: ignore[attr-defined]


def _object_not_found(raw_id: str) -> Exception:
    return not_found(context={"id": [raw_id]} if storable_text(raw_id) else None)


@api_endpoint(methods=("GET", "POST"))
def collection(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = object_type_from_path(object_type)
    with translation.override("en"):
        if request.method == "POST":
            _require(request, kind, write=True)
            return _create(request, kind)
        _require(request, kind, write=False)
        return _list(request, kind)


def _list(request: HttpRequest, kind: str) -> HttpResponse:
    history = list_param(request, "propertiesWithHistory") or None
    limit = parse_limit(
        request.GET.get("limit"),
        default=10,
        maximum=MAX_LIMIT_WITH_HISTORY if history else MAX_LIMIT,
    )
    after = reads.parse_after(request.GET.get("after"))
    properties = list_param(request, "properties") or None
    associations = list_param(request, "associations") or None
    results: list[dict[str, Any]]
    if parse_bool(request.GET.get("archived"), name="archived"):
        tombstones, next_after = reads.archived_page(
            kind, user=request.user, limit=limit, after=after
        )
        results = [
            serialize_archived(t, properties=properties, associations=associations)
            for t in tombstones
        ]
    else:
        records, next_after = reads.page(kind, user=request.user, limit=limit, after=after)
        results = serialize_objects(
            kind,
            records,
            properties=properties,
            user=request.user,
            associations=associations,
            properties_with_history=history,
        )
    body: dict[str, Any] = {"results": results}
    if next_after is not None:
        body["paging"] = {
            "next": {
                "after": next_after,
                "link": f"{request.path}?after={next_after}&limit={limit}",
            }
        }
    return json_response(body)


def _create(request: HttpRequest, kind: str) -> HttpResponse:
    body = json_object(read_json(request))
    item = writes.ObjectInput(
        properties=properties_object(body.get("properties")),
        associations=writes.parse_associations(kind, body.get("associations")),
    )
    [created] = writes.create_objects(kind, [item], user=request.user)
    [shown] = serialize_objects(
        kind,
        [created],
        properties=batch.written_names(kind, [item.properties], created=True),
        user=request.user,
    )
    return json_response(shown, status=201)


@api_endpoint(methods=("GET", "PATCH", "DELETE"))
def item(request: HttpRequest, object_type: str, object_id: str) -> HttpResponse:
    kind = object_type_from_path(object_type)
    with translation.override("en"):
        if request.method == "GET":
            _require(request, kind, write=False)
            return _get(request, kind, object_id)
        _require(request, kind, write=True)
        if request.method == "PATCH":
            return _update(request, kind, object_id)
        return _archive(request, kind, object_id)


def _get(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    properties = list_param(request, "properties") or None
    associations = list_param(request, "associations") or None
    history = list_param(request, "propertiesWithHistory") or None
    id_property = request.GET.get("idProperty") or None
    record = reads.find_one(
        kind, object_id, user=request.user, id_property=id_property, follow_merges=True
    )
    if record is None:
        if parse_bool(request.GET.get("archived"), name="archived"):
            tombstone = reads.find_archived(kind, [object_id], user=request.user).get(
                object_id.strip()
            )
            if tombstone is not None and not id_property:
                return json_response(
                    serialize_archived(tombstone, properties=properties, associations=associations)
                )
        raise _object_not_found(object_id)
    [shown] = serialize_objects(
        kind,
        [record],
        properties=properties,
        user=request.user,
        associations=associations,
        properties_with_history=history,
    )
    return json_response(shown)


def _update(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    body = json_object(read_json(request))
    properties = properties_object(body.get("properties"))
    id_property = request.GET.get("idProperty") or None
    record = reads.find_one(kind, object_id, user=request.user, id_property=id_property)
    if record is None:
        raise _object_not_found(object_id)
    [updated] = writes.update_objects(kind, [(record, properties)], user=request.user)
    [shown] = serialize_objects(
        kind,
        [updated],
        properties=batch.written_names(kind, [properties], created=False),
        user=request.user,
    )
    return json_response(shown)


def _archive(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    record = reads.find_one(kind, object_id, user=request.user)
    if record is not None:
        writes.archive_objects(kind, [record], user=request.user)
    # An unknown (or already archived) id answers 204 too, as HubSpot's does.
    return no_content()


@api_endpoint(methods=("POST",))
def batch_action(request: HttpRequest, object_type: str, action: str) -> HttpResponse:
    kind = object_type_from_path(object_type)
    if action not in ("read", "create", "update", "upsert", "archive"):
        raise not_found(f"Unable to route POST {request.path}")
    with translation.override("en"):
        _require(request, kind, write=action != "read")
        body = json_object(read_json(request))
        if action == "read":
            archived = parse_bool(request.GET.get("archived"), name="archived")
            answer, status = batch.read(kind, body, user=request.user, archived=archived)
        elif action == "create":
            answer, status = batch.create(kind, body, user=request.user)
        elif action == "update":
            answer, status = batch.update(kind, body, user=request.user)
        elif action == "upsert":
            answer, status = batch.upsert(kind, body, user=request.user)
        else:
            batch.archive(kind, body, user=request.user)
            return no_content()
        return json_response(answer, status=status)


@api_endpoint(methods=("POST",))
def gdpr_delete(request: HttpRequest, object_type: str) -> HttpResponse:
    """Delete a contact for good (`objectId`, by `idProperty` — `email` — if given)."""
    kind = object_type_from_path(object_type)
    if kind != CONTACTS:
        raise not_found(f"Unable to route POST {request.path}")
    with translation.override("en"):
        _require(request, kind, write=True)
        body = json_object(read_json(request))
        raw_id = body.get("objectId")
        if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or not str(raw_id):
            raise validation_error("objectId is required.", context={"objectId": ["required"]})
        contact = reads.find_one(
            kind, str(raw_id), user=request.user, id_property=body.get("idProperty") or None
        )
        if contact is None:
            raise _object_not_found(str(raw_id))
        writes.purge_contact(contact, user=request.user)
        return no_content()
