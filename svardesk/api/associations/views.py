"""Associations API v4 (`/crm/v4/objects/…/associations/…`, `/crm/v4/associations/…`) and the
legacy v3 batch (`/crm/v3/associations/{from}/{to}/batch/…`). Views parse and answer; the
reads and writes are `service`'s."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from svardesk.api.associations import service
from svardesk.api.associations import types as T
from svardesk.api.errors import ApiError, validation_error
from svardesk.api.http import (
    api_endpoint,
    iso,
    json_object,
    json_response,
    no_content,
    parse_limit,
    read_json,
)

# Inputs one batch call may carry (HubSpot's v4 association batches take 1,000).
MAX_BATCH = 1000


def _user(request: HttpRequest) -> Any:
    return request.user


def _scopes(request: HttpRequest) -> list[str]:
    return list(request.api_token.scopes)  # type: ignore[attr-defined]


def _pair(request: HttpRequest, from_raw: str, to_raw: str, *, write: bool) -> tuple[str, str]:
    from_type, to_type = T.object_type(from_raw), T.object_type(to_raw)
    T.require_pair_scopes(_scopes(request), from_type, to_type, write=write)
    T.check_pair(from_type, to_type)
    return from_type, to_type


def _after(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise validation_error(f"Invalid after: {raw!r}")
    return int(raw)


def _associated_objects(
    from_type: str, to_type: str, partners: list[tuple[int, bool]]
) -> list[dict[str, Any]]:
    return [
        {"toObjectId": str(pk), "associationTypes": T.type_specs(from_type, to_type, primary=p)}
        for pk, p in partners
    ]


def _labels_between(from_type: str, from_id: int, to_type: str, to_id: int) -> dict[str, Any]:
    primary = service.pair_is_primary(from_type, from_id, to_type, to_id)
    return {
        "fromObjectTypeId": T.OBJECT_TYPE_IDS[from_type],
        "fromObjectId": str(from_id),
        "toObjectTypeId": T.OBJECT_TYPE_IDS[to_type],
        "toObjectId": str(to_id),
        "labels": [T.PRIMARY_LABEL] if primary else [],
    }


def _default_result(from_type: str, from_id: int, to_type: str, to_id: int) -> dict[str, Any]:
    return {
        "from": {"id": str(from_id)},
        "to": {"id": str(to_id)},
        "associationSpec": {
            "associationCategory": T.HUBSPOT_DEFINED,
            "associationTypeId": T.type_id(from_type, to_type, T.UNLABELLED),
        },
    }


class _Batch:
    """A batch answer: results and per-input errors, HubSpot's `BatchResponse…` shape, 207
    when any input failed."""

    def __init__(self) -> None:
        self.started = timezone.now()
        self.results: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []

    def fail(self, error: ApiError) -> None:
        body = error.body()
        self.errors.append(
            {
                "status": "error",
                "category": body["category"],
                "message": body["message"],
                "context": body.get("context", {}),
                "errors": body.get("errors", []),
                "links": {},
            }
        )

    def attempt(self, step: Callable[[], dict[str, Any] | None]) -> None:
        """Run one input's work in its own savepoint: a failure undoes only that input."""
        try:
            with transaction.atomic():
                result = step()
        except ApiError as error:
            self.fail(error)
            return
        if result is not None:
            self.results.append(result)

    def response(self, ok_status: int, *, partial_status: int = 207) -> HttpResponse:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": self.results,
            "startedAt": iso(self.started),
            "completedAt": iso(timezone.now()),
        }
        if self.errors:
            body["numErrors"] = len(self.errors)
            body["errors"] = self.errors
            return json_response(body, status=partial_status)
        return json_response(body, status=ok_status)


def _inputs(request: HttpRequest) -> list[Any]:
    body = json_object(read_json(request))
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list.")
    if len(inputs) > MAX_BATCH:
        raise validation_error(f"A batch takes at most {MAX_BATCH} inputs, got {len(inputs)}.")
    return inputs


def _item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise validation_error("Each input must be a JSON object.")
    return item


def _id_of(item: Any, key: str) -> str:
    """`item[key]["id"]` (`{"from": {"id": "1"}}`), as a string; 400 if it is not there."""
    holder = item.get(key) if isinstance(item, dict) else None
    value = holder.get("id") if isinstance(holder, dict) else None
    if value is None or isinstance(value, dict | list):
        raise validation_error(f"Each input needs {key}.id.")
    return str(value)


# --- v4: one record ---------------------------------------------------------------------------


@api_endpoint(methods=("GET",))
def list_associations(
    request: HttpRequest, object_type: str, object_id: str, to_object_type: str
) -> HttpResponse:
    from_type, to_type = _pair(request, object_type, to_object_type, write=False)
    limit = parse_limit(
        request.GET.get("limit"), default=service.MAX_PAGE, maximum=service.MAX_PAGE
    )
    after = _after(request.GET.get("after"))
    user = _user(request)
    from_id = service.resolve(user, from_type, object_id)
    page = service.associated_page(user, from_type, from_id, to_type, after=after, limit=limit)
    body: dict[str, Any] = {"results": _associated_objects(from_type, to_type, page.partners)}
    if page.after is not None:
        link = f"{request.build_absolute_uri(request.path)}?limit={limit}&after={page.after}"
        body["paging"] = {"next": {"after": page.after, "link": link}}
    return json_response(body)


@api_endpoint(methods=("PUT", "DELETE"))
def pair(
    request: HttpRequest, object_type: str, object_id: str, to_object_type: str, to_object_id: str
) -> HttpResponse:
    from_type, to_type = _pair(request, object_type, to_object_type, write=True)
    user = _user(request)
    if request.method == "DELETE":
        from_id = service.resolve(user, from_type, object_id)
        service.dissociate(
            user, from_type, from_id, to_type, service.resolve(user, to_type, to_object_id)
        )
        return no_content()
    wanted = T.parse_types(from_type, to_type, read_json(request))
    from_id = service.resolve(user, from_type, object_id)
    to_id = service.resolve(user, to_type, to_object_id)
    service.associate(user, from_type, from_id, to_type, to_id, primary=wanted.primary)
    return json_response(_labels_between(from_type, from_id, to_type, to_id), status=201)


@api_endpoint(methods=("PUT",))
def pair_default(
    request: HttpRequest, object_type: str, object_id: str, to_object_type: str, to_object_id: str
) -> HttpResponse:
    from_type, to_type = _pair(request, object_type, to_object_type, write=True)
    user = _user(request)
    batch = _Batch()
    from_id = service.resolve(user, from_type, object_id)
    to_id = service.resolve(user, to_type, to_object_id)
    service.associate(user, from_type, from_id, to_type, to_id, primary=False)
    batch.results.append(_default_result(from_type, from_id, to_type, to_id))
    return batch.response(200)


# --- v4: batches ------------------------------------------------------------------------------


@api_endpoint(methods=("POST",))
def batch_create(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user, batch = _user(request), _Batch()
    for item in _inputs(request):

        def step(item: Any = item) -> dict[str, Any]:
            wanted = T.parse_types(from_type, to_type, _item(item).get("types"))
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            to_id = service.resolve(user, to_type, _id_of(item, "to"))
            service.associate(user, from_type, from_id, to_type, to_id, primary=wanted.primary)
            return _labels_between(from_type, from_id, to_type, to_id)

        batch.attempt(step)
    return batch.response(201)


@api_endpoint(methods=("POST",))
def batch_default(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user, batch = _user(request), _Batch()
    for item in _inputs(request):

        def step(item: Any = item) -> dict[str, Any]:
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            to_id = service.resolve(user, to_type, _id_of(item, "to"))
            service.associate(user, from_type, from_id, to_type, to_id, primary=False)
            return _default_result(from_type, from_id, to_type, to_id)

        batch.attempt(step)
    # The SDK reads only a 200 here; errors still travel in the body.
    return batch.response(200, partial_status=200)


@api_endpoint(methods=("POST",))
def batch_read(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=False)
    user, batch = _user(request), _Batch()
    for item in _inputs(request):

        def step(item: Any = item) -> dict[str, Any]:
            raw = item.get("id") if isinstance(item, dict) else None
            if raw is None:
                raise validation_error("Each input needs an id.")
            after = _after(str(item["after"])) if item.get("after") else 0
            from_id = service.resolve(user, from_type, raw)
            page = service.associated_page(
                user, from_type, from_id, to_type, after=after, limit=service.MAX_PAGE
            )
            result: dict[str, Any] = {
                "from": {"id": str(from_id)},
                "to": _associated_objects(from_type, to_type, page.partners),
            }
            if page.after is not None:
                result["paging"] = {"next": {"after": page.after}}
            return result

        batch.attempt(step)
    return batch.response(200)


@api_endpoint(methods=("POST",))
def batch_archive(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user = _user(request)
    inputs = _inputs(request)
    # All or nothing: the SDK reads no body here, so a half-done batch could not be told.
    with transaction.atomic():
        for item in inputs:
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            partners = item.get("to")
            if not isinstance(partners, list):
                raise validation_error("Each input needs to: a list of {id}.")
            for partner in partners:
                raw = partner.get("id") if isinstance(partner, dict) else None
                if raw is None:
                    raise validation_error("Each input needs to: a list of {id}.")
                to_id = service.resolve(user, to_type, raw)
                service.dissociate(user, from_type, from_id, to_type, to_id)
    return no_content()


@api_endpoint(methods=("POST",))
def batch_archive_labels(
    request: HttpRequest, from_object_type: str, to_object_type: str
) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user = _user(request)
    inputs = _inputs(request)
    with transaction.atomic():
        for item in inputs:
            types = item.get("types") if isinstance(item, dict) else None
            T.parse_types(from_type, to_type, types)  # 400 for a type of another pair
            labels = {
                T.label_of(from_type, to_type, int(each["associationTypeId"])) or ""
                for each in types  # type: ignore[union-attr]
            }
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            to_id = service.resolve(user, to_type, _id_of(item, "to"))
            service.remove_labels(user, from_type, from_id, to_type, to_id, labels=labels)
    return no_content()


@api_endpoint(methods=("GET",))
def labels(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=False)
    return json_response({"results": T.labels_for(from_type, to_type)})


# --- v3 batch (legacy) ------------------------------------------------------------------------


def _v3_type(from_type: str, to_type: str, item: Any) -> None:
    name = item.get("type") if isinstance(item, dict) else None
    if name is not None and str(name).lower() not in {
        T.v3_type_name(from_type, to_type),
        f"{T.v3_type_name(from_type, to_type)}_unlabeled",
    }:
        raise validation_error(
            f"Invalid association type {name!r}: expected {T.v3_type_name(from_type, to_type)}."
        )


@api_endpoint(methods=("POST",))
def v3_batch_create(
    request: HttpRequest, from_object_type: str, to_object_type: str
) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user, batch = _user(request), _Batch()
    for item in _inputs(request):

        def step(item: Any = item) -> dict[str, Any]:
            _v3_type(from_type, to_type, item)
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            to_id = service.resolve(user, to_type, _id_of(item, "to"))
            service.associate(user, from_type, from_id, to_type, to_id, primary=False)
            return {
                "from": {"id": str(from_id)},
                "to": {"id": str(to_id)},
                "type": T.v3_type_name(from_type, to_type),
            }

        batch.attempt(step)
    return batch.response(201)


@api_endpoint(methods=("POST",))
def v3_batch_read(request: HttpRequest, from_object_type: str, to_object_type: str) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=False)
    user, batch = _user(request), _Batch()
    for item in _inputs(request):

        def step(item: Any = item) -> dict[str, Any]:
            raw = item.get("id") if isinstance(item, dict) else None
            if raw is None:
                raise validation_error("Each input needs an id.")
            from_id = service.resolve(user, from_type, raw)
            page = service.associated_page(
                user, from_type, from_id, to_type, after=0, limit=service.MAX_PAGE
            )
            name = T.v3_type_name(from_type, to_type)
            return {
                "from": {"id": str(from_id)},
                "to": [{"id": str(pk), "type": name} for pk, _primary in page.partners],
            }

        batch.attempt(step)
    return batch.response(200)


@api_endpoint(methods=("POST",))
def v3_batch_archive(
    request: HttpRequest, from_object_type: str, to_object_type: str
) -> HttpResponse:
    from_type, to_type = _pair(request, from_object_type, to_object_type, write=True)
    user = _user(request)
    inputs = _inputs(request)
    with transaction.atomic():
        for item in inputs:
            _v3_type(from_type, to_type, item)
            from_id = service.resolve(user, from_type, _id_of(item, "from"))
            to_id = service.resolve(user, to_type, _id_of(item, "to"))
            service.dissociate(user, from_type, from_id, to_type, to_id)
    return no_content()
