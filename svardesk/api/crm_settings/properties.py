"""Properties (`/crm/v3/properties/{tickets|contacts|companies|deals}`) and their groups.

Built-in properties appear under HubSpot's names (tickets through `api.names.TICKET_NAMES`,
the other records' registries use HubSpot's names already), `hubspotDefined: true`, never
archivable. Custom properties are the `PropertyDefinition` rows Settings → Properties edits,
changed through the same `tickets.services`. HubSpot's type and fieldType pairs map onto
Svardesk's nine property types (`HUBSPOT_TYPES`).

Groups are shared by every record type in Svardesk; each type also lists its built-in
information group (`ticketinformation`, …). A group's name is derived from its label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.text import slugify

from svardesk.accounts.models import User
from svardesk.api import scopes
from svardesk.api.crm_settings.common import clean_text, require_super_admin
from svardesk.api.errors import CONFLICT, ApiError, not_found, validation_error
from svardesk.api.http import (
    api_endpoint,
    iso,
    json_object,
    json_response,
    list_param,
    no_content,
    parse_bool,
    read_json,
)
from svardesk.api.names import (
    TICKET_COMPUTED,
    TICKET_NAMES,
    TICKET_READ_ONLY,
    builtin_pipeline_id,
    pipeline_to_api,
    to_api,
)
from svardesk.records import properties as record_props
from svardesk.teams.models import Team
from svardesk.tickets import properties as props
from svardesk.tickets import services
from svardesk.tickets.exceptions import PropertyDefinitionError
from svardesk.tickets.models import (
    Pipeline,
    PropertyDefinition,
    PropertyGroup,
    PropertyType,
    Stage,
)

TICKET = props.TICKET_OBJECT
_OBJECT_TYPES = {
    "tickets": TICKET, "ticket": TICKET, "0-5": TICKET,
    "contacts": record_props.CONTACT, "contact": record_props.CONTACT, "0-1": record_props.CONTACT,
    "companies": record_props.COMPANY, "company": record_props.COMPANY,
    "0-2": record_props.COMPANY,
    "deals": record_props.DEAL, "deal": record_props.DEAL, "0-3": record_props.DEAL,
}  # fmt: skip
_SCOPE_AREA = {TICKET: "tickets", "contact": "contacts", "company": "companies", "deal": "deals"}
INFO_GROUPS = {
    TICKET: ("ticketinformation", "Ticket information"),
    "contact": ("contactinformation", "Contact information"),
    "company": ("companyinformation", "Company information"),
    "deal": ("dealinformation", "Deal information"),
}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MAX_BATCH = 100

# Svardesk's property type → HubSpot's (type, fieldType).
HUBSPOT_TYPES: dict[str, tuple[str, str]] = {
    PropertyType.TEXT: ("string", "text"),
    PropertyType.TEXTAREA: ("string", "textarea"),
    PropertyType.NUMBER: ("number", "number"),
    PropertyType.DATE: ("date", "date"),
    PropertyType.DATETIME: ("datetime", "date"),
    PropertyType.SELECT: ("enumeration", "select"),
    PropertyType.MULTISELECT: ("enumeration", "checkbox"),
    PropertyType.CHECKBOX: ("bool", "booleancheckbox"),
    PropertyType.USER: ("enumeration", "select"),
}
# HubSpot's (type, fieldType) → Svardesk's type, for creating a property.
_FROM_HUBSPOT: dict[tuple[str, str], str] = {
    ("string", "text"): PropertyType.TEXT,
    ("string", "textarea"): PropertyType.TEXTAREA,
    ("string", "html"): PropertyType.TEXTAREA,
    ("string", "phonenumber"): PropertyType.TEXT,
    ("phone_number", "phonenumber"): PropertyType.TEXT,
    ("phone_number", "text"): PropertyType.TEXT,
    ("number", "number"): PropertyType.NUMBER,
    ("number", "text"): PropertyType.NUMBER,
    ("date", "date"): PropertyType.DATE,
    ("datetime", "date"): PropertyType.DATETIME,
    ("datetime", "datetime"): PropertyType.DATETIME,
    ("enumeration", "select"): PropertyType.SELECT,
    ("enumeration", "radio"): PropertyType.SELECT,
    ("enumeration", "checkbox"): PropertyType.MULTISELECT,
    ("enumeration", "booleancheckbox"): PropertyType.CHECKBOX,
    ("bool", "booleancheckbox"): PropertyType.CHECKBOX,
    ("bool", "checkbox"): PropertyType.CHECKBOX,
}
_BOOL_OPTIONS = (("true", "Yes"), ("false", "No"))
OWNER = "OWNER"


def _object_type(request: HttpRequest, raw: str, *, write: bool) -> str:
    found = _OBJECT_TYPES.get(raw.strip().lower())
    if found is None:
        raise validation_error(f"Unable to infer object type from: {raw}")
    scopes.require(request.api_token.scopes, _SCOPE_AREA[found], write=write)  # type: ignore[attr-defined]
    if write:
        require_super_admin(request)
    return found


def _user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


@contextmanager
def _english() -> Iterator[None]:
    # Labels and messages in the API are English, whatever language the request carries.
    with translation.override("en"):
        yield


# --- Groups -----------------------------------------------------------------------------------


def group_name(group: PropertyGroup) -> str:
    """A group's API name: its label as lowercase words joined by `_` (`Billing details` →
    `billing_details`); `group_<id>` for a label with no letters or digits."""
    return slugify(group.label).replace("-", "_") or f"group_{group.pk}"


def _find_group(object_type: str, name: str, *, in_body: bool = False) -> PropertyGroup | None:
    """The custom group named `name` (None for the type's information group); 404 if none,
    or 400 when a request body named it."""
    if name == INFO_GROUPS[object_type][0]:
        return None
    for group in PropertyGroup.objects.all():
        if name in (group_name(group), f"group_{group.pk}"):
            return group
    message = f"Property group {name} does not exist."
    if in_body:
        raise validation_error(message, context={"groupName": [name]})
    raise not_found(message, context={"groupName": [name]})


def _group_json(name: str, label: str, order: int) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": order, "archived": False}


def _groups(object_type: str) -> list[dict[str, Any]]:
    name, label = INFO_GROUPS[object_type]
    groups = PropertyGroup.objects.order_by("display_order", "id")
    return [
        _group_json(name, label, -1),
        *(_group_json(group_name(g), g.label, g.display_order) for g in groups),
    ]


# --- Property shapes --------------------------------------------------------------------------


def _options(pairs: Any) -> list[dict[str, Any]]:
    return [
        {"label": str(label), "value": str(value), "displayOrder": i, "hidden": False,
         "description": ""}
        for i, (value, label) in enumerate(pairs)
    ]  # fmt: skip


def _property(
    *,
    name: str,
    label: str,
    kind: str,
    field_type: str,
    group: str,
    options: list[dict[str, Any]] | None = None,
    description: str = "",
    builtin: bool,
    read_only_value: bool = False,
    owner: bool = False,
    created: dt.datetime | None = None,
    updated: dt.datetime | None = None,
    order: int = -1,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "groupName": group,
        "description": description,
        "options": options or [],
        "displayOrder": order,
        "calculated": False,
        "externalOptions": owner,
        "hasUniqueValue": False,
        "hidden": False,
        "hubspotDefined": builtin,
        "formField": not read_only_value,
        "modificationMetadata": {
            "archivable": not builtin,
            "readOnlyDefinition": builtin,
            "readOnlyValue": read_only_value,
            "readOnlyOptions": builtin,
        },
        "createdAt": iso(created or EPOCH),
        "updatedAt": iso(updated or EPOCH),
        "archived": False,
    }
    if owner:
        body["referencedObjectType"] = OWNER
    return body


def _generic_builtin(spec: props.PropertySpec, api_name: str, group: str) -> dict[str, Any]:
    """A built-in property whose type is one of the nine (text, select, date, …)."""
    kind, field_type = HUBSPOT_TYPES.get(spec.type, ("number", "number"))
    options = list(spec.options)
    if spec.type == PropertyType.CHECKBOX:
        options = list(_BOOL_OPTIONS)
    return _property(
        name=api_name,
        label=spec.label,
        kind=kind,
        field_type=field_type,
        group=group,
        options=_options(options),
        description=spec.description,
        builtin=True,
        read_only_value=not spec.is_editable,
        owner=spec.type == PropertyType.USER,
    )


def _ticket_builtins() -> list[dict[str, Any]]:
    group = INFO_GROUPS[TICKET][0]
    specs = {spec.name: spec for spec in props.all_property_specs() if spec.is_builtin}
    builtin_id = builtin_pipeline_id()
    found: list[dict[str, Any]] = []
    for api_name, own in TICKET_NAMES.items():
        read_only = api_name in TICKET_READ_ONLY
        spec = specs.get(own)
        common: dict[str, Any] = {"name": api_name, "group": group, "builtin": True,
                                  "read_only_value": read_only}  # fmt: skip
        if own == "id":
            label = "Ticket ID" if api_name == "hs_ticket_id" else "Record ID"
            found.append(_property(label=label, kind="number", field_type="number", **common))
        elif spec is None:
            continue  # a property of an app that is not installed
        elif own == "pipeline":
            pipelines = Pipeline.objects.order_by("display_order", "id")
            pairs = [(pipeline_to_api(p.pk, builtin_id), p.name) for p in pipelines]
            found.append(_enumeration(spec, pairs, common))
        elif own == "stage":
            stages = Stage.objects.order_by("pipeline__display_order", "pipeline_id",
                                            "display_order", "id")  # fmt: skip
            found.append(_enumeration(spec, [(str(s.pk), s.name) for s in stages], common))
        elif own == "team":
            teams = Team.objects.order_by("name")
            found.append(_enumeration(spec, [(str(t.pk), t.name) for t in teams], common))
        elif own == "source" or own.endswith("_status"):
            pairs = [(to_api(spec.type, v, name=own), label) for v, label in spec.options]
            found.append(_enumeration(spec, pairs, common))
        else:
            made = _generic_builtin(spec, api_name, group)
            made["modificationMetadata"]["readOnlyValue"] = read_only
            made["formField"] = not read_only
            found.append(made)
    for api_name, label, kind, field_type in (
        ("hs_merged_object_ids", "Merged ticket IDs", "enumeration", "checkbox"),
        ("hs_is_closed", "Is closed", "bool", "booleancheckbox"),
    ):
        if api_name in TICKET_COMPUTED:
            options = _options(_BOOL_OPTIONS) if kind == "bool" else []
            found.append(
                _property(name=api_name, label=label, kind=kind, field_type=field_type,
                          group=group, options=options, builtin=True, read_only_value=True)
            )  # fmt: skip
    return found


def _enumeration(
    spec: props.PropertySpec, pairs: list[tuple[Any, str]], common: dict[str, Any]
) -> dict[str, Any]:
    return _property(
        label=spec.label,
        kind="enumeration",
        field_type="select",
        options=_options(pairs),
        description=spec.description,
        **common,
    )


def _record_builtins(object_type: str) -> list[dict[str, Any]]:
    group = INFO_GROUPS[object_type][0]
    found = []
    for spec in record_props.specs_for(object_type):
        if not spec.is_builtin:
            continue
        if spec.type == record_props.COMPANY_REF:
            found.append(
                _property(name=spec.name, label=spec.label, kind="number",
                          field_type="number", group=group, builtin=True)
            )  # fmt: skip
            continue
        found.append(_generic_builtin(spec, spec.name, group))
    return found


def builtin_properties(object_type: str) -> list[dict[str, Any]]:
    with _english():
        if object_type == TICKET:
            return _ticket_builtins()
        return _record_builtins(object_type)


def builtin_api_names(object_type: str) -> frozenset[str]:
    if object_type == TICKET:
        return frozenset(TICKET_NAMES) | TICKET_COMPUTED | props.BUILTIN_NAMES
    return record_props.builtin_names(object_type)


def custom_property(definition: PropertyDefinition) -> dict[str, Any]:
    kind, field_type = HUBSPOT_TYPES[definition.type]
    pairs: list[tuple[str, str]] = [(o["value"], o["label"]) for o in definition.options or []]
    if definition.type == PropertyType.CHECKBOX:
        pairs = list(_BOOL_OPTIONS)
    return _property(
        name=definition.name,
        label=definition.label,
        kind=kind,
        field_type=field_type,
        group=(
            group_name(definition.group)
            if definition.group
            else INFO_GROUPS[definition.object_type][0]
        ),
        options=_options(pairs),
        description=definition.description,
        builtin=False,
        owner=definition.type == PropertyType.USER,
        created=definition.created_at,
        updated=definition.updated_at,
        order=definition.display_order,
    )


def _definitions(object_type: str) -> Any:
    return PropertyDefinition.objects.filter(object_type=object_type).select_related("group")


def all_properties(object_type: str) -> list[dict[str, Any]]:
    custom = [custom_property(d) for d in _definitions(object_type)]
    return builtin_properties(object_type) + custom


def _missing_property(name: str) -> ApiError:
    return not_found(f"Unable to find property with name: {name}", context={"propertyName": [name]})


def _queryable(name: str) -> bool:
    # A name no property can have (PostgreSQL compares no NUL characters): missing.
    return "\x00" not in name and len(name) <= 64


def find_property(object_type: str, name: str) -> dict[str, Any]:
    if not _queryable(name):
        raise _missing_property(name)
    definition = _definitions(object_type).filter(name=name).first()
    if definition is not None:
        return custom_property(definition)
    for each in builtin_properties(object_type):
        if each["name"] == name:
            return each
    raise _missing_property(name)


# --- Writes -----------------------------------------------------------------------------------


def _svardesk_type(body: dict[str, Any]) -> str:
    kind = str(body.get("type") or "").strip()
    field_type = str(body.get("fieldType") or "").strip()
    if str(body.get("referencedObjectType") or "").upper() == OWNER:
        return PropertyType.USER
    found = _FROM_HUBSPOT.get((kind, field_type))
    if found is None:
        raise validation_error(
            f"Unsupported property type {kind!r} with fieldType {field_type!r}.",
            context={"type": [kind], "fieldType": [field_type]},
        )
    return found


def _option_list(body: dict[str, Any]) -> list[dict[str, str]]:
    raw = body.get("options") or []
    if not isinstance(raw, list):
        raise validation_error("options must be a list.")
    options = []
    for i, each in enumerate(raw):
        option = json_object(each, "Each option")
        label = clean_text(option.get("label"), "An option's label", max_length=200)
        value = clean_text(
            None if option.get("value") is None else str(option.get("value")),
            "An option's value",
            max_length=200,
            required=True,
        )
        order = option.get("displayOrder")
        options.append((order if isinstance(order, int) else i, i, str(value), label))
    return [{"value": value, "label": label} for _o, _i, value, label in sorted(options)]


@contextmanager
def _definition_errors(name: str) -> Iterator[None]:
    with _english():
        try:
            yield
        except PropertyDefinitionError as error:
            if "already exists" in str(error):
                raise _conflict(name) from None
            raise validation_error(str(error)) from None


def _conflict(name: str) -> ApiError:
    return ApiError(409, CONFLICT, f"Property named '{name}' already exists.")


def create_property(object_type: str, body: dict[str, Any], actor: User) -> dict[str, Any]:
    name = clean_text(body.get("name"), "name", max_length=64, required=True)
    label = clean_text(body.get("label"), "label", max_length=100, required=True)
    description = clean_text(body.get("description"), "description", max_length=255)
    if (
        name in builtin_api_names(object_type)
        or PropertyDefinition.objects.filter(name=name).exists()
    ):
        raise _conflict(name)
    kind = _svardesk_type(body)
    group_raw = body.get("groupName") or INFO_GROUPS[object_type][0]
    with _definition_errors(name), transaction.atomic():
        definition = services.create_property_definition(
            actor=actor,
            name=name,
            label=label,
            type=kind,
            group=_find_group(object_type, str(group_raw), in_body=True),
            description=description,
            options=_option_list(body),
            object_type=object_type,
        )
    return custom_property(definition)


def _custom_definition(object_type: str, name: str, *, lock: bool = False) -> PropertyDefinition:
    if not _queryable(name):
        raise _missing_property(name)
    definitions = _definitions(object_type)
    if lock:
        definitions = definitions.select_for_update(of=("self",))
    definition = definitions.filter(name=name).first()
    if definition is not None:
        return definition
    if name in {p["name"] for p in builtin_properties(object_type)}:
        raise validation_error(
            f"{name} is a HubSpot-defined property: its definition cannot be changed or archived.",
            context={"propertyName": [name]},
        )
    raise _missing_property(name)


def update_property(
    object_type: str, name: str, body: dict[str, Any], actor: User
) -> dict[str, Any]:
    with _definition_errors(name), transaction.atomic():
        definition = _custom_definition(object_type, name, lock=True)
        if "type" in body or "fieldType" in body:
            current_kind, current_field = HUBSPOT_TYPES[definition.type]
            asked = {
                "type": body.get("type") or current_kind,
                "fieldType": body.get("fieldType") or current_field,
                "referencedObjectType": OWNER if definition.type == PropertyType.USER else "",
            }
            if _svardesk_type(asked) != definition.type:
                raise validation_error("A property's type cannot change; create a new one.")
        label = clean_text(body.get("label"), "label", max_length=100)
        group = (
            _find_group(object_type, str(body["groupName"]), in_body=True)
            if body.get("groupName")
            else definition.group
        )
        services.update_property_definition(
            definition,
            actor=actor,
            label=label if label.strip() else definition.label,
            group=group,
            description=(
                clean_text(body["description"], "description", max_length=255)
                if "description" in body
                else definition.description
            ),
            options=_option_list(body) if "options" in body else None,
        )
    definition.refresh_from_db()
    return custom_property(definition)


def archive_property(object_type: str, name: str, actor: User) -> None:
    with _english(), transaction.atomic():
        definition = _custom_definition(object_type, name, lock=True)
        services.delete_property_definition(definition, actor=actor)


# --- Views ------------------------------------------------------------------------------------


@api_endpoint(methods=("GET", "POST"))
def property_list(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method == "POST")
    if request.method == "POST":
        made = create_property(kind, json_object(read_json(request)), _user(request))
        return json_response(made, status=201)
    if parse_bool(request.GET.get("archived"), name="archived"):
        return json_response({"results": []})  # archived properties are not kept
    results = all_properties(kind)
    wanted = list_param(request, "properties")
    if wanted:
        results = [p for p in results if p["name"] in wanted]
    return json_response({"results": results})


@api_endpoint(methods=("GET", "PATCH", "DELETE"))
def property_detail(request: HttpRequest, object_type: str, property_name: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method != "GET")
    if request.method == "GET":
        if parse_bool(request.GET.get("archived"), name="archived"):
            raise _missing_property(property_name)
        return json_response(find_property(kind, property_name))
    if request.method == "DELETE":
        archive_property(kind, property_name, _user(request))
        return no_content()
    body = json_object(read_json(request))
    return json_response(update_property(kind, property_name, body, _user(request)))


def _batch_inputs(request: HttpRequest) -> tuple[dict[str, Any], list[Any]]:
    body = json_object(read_json(request))
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("inputs must be a list.")
    if len(inputs) > MAX_BATCH:
        raise validation_error(f"A batch takes at most {MAX_BATCH} inputs, got {len(inputs)}.")
    return body, inputs


def _batch_response(
    started: dt.datetime, results: list[Any], errors: list[ApiError], ok_status: int
) -> HttpResponse:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso(started),
        "completedAt": iso(timezone.now()),
    }
    if not errors:
        return json_response(body, status=ok_status)
    body["numErrors"] = len(errors)
    body["errors"] = [
        {k: v for k, v in e.body().items() if k != "correlationId"} | {"status": "error"}
        for e in errors
    ]
    return json_response(body, status=207)


def _input_name(item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    if not isinstance(name, str) or not name:
        raise validation_error("Each input needs a name.")
    return name


def _each(inputs: list[Any], step: Callable[[Any], dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    results, errors = [], []
    for item in inputs:
        try:
            with transaction.atomic():
                results.append(step(item))
        except ApiError as error:
            errors.append(error)
    return results, errors


@api_endpoint(methods=("POST",))
def batch_read(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=False)
    started = timezone.now()
    body, inputs = _batch_inputs(request)
    if body.get("archived") is True:
        errors = [_missing_property(_input_name(i)) for i in inputs]
        return _batch_response(started, [], errors, 200)
    results, errors = _each(inputs, lambda item: find_property(kind, _input_name(item)))
    return _batch_response(started, results, errors, 200)


@api_endpoint(methods=("POST",))
def batch_create(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=True)
    started = timezone.now()
    _body, inputs = _batch_inputs(request)
    actor = _user(request)
    results, errors = _each(
        inputs, lambda item: create_property(kind, json_object(item, "Each input"), actor)
    )
    return _batch_response(started, results, errors, 201)


@api_endpoint(methods=("POST",))
def batch_archive(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=True)
    _body, inputs = _batch_inputs(request)
    actor = _user(request)
    # All or nothing: the SDK reads no body here. Names already gone are skipped.
    with transaction.atomic():
        for item in inputs:
            name = _input_name(item)
            if name in builtin_api_names(kind) or (
                _queryable(name) and _definitions(kind).filter(name=name).exists()
            ):
                archive_property(kind, name, actor)
    return no_content()


@api_endpoint(methods=("GET", "POST"))
def group_list(request: HttpRequest, object_type: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method == "POST")
    if request.method == "GET":
        return json_response({"results": _groups(kind)})
    body = json_object(read_json(request))
    label = clean_text(body.get("label"), "label", max_length=100, required=True)
    name = body.get("name")
    if name == INFO_GROUPS[kind][0] or any(g["name"] == name for g in _groups(kind)):
        raise ApiError(409, CONFLICT, f"Property group named '{name}' already exists.")
    with _english():
        try:
            group = services.create_property_group(actor=_user(request), label=label)
        except PropertyDefinitionError as error:
            raise ApiError(409, CONFLICT, str(error)) from None
    return json_response(_group_json(group_name(group), group.label, group.display_order), 201)


@api_endpoint(methods=("GET", "PATCH", "DELETE"))
def group_detail(request: HttpRequest, object_type: str, group_name_raw: str) -> HttpResponse:
    kind = _object_type(request, object_type, write=request.method != "GET")
    group = _find_group(kind, group_name_raw)
    if group is None:
        if request.method != "GET":
            raise validation_error(f"{group_name_raw} is a HubSpot-defined group.")
        info_name, info_label = INFO_GROUPS[kind]
        return json_response(_group_json(info_name, info_label, -1))
    if request.method == "DELETE":
        with _english(), transaction.atomic():
            services.delete_property_group(group, actor=_user(request))
        return no_content()
    if request.method == "PATCH":
        body = json_object(read_json(request))
        new_label = body.get("label")
        if new_label is not None:
            new_label = clean_text(new_label, "label", max_length=100, required=True)
            with _english():
                try:
                    services.rename_property_group(
                        group, actor=_user(request), label=str(new_label)
                    )
                except PropertyDefinitionError as error:
                    raise validation_error(str(error)) from None
            group.refresh_from_db()
    return json_response(_group_json(group_name(group), group.label, group.display_order))
