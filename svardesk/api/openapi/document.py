"""The OpenAPI 3.0 document: every path the API serves, with HubSpot's request and response
shapes and status codes (hubspot-api.md §2.3 and §3.3).

Built once per process from plain dicts. `svardesk/api/tests/test_openapi.py` walks the URL
resolver against `paths`, so a route added without its entry here (or an entry without a
route) fails the build."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from svardesk.api.openapi.schemas import (
    BOOLEAN,
    INTEGER,
    STRING,
    Schema,
    array,
    components,
    ref,
)

OPENAPI_VERSION = "3.0.3"
API_VERSION = "1.0.0"

# The CRM object types with their own paths (HubSpot's per-object specs), the singular used
# in operation ids and the name of their id parameter.
OBJECT_TYPES: tuple[tuple[str, str, str], ...] = (
    ("tickets", "Ticket", "ticketId"),
    ("contacts", "Contact", "contactId"),
    ("companies", "Company", "companyId"),
    ("deals", "Deal", "dealId"),
)
# The same object types by HubSpot's type id (`crm.objects.*` with `0-5` …).
OBJECT_TYPE_IDS = ["0-1", "0-2", "0-3", "0-5"]
OBJECT_TYPE_NAMES = ["tickets", "contacts", "companies", "deals"]
ASSOCIATION_OBJECT_TYPES = OBJECT_TYPE_NAMES + OBJECT_TYPE_IDS
PIPELINE_OBJECT_TYPES = ["tickets", "deals", "0-5", "0-3"]

CONVERSATIONS = "/conversations/v3/conversations"


# --- parameters -------------------------------------------------------------------------


def path_param(name: str, schema: Schema | None = None, example: str = "1") -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema or {"type": "string", "minLength": 1, "example": example},
    }


def enum_path_param(name: str, values: list[str]) -> Schema:
    return path_param(name, {"type": "string", "enum": values})


def query(name: str, schema: Schema, description: str = "", *, required: bool = False) -> Schema:
    param: Schema = {"name": name, "in": "query", "required": required, "schema": schema}
    if schema.get("type") == "array":
        # Repeated keys (`?properties=a&properties=b`), as the SDK sends lists.
        param["style"] = "form"
        param["explode"] = True
    if description:
        param["description"] = description
    return param


def limit(default: int, maximum: int) -> Schema:
    return query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        f"Page size, at most {maximum}.",
    )


AFTER = query("after", STRING, "The cursor from the previous page's `paging.next.after`.")
ARCHIVED = query("archived", BOOLEAN, "Only archived records (lists); also archived (reads).")
PROPERTIES = query("properties", array(STRING), "Properties to return.")
PROPERTIES_WITH_HISTORY = query(
    "propertiesWithHistory", array(STRING), "Properties to return with their history."
)
ASSOCIATIONS = query("associations", array(STRING), "Object types whose associated ids to add.")
ID_PROPERTY = query("idProperty", STRING, "A unique property the id is a value of.")


# --- operations -------------------------------------------------------------------------

ERROR_RESPONSES: dict[str, Schema] = {
    "BadRequest": {
        "description": "Validation failed (`VALIDATION_ERROR`, `PROPERTY_DOESNT_EXIST`).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "Unauthorized": {
        "description": "No token, or not an active one (`INVALID_AUTHENTICATION`).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "Forbidden": {
        "description": "The token lacks the scope (`MISSING_SCOPES`).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "NotFound": {
        "description": "No such record, or one the token's user may not see (`OBJECT_NOT_FOUND`).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "Conflict": {
        "description": "A unique value exists already (`CONFLICT`).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "MethodNotAllowed": {
        "description": "Read-only here (the deal pipeline is fixed in Svardesk).",
        "content": {"application/json": {"schema": ref("Error")}},
    },
    "TooManyRequests": {
        "description": "A rate limit was reached (`RATE_LIMITS`).",
        "content": {"application/json": {"schema": ref("RateLimitError")}},
    },
}
_ERROR_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
}
_SUCCESS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    207: "Multi-status: some inputs failed; see `errors`.",
}


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    *,
    scope: str,
    ok: Mapping[int, Schema | None],
    params: list[Schema] | tuple[Schema, ...] = (),
    body: Schema | None = None,
    body_required: bool = True,
    errors: tuple[int, ...] = (400, 404),
) -> Schema:
    """One operation: its success statuses (`None` for no body), the documented errors plus
    401, 403 and 429, which every authenticated call may answer."""
    responses: dict[str, Schema] = {}
    for status, schema in sorted(ok.items()):
        response: Schema = {"description": _SUCCESS_TEXT.get(status, "OK")}
        if schema is not None:
            response["content"] = {"application/json": {"schema": schema}}
        responses[str(status)] = response
    for status in sorted({*errors, 401, 403, 429}):
        responses[str(status)] = {"$ref": f"#/components/responses/{_ERROR_NAMES[status]}"}
    op: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "description": f"Scope: `{scope}`.",
        "responses": responses,
    }
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": body}},
        }
    return op


# --- CRM objects ------------------------------------------------------------------------


def _object_paths(
    base: str, singular: str, id_name: str, tag: str, scope: str, type_param: list[Schema]
) -> dict[str, Schema]:
    """The object, batch and search paths of one object type under `base`."""
    one = f"{base}/{{{id_name}}}"
    id_param = [*type_param, path_param(id_name, example="1")]
    plural = singular + "s" if not singular.endswith("y") else singular[:-1] + "ies"
    single_object = ref("SimplePublicObject")
    batch_result = {
        200: ref("BatchResponseSimplePublicObject"),
        207: ref("BatchResponseSimplePublicObjectWithErrors"),
    }
    return {
        base: {
            "get": operation(
                f"list{plural}",
                f"List {plural.lower()}",
                tag,
                scope=scope,
                params=[
                    *type_param,
                    limit(10, 100),
                    AFTER,
                    PROPERTIES,
                    PROPERTIES_WITH_HISTORY,
                    ASSOCIATIONS,
                    ARCHIVED,
                ],
                ok={200: ref("CollectionResponseSimplePublicObjectWithAssociationsForwardPaging")},
                errors=(400, 404) if type_param else (400,),
            ),
            "post": operation(
                f"create{singular}",
                f"Create a {singular.lower()}",
                tag,
                scope=scope,
                params=type_param,
                body=ref("SimplePublicObjectInputForCreate"),
                ok={201: single_object},
                errors=(400, 404, 409),
            ),
        },
        one: {
            "get": operation(
                f"get{singular}",
                f"Read a {singular.lower()}",
                tag,
                scope=scope,
                params=[
                    *id_param,
                    PROPERTIES,
                    PROPERTIES_WITH_HISTORY,
                    ASSOCIATIONS,
                    ARCHIVED,
                    ID_PROPERTY,
                ],
                ok={200: ref("SimplePublicObjectWithAssociations")},
            ),
            "patch": operation(
                f"update{singular}",
                f"Update a {singular.lower()}'s properties",
                tag,
                scope=scope,
                params=[*id_param, ID_PROPERTY],
                body=ref("SimplePublicObjectInput"),
                ok={200: single_object},
                errors=(400, 404, 409),
            ),
            "delete": operation(
                f"archive{singular}",
                f"Archive a {singular.lower()} (to the recycle bin)",
                tag,
                scope=scope,
                params=id_param,
                ok={204: None},
            ),
        },
        f"{base}/batch/read": {
            "post": operation(
                f"batchRead{plural}",
                f"Read up to 100 {plural.lower()}",
                tag,
                scope=scope,
                params=[*type_param, ARCHIVED],
                body=ref("BatchReadInputSimplePublicObjectId"),
                ok=batch_result,
            ),
        },
        f"{base}/batch/create": {
            "post": operation(
                f"batchCreate{plural}",
                f"Create up to 100 {plural.lower()}",
                tag,
                scope=scope,
                params=type_param,
                body=ref("BatchInputSimplePublicObjectBatchInputForCreate"),
                ok={
                    201: ref("BatchResponseSimplePublicObject"),
                    207: ref("BatchResponseSimplePublicObjectWithErrors"),
                },
                errors=(400, 404, 409),
            ),
        },
        f"{base}/batch/update": {
            "post": operation(
                f"batchUpdate{plural}",
                f"Update up to 100 {plural.lower()}",
                tag,
                scope=scope,
                params=type_param,
                body=ref("BatchInputSimplePublicObjectBatchInput"),
                ok=batch_result,
                errors=(400, 404, 409),
            ),
        },
        f"{base}/batch/upsert": {
            "post": operation(
                f"batchUpsert{plural}",
                f"Create or update up to 100 {plural.lower()} by a unique property",
                tag,
                scope=scope,
                params=type_param,
                body=ref("BatchInputSimplePublicObjectBatchInputUpsert"),
                ok={
                    200: ref("BatchResponseSimplePublicUpsertObject"),
                    207: ref("BatchResponseSimplePublicUpsertObjectWithErrors"),
                },
                errors=(400, 404, 409),
            ),
        },
        f"{base}/batch/archive": {
            "post": operation(
                f"batchArchive{plural}",
                f"Archive up to 100 {plural.lower()}",
                tag,
                scope=scope,
                params=type_param,
                body=ref("BatchInputSimplePublicObjectId"),
                ok={204: None},
            ),
        },
        f"{base}/search": {
            "post": operation(
                f"search{plural}",
                f"Search {plural.lower()}: filter groups (OR of ANDs), one sort, free text",
                tag,
                scope=scope,
                params=type_param,
                body=ref("PublicObjectSearchRequest"),
                ok={200: ref("CollectionResponseWithTotalSimplePublicObjectForwardPaging")},
            ),
        },
    }


def crm_object_paths() -> dict[str, Schema]:
    paths: dict[str, Schema] = {}
    for plural, singular, id_name in OBJECT_TYPES:
        scope = "tickets" if plural == "tickets" else f"crm.objects.{plural}.read/write"
        tag = plural.capitalize()
        paths.update(_object_paths(f"/crm/v3/objects/{plural}", singular, id_name, tag, scope, []))
    paths["/crm/v3/objects/tickets/merge"] = {
        "post": operation(
            "mergeTickets",
            "Merge two tickets into a new one; both old ids then resolve to it",
            "Tickets",
            scope="tickets",
            body=ref("PublicMergeInput"),
            ok={200: ref("SimplePublicObject")},
        )
    }
    # The same merge by the tickets' type id (`crm.objects.basic_api.merge("0-5", …)`).
    paths["/crm/v3/objects/0-5/merge"] = {
        "post": {**paths["/crm/v3/objects/tickets/merge"]["post"], "operationId": "mergeObjects"}
    }
    paths["/crm/v3/objects/contacts/gdpr-delete"] = {
        "post": operation(
            "gdprDeleteContact",
            "Permanently delete a contact",
            "Contacts",
            scope="crm.objects.contacts.write",
            body=ref("PublicGdprDeleteInput"),
            ok={204: None},
        )
    }
    # `crm.objects.*` in the SDK: the same operations by object type id.
    type_param = [enum_path_param("objectType", OBJECT_TYPE_IDS)]
    generic = _object_paths(
        "/crm/v3/objects/{objectType}",
        "Object",
        "objectId",
        "Objects",
        "the object type's scope",
        type_param,
    )
    paths.update(generic)
    return paths


# --- associations -----------------------------------------------------------------------


def association_paths() -> dict[str, Schema]:
    tag = "Associations"
    scope = "both object types' scopes"
    one_side = [
        enum_path_param("objectType", ASSOCIATION_OBJECT_TYPES),
        path_param("objectId"),
        enum_path_param("toObjectType", ASSOCIATION_OBJECT_TYPES),
    ]
    pair = [*one_side, path_param("toObjectId")]
    default_pair = [
        enum_path_param("fromObjectType", ASSOCIATION_OBJECT_TYPES),
        path_param("fromObjectId"),
        enum_path_param("toObjectType", ASSOCIATION_OBJECT_TYPES),
        path_param("toObjectId"),
    ]
    types = [
        enum_path_param("fromObjectType", ASSOCIATION_OBJECT_TYPES),
        enum_path_param("toObjectType", ASSOCIATION_OBJECT_TYPES),
    ]
    v4 = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}"
    batch4 = "/crm/v4/associations/{fromObjectType}/{toObjectType}"
    batch3 = "/crm/v3/associations/{fromObjectType}/{toObjectType}/batch"
    return {
        v4: {
            "get": operation(
                "listAssociations",
                "List a record's associations to one object type",
                tag,
                scope=scope,
                params=[*one_side, AFTER, limit(500, 500)],
                ok={200: ref("CollectionResponseMultiAssociatedObjectWithLabelForwardPaging")},
            )
        },
        v4 + "/{toObjectId}": {
            "put": operation(
                "createAssociation",
                "Associate two records with the given types",
                tag,
                scope=scope,
                params=pair,
                body=array(ref("AssociationSpec")),
                ok={201: ref("LabelsBetweenObjectPair")},
            ),
            "delete": operation(
                "archiveAssociation",
                "Remove every association between two records",
                tag,
                scope=scope,
                params=pair,
                ok={204: None},
            ),
        },
        "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}"
        "/{toObjectId}": {
            "put": operation(
                "createDefaultAssociation",
                "Associate two records with the default type",
                tag,
                scope=scope,
                params=default_pair,
                ok={200: ref("BatchResponsePublicDefaultAssociation")},
            )
        },
        f"{batch4}/batch/create": {
            "post": operation(
                "batchCreateAssociations",
                "Associate pairs of records with the given types",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicAssociationMultiPost"),
                ok={
                    201: ref("BatchResponseLabelsBetweenObjectPair"),
                    207: ref("BatchResponseLabelsBetweenObjectPair"),
                },
            )
        },
        f"{batch4}/batch/associate/default": {
            "post": operation(
                "batchCreateDefaultAssociations",
                "Associate pairs of records with the default type",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicDefaultAssociationMultiPost"),
                ok={
                    200: ref("BatchResponsePublicDefaultAssociation"),
                    207: ref("BatchResponsePublicDefaultAssociation"),
                },
            )
        },
        f"{batch4}/batch/read": {
            "post": operation(
                "batchReadAssociations",
                "Read the associations of several records",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicFetchAssociationsBatchRequest"),
                ok={
                    200: ref("BatchResponsePublicAssociationMultiWithLabel"),
                    207: ref("BatchResponsePublicAssociationMultiWithLabel"),
                },
            )
        },
        f"{batch4}/batch/archive": {
            "post": operation(
                "batchArchiveAssociations",
                "Remove every association between pairs of records",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicAssociationMultiArchive"),
                ok={204: None},
            )
        },
        f"{batch4}/batch/labels/archive": {
            "post": operation(
                "batchArchiveAssociationLabels",
                "Remove only the given association types between pairs of records",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicAssociationMultiPost"),
                ok={204: None},
            )
        },
        f"{batch4}/labels": {
            "get": operation(
                "listAssociationLabels",
                "The association types between two object types",
                tag,
                scope=scope,
                params=types,
                ok={200: ref("CollectionResponseAssociationSpecWithLabelNoPaging")},
            )
        },
        f"{batch3}/create": {
            "post": operation(
                "v3BatchCreateAssociations",
                "Associate pairs of records (v3, by type name)",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicAssociation"),
                ok={
                    201: ref("BatchResponsePublicAssociation"),
                    207: ref("BatchResponsePublicAssociation"),
                },
            )
        },
        f"{batch3}/read": {
            "post": operation(
                "v3BatchReadAssociations",
                "Read the associations of several records (v3)",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicObjectId"),
                ok={
                    200: ref("BatchResponsePublicAssociationMulti"),
                    207: ref("BatchResponsePublicAssociationMulti"),
                },
            )
        },
        f"{batch3}/archive": {
            "post": operation(
                "v3BatchArchiveAssociations",
                "Remove associations between pairs of records (v3)",
                tag,
                scope=scope,
                params=types,
                body=ref("BatchInputPublicAssociation"),
                ok={204: None},
            )
        },
    }


# --- pipelines, properties, owners ------------------------------------------------------


def pipeline_paths() -> dict[str, Schema]:
    tag = "Pipelines"
    scope = "tickets"
    kind = [enum_path_param("objectType", PIPELINE_OBJECT_TYPES)]
    one = [*kind, path_param("pipelineId", example="0")]
    stage = [*one, path_param("stageId", example="1")]
    base = "/crm/v3/pipelines/{objectType}"
    return {
        base: {
            "get": operation(
                "listPipelines",
                "All pipelines with their stages",
                tag,
                scope=scope,
                params=kind,
                ok={200: ref("CollectionResponsePipelineNoPaging")},
            ),
            "post": operation(
                "createPipeline",
                "Create a pipeline with its stages",
                tag,
                scope=scope,
                params=kind,
                body=ref("PipelineInput"),
                ok={201: ref("Pipeline")},
                errors=(400, 404, 405, 409),
            ),
        },
        base + "/{pipelineId}": {
            "get": operation(
                "getPipeline",
                "Read a pipeline",
                tag,
                scope=scope,
                params=one,
                ok={200: ref("Pipeline")},
            ),
            "patch": operation(
                "updatePipeline",
                "Rename, reorder or archive a pipeline",
                tag,
                scope=scope,
                params=one,
                body=ref("PipelinePatchInput"),
                ok={200: ref("Pipeline")},
                errors=(400, 404, 405, 409),
            ),
            "put": operation(
                "replacePipeline",
                "Replace a pipeline and its stages",
                tag,
                scope=scope,
                params=one,
                body=ref("PipelineInput"),
                ok={200: ref("Pipeline")},
                errors=(400, 404, 405, 409),
            ),
            "delete": operation(
                "archivePipeline",
                "Archive a pipeline",
                tag,
                scope=scope,
                params=[
                    *one,
                    query("validateReferencesBeforeDelete", BOOLEAN),
                    query("validateDealStageUsagesBeforeDelete", BOOLEAN),
                ],
                ok={204: None},
                errors=(400, 404, 405, 409),
            ),
        },
        base + "/{pipelineId}/stages": {
            "get": operation(
                "listStages",
                "A pipeline's stages",
                tag,
                scope=scope,
                params=one,
                ok={200: ref("CollectionResponsePipelineStageNoPaging")},
            ),
            "post": operation(
                "createStage",
                "Add a stage",
                tag,
                scope=scope,
                params=one,
                body=ref("PipelineStageInput"),
                ok={201: ref("PipelineStage")},
                errors=(400, 404, 405, 409),
            ),
        },
        base + "/{pipelineId}/stages/{stageId}": {
            "get": operation(
                "getStage",
                "Read a stage",
                tag,
                scope=scope,
                params=stage,
                ok={200: ref("PipelineStage")},
            ),
            "patch": operation(
                "updateStage",
                "Rename, reorder or archive a stage",
                tag,
                scope=scope,
                params=stage,
                body=ref("PipelineStagePatchInput"),
                ok={200: ref("PipelineStage")},
                errors=(400, 404, 405, 409),
            ),
            "put": operation(
                "replaceStage",
                "Replace a stage",
                tag,
                scope=scope,
                params=stage,
                body=ref("PipelineStageInput"),
                ok={200: ref("PipelineStage")},
                errors=(400, 404, 405, 409),
            ),
            "delete": operation(
                "archiveStage",
                "Archive a stage",
                tag,
                scope=scope,
                params=stage,
                ok={204: None},
                errors=(400, 404, 405, 409),
            ),
        },
    }


def property_paths() -> dict[str, Schema]:
    tag = "Properties"
    scope = "the object type's scope"
    kind = [enum_path_param("objectType", ASSOCIATION_OBJECT_TYPES)]
    one = [*kind, path_param("propertyName", example="subject")]
    group = [*kind, path_param("groupName", example="ticketinformation")]
    base = "/crm/v3/properties/{objectType}"
    batch = {200: ref("BatchResponseProperty"), 207: ref("BatchResponseProperty")}
    return {
        base: {
            "get": operation(
                "listProperties",
                "The object type's properties",
                tag,
                scope=scope,
                params=[*kind, ARCHIVED, query("properties", STRING)],
                ok={200: ref("CollectionResponsePropertyNoPaging")},
            ),
            "post": operation(
                "createProperty",
                "Create a custom property",
                tag,
                scope=scope,
                params=kind,
                body=ref("PropertyCreate"),
                ok={201: ref("Property")},
                errors=(400, 404, 409),
            ),
        },
        base + "/{propertyName}": {
            "get": operation(
                "getProperty",
                "Read a property",
                tag,
                scope=scope,
                params=[*one, ARCHIVED],
                ok={200: ref("Property")},
            ),
            "patch": operation(
                "updateProperty",
                "Change a custom property",
                tag,
                scope=scope,
                params=one,
                body=ref("PropertyUpdate"),
                ok={200: ref("Property")},
                errors=(400, 404, 409),
            ),
            "delete": operation(
                "archiveProperty",
                "Archive a custom property",
                tag,
                scope=scope,
                params=one,
                ok={204: None},
            ),
        },
        base + "/batch/read": {
            "post": operation(
                "batchReadProperties",
                "Read several properties",
                tag,
                scope=scope,
                params=kind,
                body=ref("BatchReadInputPropertyName"),
                ok=batch,
            )
        },
        base + "/batch/create": {
            "post": operation(
                "batchCreateProperties",
                "Create several custom properties",
                tag,
                scope=scope,
                params=kind,
                body=ref("BatchInputPropertyCreate"),
                ok={201: ref("BatchResponseProperty"), 207: ref("BatchResponseProperty")},
                errors=(400, 404, 409),
            )
        },
        base + "/batch/archive": {
            "post": operation(
                "batchArchiveProperties",
                "Archive several custom properties",
                tag,
                scope=scope,
                params=kind,
                body=ref("BatchInputPropertyName"),
                ok={204: None},
            )
        },
        base + "/groups": {
            "get": operation(
                "listPropertyGroups",
                "The object type's property groups",
                tag,
                scope=scope,
                params=kind,
                ok={200: ref("CollectionResponsePropertyGroupNoPaging")},
            ),
            "post": operation(
                "createPropertyGroup",
                "Create a property group",
                tag,
                scope=scope,
                params=kind,
                body=ref("PropertyGroupCreate"),
                ok={201: ref("PropertyGroup")},
                errors=(400, 404, 409),
            ),
        },
        base + "/groups/{groupName}": {
            "get": operation(
                "getPropertyGroup",
                "Read a property group",
                tag,
                scope=scope,
                params=group,
                ok={200: ref("PropertyGroup")},
            ),
            "patch": operation(
                "updatePropertyGroup",
                "Rename or reorder a property group",
                tag,
                scope=scope,
                params=group,
                body=ref("PropertyGroupUpdate"),
                ok={200: ref("PropertyGroup")},
            ),
            "delete": operation(
                "archivePropertyGroup",
                "Archive a property group",
                tag,
                scope=scope,
                params=group,
                ok={204: None},
            ),
        },
    }


def owner_paths() -> dict[str, Schema]:
    tag = "Owners"
    scope = "crm.objects.owners.read"
    list_params = [
        query("email", STRING, "Only the owner with this email address."),
        AFTER,
        limit(100, 500),
        ARCHIVED,
    ]
    listing = {200: ref("CollectionResponsePublicOwnerForwardPaging")}
    return {
        # The SDK calls the list with a trailing slash; both forms are served.
        "/crm/v3/owners/": {
            "get": operation(
                "listOwners", "List owners", tag, scope=scope, params=list_params, ok=listing
            )
        },
        "/crm/v3/owners": {
            "get": operation(
                "listOwnersNoSlash",
                "List owners (without the trailing slash)",
                tag,
                scope=scope,
                params=list_params,
                ok=listing,
            )
        },
        "/crm/v3/owners/{ownerId}": {
            "get": operation(
                "getOwner",
                "Read an owner by owner id or user id",
                tag,
                scope=scope,
                params=[
                    path_param("ownerId"),
                    query("idProperty", {"type": "string", "enum": ["id", "userId"]}),
                    ARCHIVED,
                ],
                ok={200: ref("PublicOwner")},
            )
        },
    }


# --- conversations ----------------------------------------------------------------------


def assignee(suffix: str, thread: list[Schema]) -> Schema:
    """The thread's assignee is its ticket's owner: POST (HubSpot's guide) and PUT (its newer
    spec) assign an agent actor (`A-<userId>`), DELETE unassigns."""
    tag = "Conversations"
    body = ref("PublicAssigneeInput")
    return {
        "post": operation(
            f"assignThread{suffix}",
            "Assign the thread (its ticket's owner)",
            tag,
            scope="conversations.write",
            params=thread,
            body=body,
            ok={200: ref("PublicThread")},
        ),
        "put": operation(
            f"putThreadAssignee{suffix}",
            "Assign the thread (its ticket's owner)",
            tag,
            scope="conversations.write",
            params=thread,
            body=body,
            ok={200: ref("PublicThread")},
        ),
        "delete": operation(
            f"unassignThread{suffix}",
            "Unassign the thread",
            tag,
            scope="conversations.write",
            params=thread,
            ok={204: None},
        ),
    }


def conversation_paths() -> dict[str, Schema]:
    tag = "Conversations"
    read = "conversations.read"
    write = "conversations.write"
    sort = query("sort", STRING)
    thread = [path_param("threadId")]
    message = [*thread, path_param("messageId")]
    base = CONVERSATIONS
    return {
        f"{base}/inboxes": {
            "get": operation(
                "listInboxes",
                "Inboxes and help desks",
                tag,
                scope=read,
                params=[
                    AFTER,
                    limit(100, 500),
                    sort,
                    ARCHIVED,
                    query("defaultPageLength", INTEGER),
                ],
                ok={200: ref("CollectionResponseWithTotalPublicInboxForwardPaging")},
                errors=(400,),
            )
        },
        f"{base}/inboxes/{{inboxId}}": {
            "get": operation(
                "getInbox",
                "Read an inbox",
                tag,
                scope=read,
                params=[path_param("inboxId"), ARCHIVED],
                ok={200: ref("PublicInbox")},
            )
        },
        f"{base}/channels": {
            "get": operation(
                "listChannels",
                "The kinds of channel conversations arrive through",
                tag,
                scope=read,
                params=[AFTER, limit(100, 500), sort, query("defaultPageLength", INTEGER)],
                ok={200: ref("CollectionResponseWithTotalPublicChannelForwardPaging")},
                errors=(400,),
            )
        },
        f"{base}/channels/{{channelId}}": {
            "get": operation(
                "getChannel",
                "Read a channel",
                tag,
                scope=read,
                params=[path_param("channelId", example="1002")],
                ok={200: ref("PublicChannel")},
            )
        },
        f"{base}/channel-accounts": {
            "get": operation(
                "listChannelAccounts",
                "Connected channel accounts (a mailbox, a chat widget, a form)",
                tag,
                scope=read,
                params=[
                    query("channelId", array(STRING)),
                    query("inboxId", array(STRING)),
                    AFTER,
                    limit(100, 500),
                    sort,
                    ARCHIVED,
                ],
                ok={200: ref("CollectionResponseWithTotalPublicChannelAccountForwardPaging")},
                errors=(400,),
            )
        },
        f"{base}/channel-accounts/{{channelAccountId}}": {
            "get": operation(
                "getChannelAccount",
                "Read a channel account",
                tag,
                scope=read,
                params=[path_param("channelAccountId"), ARCHIVED],
                ok={200: ref("PublicChannelAccount")},
            )
        },
        f"{base}/threads": {
            "get": operation(
                "listThreads",
                "Conversation threads",
                tag,
                scope=read,
                params=[
                    AFTER,
                    limit(100, 500),
                    ARCHIVED,
                    query("associatedContactId", STRING, "Requires threadStatus."),
                    query("associatedTicketId", STRING),
                    query("inboxId", STRING),
                    query("threadStatus", {"type": "string", "enum": ["OPEN", "CLOSED"]}),
                    query("sort", STRING, "`id` or `latestMessageTimestamp`."),
                    query("latestMessageTimestampAfter", {"type": "string", "format": "date-time"}),
                    query("association", array({"type": "string", "enum": ["TICKET"]})),
                    query("property", STRING),
                ],
                ok={200: ref("CollectionResponsePublicThreadForwardPaging")},
                errors=(400,),
            )
        },
        f"{base}/threads/{{threadId}}": {
            "get": operation(
                "getThread",
                "Read a thread",
                tag,
                scope=read,
                params=[
                    *thread,
                    ARCHIVED,
                    query("association", array({"type": "string", "enum": ["TICKET"]})),
                    query("property", STRING),
                ],
                ok={200: ref("PublicThread")},
            ),
            "patch": operation(
                "updateThread",
                "Open or close a thread, or restore an archived one",
                tag,
                scope=write,
                params=[*thread, ARCHIVED],
                body=ref("PublicThreadPatch"),
                ok={200: ref("PublicThread")},
            ),
            "delete": operation(
                "archiveThread",
                "Archive a thread (to the trash)",
                tag,
                scope=write,
                params=thread,
                ok={204: None},
            ),
        },
        f"{base}/threads/{{threadId}}/assignee": assignee("", thread),
        # The newer spec's odd path for the same assignee.
        "/conversations/conversations/v3/threads/{threadId}/assignee": assignee("V3", thread),
        f"{base}/threads/{{threadId}}/messages": {
            "get": operation(
                "listMessages",
                "A thread's messages, newest first",
                tag,
                scope=read,
                params=[
                    *thread,
                    AFTER,
                    limit(100, 500),
                    query("sort", {"type": "string", "enum": ["createdAt", "-createdAt"]}),
                    ARCHIVED,
                    query("property", STRING),
                ],
                ok={200: ref("CollectionResponsePublicMessageForwardPaging")},
            ),
            "post": operation(
                "createMessage",
                "Send a reply through the thread's channel, or add an internal comment",
                tag,
                scope=write,
                params=thread,
                body={"oneOf": [ref("PublicCommentInput"), ref("PublicMessageInput")]},
                ok={201: ref("PublicMessage")},
            ),
        },
        f"{base}/threads/{{threadId}}/messages/{{messageId}}": {
            "get": operation(
                "getMessage",
                "Read a message",
                tag,
                scope=read,
                params=[*message, query("property", STRING)],
                ok={200: ref("PublicMessage")},
            )
        },
        f"{base}/threads/{{threadId}}/messages/{{messageId}}/original-content": {
            "get": operation(
                "getMessageOriginalContent",
                "A message's untruncated text",
                tag,
                scope=read,
                params=message,
                ok={200: ref("PublicOriginalContent")},
            )
        },
        f"{base}/messages/{{messageId}}/original-content": {
            "get": operation(
                "getOriginalContent",
                "A message's untruncated text, by message id alone",
                tag,
                scope=read,
                params=[path_param("messageId")],
                ok={200: ref("PublicOriginalContent")},
            )
        },
        f"{base}/actors/{{actorId}}": {
            "get": operation(
                "getActor",
                "Read an actor (agent `A-`, visitor `V-`, email `E-`, …)",
                tag,
                scope=read,
                params=[path_param("actorId", example="A-1")],
                ok={200: ref("PublicActor")},
            )
        },
        f"{base}/actors/batch/read": {
            "post": operation(
                "batchReadActors",
                "Read several actors",
                tag,
                scope=read,
                body=ref("BatchInputString"),
                ok={200: ref("BatchResponsePublicActor"), 207: ref("BatchResponsePublicActor")},
            )
        },
    }


# --- the document -----------------------------------------------------------------------

TAGS = [
    ("Tickets", "Tickets (`tickets` scope)."),
    ("Contacts", "Contacts."),
    ("Companies", "Companies."),
    ("Deals", "Deals."),
    ("Objects", "Any CRM object by its type id (`0-5` tickets, `0-1` contacts, …)."),
    ("Associations", "Associations between records, v4 and the legacy v3 batch."),
    ("Pipelines", "Ticket (and deal) pipelines and their stages."),
    ("Properties", "Property definitions and groups."),
    ("Owners", "Users who can own records."),
    ("Conversations", "Inboxes, channels, threads, messages and actors."),
    ("Meta", "This document."),
]


@cache
def _build() -> dict[str, Any]:
    paths: dict[str, Schema] = {}
    for part in (
        crm_object_paths(),
        association_paths(),
        pipeline_paths(),
        property_paths(),
        owner_paths(),
        conversation_paths(),
    ):
        paths.update(part)
    paths["/api/openapi.json"] = {
        "get": {
            "operationId": "getOpenApiDocument",
            "summary": "This OpenAPI document",
            "tags": ["Meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Svardesk API",
            "version": API_VERSION,
            "description": (
                "HubSpot-compatible CRM v3/v4 and conversations v3 API: the official "
                "`hubspot-api-client` SDK works against Svardesk by changing its host. "
                "Authenticate with a private-app token (Settings → Integrations → Private "
                "apps) as `Authorization: Bearer <token>`. Every call may answer 429 with "
                "HubSpot's rate-limit body and `X-HubSpot-RateLimit-*` headers."
            ),
        },
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A private-app token (`pat-…`).",
                }
            },
            "responses": ERROR_RESPONSES,
            "schemas": components(),
        },
    }


def build_document(server_url: str | None = None) -> dict[str, Any]:
    """The document; with `server_url`, `servers` names this instance."""
    document = copy.deepcopy(_build())
    if server_url:
        document["servers"] = [{"url": server_url}]
    return document
