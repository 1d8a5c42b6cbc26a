"""The batch endpoints' work: read, create, update, upsert and archive up to 100 objects at a
time, answering HubSpot's `BatchResponse…` (207 `…WithErrors` when some ids were not found)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from svardesk.api.errors import OBJECT_NOT_FOUND, validation_error
from svardesk.api.http import iso
from svardesk.api.names import DEFAULT_PROPERTIES
from svardesk.api.objects import reads, writes
from svardesk.api.objects.inputs import properties_object, storable_text
from svardesk.api.objects.serialize import (
    CONTACTS,
    SINGULAR,
    serialize_archived,
    serialize_objects,
)

MAX_INPUTS = 100


def batch_inputs(body: dict[str, Any]) -> list[dict[str, Any]]:
    """`inputs`: a list of at most 100 objects."""
    raw = body.get("inputs")
    if not isinstance(raw, list):
        raise validation_error("inputs must be a list.", context={"inputs": ["required"]})
    if len(raw) > MAX_INPUTS:
        raise validation_error(
            f"Too many inputs: {len(raw)}. A batch takes at most {MAX_INPUTS}.",
            context={"inputs": [str(len(raw))]},
        )
    for item in raw:
        if not isinstance(item, dict):
            raise validation_error("Each input must be an object.")
    return raw


def string_list(body: dict[str, Any], name: str) -> list[str] | None:
    raw = body.get(name)
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise validation_error(f"{name} must be a list of property names.")
    return [v for v in raw if v] or None


def _id_of(item: dict[str, Any]) -> str:
    raw = item.get("id")
    if not isinstance(raw, str | int) or isinstance(raw, bool) or str(raw).strip() == "":
        raise validation_error("Each input needs an id.", context={"id": ["required"]})
    if not storable_text(str(raw)):
        raise validation_error("An input's id contains characters no id has.")
    return str(raw).strip()


def _no_duplicates(ids: Sequence[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise validation_error(
            "Duplicate IDs found in batch input: " + ", ".join(duplicates),
            context={"ids": duplicates},
        )


def _not_found(object_type: str, ids: list[str], verb: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": OBJECT_NOT_FOUND,
        "message": f"Could not {verb} some {SINGULAR[object_type].upper()} objects, they may be "
        "deleted or not exist. Check that ids are valid.",
        "context": {"ids": ids},
        "links": {},
        "errors": [],
    }


def response_body(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: dt.datetime
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": iso(started),
        "startedAt": iso(started),
        "completedAt": iso(timezone.now()),
        "links": {},
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body


def written_names(
    object_type: str, items: Sequence[Mapping[str, Any]], *, created: bool
) -> list[str] | None:
    """What a write answers with: the properties written (plus the always-present ones),
    and for a new object its default properties too."""
    names: list[str] = list(DEFAULT_PROPERTIES[object_type]) if created else []
    for props in items:
        for name in props:
            if name not in names:
                names.append(name)
    return names or None


def read(
    object_type: str, body: dict[str, Any], *, user: Any, archived: bool
) -> tuple[dict[str, Any], int]:
    started = timezone.now()
    items = batch_inputs(body)
    ids: list[str] = []
    for item in items:
        key = _id_of(item)
        if key not in ids:
            ids.append(key)
    id_property = body.get("idProperty") or None
    properties = string_list(body, "properties")
    history = string_list(body, "propertiesWithHistory")
    if archived:
        tombstones = reads.find_archived(object_type, ids, user=user)
        results = [
            serialize_archived(tombstones[i], properties=properties) for i in ids if i in tombstones
        ]
        missing = [i for i in ids if i not in tombstones]
    else:
        found = reads.find_many(
            object_type, ids, user=user, id_property=id_property, follow_merges=True
        )
        records = []
        for key in ids:
            record = found.get(key)
            if record is not None and record not in records:
                records.append(record)
        results = serialize_objects(
            object_type, records, properties=properties, user=user, properties_with_history=history
        )
        missing = [i for i in ids if i not in found]
    errors = [_not_found(object_type, missing, "get")] if missing else []
    return response_body(results, errors, started), 207 if errors else 200


def create(object_type: str, body: dict[str, Any], *, user: Any) -> tuple[dict[str, Any], int]:
    started = timezone.now()
    items = [
        writes.ObjectInput(
            properties=properties_object(item.get("properties")),
            associations=writes.parse_associations(object_type, item.get("associations")),
            trace_id=item.get("objectWriteTraceId"),
        )
        for item in batch_inputs(body)
    ]
    created = writes.create_objects(object_type, items, user=user)
    results = serialize_objects(
        object_type,
        created,
        properties=written_names(object_type, [i.properties for i in items], created=True),
        user=user,
    )
    _echo_traces(results, [i.trace_id for i in items])
    return response_body(results, [], started), 201


def _echo_traces(results: list[dict[str, Any]], traces: Sequence[Any]) -> None:
    for result, trace in zip(results, traces, strict=True):
        if trace is not None:
            result["objectWriteTraceId"] = str(trace)


def update(object_type: str, body: dict[str, Any], *, user: Any) -> tuple[dict[str, Any], int]:
    started = timezone.now()
    items = batch_inputs(body)
    keyed = [
        (_id_of(item), reads.check_id_property(object_type, item.get("idProperty")), item)
        for item in items
    ]
    _no_duplicates([key for key, _prop, _item in keyed])
    found: dict[tuple[str, str], Any] = {}
    by_property: dict[str, list[str]] = {}
    for key, prop, _item in keyed:
        by_property.setdefault(prop, []).append(key)
    for id_property, keys in by_property.items():
        for key, record in reads.find_many(
            object_type, keys, user=user, id_property=id_property
        ).items():
            found[(id_property, key)] = record
    pairs, traces, missing = [], [], []
    for key, prop, item in keyed:
        record = found.get((prop, key))
        if record is None:
            missing.append(key)
            continue
        pairs.append((record, properties_object(item.get("properties"))))
        traces.append(item.get("objectWriteTraceId"))
    updated = writes.update_objects(object_type, pairs, user=user)
    results = serialize_objects(
        object_type,
        updated,
        properties=written_names(object_type, [p for _r, p in pairs], created=False),
        user=user,
    )
    _echo_traces(results, traces)
    errors = [_not_found(object_type, missing, "update")] if missing else []
    return response_body(results, errors, started), 207 if errors else 200


def upsert(object_type: str, body: dict[str, Any], *, user: Any) -> tuple[dict[str, Any], int]:
    """Update the objects whose idProperty value exists, create the others (a contact by
    email gets that email)."""
    started = timezone.now()
    items = batch_inputs(body)
    keyed = []
    for item in items:
        raw_property = item.get("idProperty") or body.get("idProperty")
        if not raw_property:
            raise validation_error("Each upsert input needs an idProperty.")
        id_property = reads.check_id_property(object_type, raw_property)
        keyed.append((_id_of(item), id_property, item))
    _no_duplicates([f"{prop}:{key}" for key, prop, _item in keyed])
    existing: dict[tuple[str, str], Any] = {}
    for id_property in {prop for _key, prop, _item in keyed}:
        keys = [key for key, prop, _item in keyed if prop == id_property]
        for key, record in reads.find_many(
            object_type, keys, user=user, id_property=id_property
        ).items():
            existing[(id_property, key)] = record
    to_update, to_create, order = [], [], []
    for key, prop, item in keyed:
        properties = dict(properties_object(item.get("properties")))
        record = existing.get((prop, key))
        if record is not None:
            to_update.append((record, properties))
            order.append(("update", len(to_update) - 1, item.get("objectWriteTraceId")))
        else:
            if object_type == CONTACTS and prop == "email":
                properties.setdefault("email", key)
            to_create.append(writes.ObjectInput(properties=properties))
            order.append(("create", len(to_create) - 1, item.get("objectWriteTraceId")))
    with transaction.atomic():
        updated = writes.update_objects(object_type, to_update, user=user)
        created = writes.create_objects(object_type, to_create, user=user) if to_create else []
    names = written_names(
        object_type, [p for _r, p in to_update] + [i.properties for i in to_create], created=True
    )
    shown_updated = serialize_objects(object_type, updated, properties=names, user=user)
    shown_created = serialize_objects(object_type, created, properties=names, user=user)
    results = []
    for kind, index, trace in order:
        result = dict(shown_updated[index] if kind == "update" else shown_created[index])
        result["new"] = kind == "create"
        if trace is not None:
            result["objectWriteTraceId"] = str(trace)
        results.append(result)
    return response_body(results, [], started), 200


def archive(object_type: str, body: dict[str, Any], *, user: Any) -> None:
    items = batch_inputs(body)
    ids = [_id_of(item) for item in items]
    _no_duplicates(ids)
    found = reads.find_many(object_type, ids, user=user)
    objects = []
    for key in ids:
        record = found.get(key)
        if record is not None and record not in objects:
            objects.append(record)
    writes.archive_objects(object_type, objects, user=user)
