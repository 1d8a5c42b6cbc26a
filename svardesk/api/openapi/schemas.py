"""The document's component schemas: HubSpot's shapes (hubspot-api.md), named as HubSpot's
own specs name them so that a reader of either recognises the other.

Response schemas list what is always there as `required` and leave `additionalProperties`
open: HubSpot adds fields freely, and so may we. Request schemas describe what the server
reads; unknown fields are ignored by the server, so they stay open too."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items, **extra}


STRING: Schema = {"type": "string"}
NULLABLE_STRING: Schema = {"type": "string", "nullable": True}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME: Schema = {"type": "string", "format": "date-time", "nullable": True}
# Ids are strings of digits in every response.
ID: Schema = {"type": "string", "example": "512"}
STRING_MAP: Schema = {"type": "object", "additionalProperties": STRING}
STRING_LISTS: Schema = {"type": "object", "additionalProperties": array(STRING)}
# A property value as a request may send it: HubSpot coerces numbers and booleans.
INPUT_VALUE: Schema = {
    "nullable": True,
    "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}],
}
BATCH_STATUS: Schema = {"type": "string", "enum": ["PENDING", "PROCESSING", "CANCELED", "COMPLETE"]}


def _batch_response(result: Schema, *, with_errors: bool) -> Schema:
    properties: dict[str, Schema] = {
        "status": BATCH_STATUS,
        "results": array(result),
        "requestedAt": DATE_TIME,
        "startedAt": DATE_TIME,
        "completedAt": DATE_TIME,
        "links": STRING_MAP,
    }
    if with_errors:
        properties["numErrors"] = INTEGER
        properties["errors"] = array(ref("StandardError"))
    return obj(properties, ("status", "results", "startedAt", "completedAt"))


def _batch_input(item: Schema, *, max_items: int = 100) -> Schema:
    return obj({"inputs": array(item, maxItems=max_items)}, ("inputs",))


PAGING = {
    "Paging": obj({"next": ref("NextPage"), "prev": ref("PreviousPage")}),
    "ForwardPaging": obj({"next": ref("NextPage")}),
    "NextPage": obj({"after": STRING, "link": STRING}, ("after",)),
    "PreviousPage": obj({"before": STRING, "link": STRING}, ("before",)),
}

ERRORS = {
    "Error": obj(
        {
            "status": {"type": "string", "example": "error"},
            "message": STRING,
            "correlationId": {"type": "string", "format": "uuid"},
            "category": {"type": "string", "example": "VALIDATION_ERROR"},
            "subCategory": STRING,
            "context": STRING_LISTS,
            "links": STRING_MAP,
            "errors": array(ref("ErrorDetail")),
        },
        ("status", "message", "correlationId", "category"),
    ),
    "ErrorDetail": obj(
        {
            "message": STRING,
            "in": STRING,
            "code": STRING,
            "subCategory": STRING,
            "context": STRING_LISTS,
        },
        ("message",),
    ),
    # The 429 body (hubspot-api.md 1.6): `errorType` and `policyName` instead of detail.
    "RateLimitError": obj(
        {
            "status": STRING,
            "message": STRING,
            "errorType": {"type": "string", "example": "RATE_LIMIT"},
            "correlationId": STRING,
            "policyName": {
                "type": "string",
                "enum": ["TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY"],
            },
            "groupName": STRING,
            "category": STRING,
        },
        ("status", "message"),
    ),
    "StandardError": obj(
        {
            "status": STRING,
            "id": STRING,
            "category": STRING,
            "subCategory": {},
            "message": STRING,
            "errors": array(ref("ErrorDetail")),
            "context": STRING_LISTS,
            "links": STRING_MAP,
        },
        ("status", "category", "message"),
    ),
}

OBJECTS = {
    "ValueWithTimestamp": obj(
        {
            "value": STRING,
            "timestamp": DATE_TIME,
            "sourceType": STRING,
            "sourceId": STRING,
            "sourceLabel": STRING,
            "updatedByUserId": INTEGER,
        },
        ("value", "timestamp", "sourceType"),
    ),
    "SimplePublicObject": obj(
        {
            "id": ID,
            "properties": {"type": "object", "additionalProperties": NULLABLE_STRING},
            "propertiesWithHistory": {
                "type": "object",
                "additionalProperties": array(ref("ValueWithTimestamp")),
            },
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archived": BOOLEAN,
            "archivedAt": NULLABLE_DATE_TIME,
            "objectWriteTraceId": STRING,
            "url": STRING,
        },
        ("id", "properties", "createdAt", "updatedAt", "archived"),
    ),
    "SimplePublicObjectWithAssociations": {
        "allOf": [
            ref("SimplePublicObject"),
            obj(
                {
                    "associations": {
                        "type": "object",
                        "additionalProperties": ref("CollectionResponseAssociatedId"),
                    }
                }
            ),
        ]
    },
    "SimplePublicUpsertObject": {
        "allOf": [ref("SimplePublicObject"), obj({"new": BOOLEAN}, ("new",))]
    },
    "AssociatedId": obj({"id": ID, "type": STRING}, ("id", "type")),
    "CollectionResponseAssociatedId": obj(
        {"results": array(ref("AssociatedId")), "paging": ref("Paging")}, ("results",)
    ),
    "CollectionResponseSimplePublicObjectWithAssociationsForwardPaging": obj(
        {
            "results": array(ref("SimplePublicObjectWithAssociations")),
            "paging": ref("ForwardPaging"),
        },
        ("results",),
    ),
    "CollectionResponseWithTotalSimplePublicObjectForwardPaging": obj(
        {
            "total": INTEGER,
            "results": array(ref("SimplePublicObject")),
            "paging": ref("ForwardPaging"),
        },
        ("total", "results"),
    ),
    "AssociationSpec": obj(
        {
            "associationCategory": {
                "type": "string",
                "enum": ["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED"],
            },
            "associationTypeId": {"type": "integer", "example": 16},
        },
        ("associationCategory", "associationTypeId"),
    ),
    "PublicObjectId": obj({"id": STRING}, ("id",)),
    "PublicAssociationsForObject": obj(
        {"to": ref("PublicObjectId"), "types": array(ref("AssociationSpec"))},
        ("to", "types"),
    ),
    "SimplePublicObjectInputForCreate": {
        **obj(
            {
                "properties": {"type": "object", "additionalProperties": INPUT_VALUE},
                "associations": array(ref("PublicAssociationsForObject")),
            },
            ("properties",),
        ),
        "example": {
            "properties": {
                "subject": "troubleshoot report",
                "content": "Customer cannot export",
                "hs_pipeline": "0",
                "hs_pipeline_stage": "1",
                "hs_ticket_priority": "HIGH",
            },
            "associations": [
                {
                    "to": {"id": "201"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 16}],
                }
            ],
        },
    },
    "SimplePublicObjectInput": obj(
        {"properties": {"type": "object", "additionalProperties": INPUT_VALUE}},
        ("properties",),
    ),
    "SimplePublicObjectId": obj({"id": STRING}, ("id",)),
    "SimplePublicObjectBatchInputForCreate": obj(
        {
            "properties": {"type": "object", "additionalProperties": INPUT_VALUE},
            "associations": array(ref("PublicAssociationsForObject")),
            "objectWriteTraceId": STRING,
        },
        ("properties",),
    ),
    "SimplePublicObjectBatchInput": obj(
        {
            "id": STRING,
            "idProperty": STRING,
            "properties": {"type": "object", "additionalProperties": INPUT_VALUE},
            "objectWriteTraceId": STRING,
        },
        ("id", "properties"),
    ),
    "SimplePublicObjectBatchInputUpsert": obj(
        {
            "id": STRING,
            "idProperty": STRING,
            "properties": {"type": "object", "additionalProperties": INPUT_VALUE},
            "objectWriteTraceId": STRING,
        },
        ("id", "properties"),
    ),
    "BatchReadInputSimplePublicObjectId": obj(
        {
            "inputs": array(ref("SimplePublicObjectId"), maxItems=100),
            "properties": array(STRING),
            "propertiesWithHistory": array(STRING),
            "idProperty": STRING,
        },
        ("inputs",),
    ),
    "BatchInputSimplePublicObjectBatchInputForCreate": _batch_input(
        ref("SimplePublicObjectBatchInputForCreate")
    ),
    "BatchInputSimplePublicObjectBatchInput": _batch_input(ref("SimplePublicObjectBatchInput")),
    "BatchInputSimplePublicObjectBatchInputUpsert": _batch_input(
        ref("SimplePublicObjectBatchInputUpsert")
    ),
    "BatchInputSimplePublicObjectId": _batch_input(ref("SimplePublicObjectId")),
    "BatchResponseSimplePublicObject": _batch_response(
        ref("SimplePublicObject"), with_errors=False
    ),
    "BatchResponseSimplePublicObjectWithErrors": _batch_response(
        ref("SimplePublicObject"), with_errors=True
    ),
    "BatchResponseSimplePublicUpsertObject": _batch_response(
        ref("SimplePublicUpsertObject"), with_errors=False
    ),
    "BatchResponseSimplePublicUpsertObjectWithErrors": _batch_response(
        ref("SimplePublicUpsertObject"), with_errors=True
    ),
    "Filter": obj(
        {
            "propertyName": {"type": "string", "example": "hs_pipeline_stage"},
            "operator": {
                "type": "string",
                "enum": [
                    "EQ",
                    "NEQ",
                    "LT",
                    "LTE",
                    "GT",
                    "GTE",
                    "BETWEEN",
                    "IN",
                    "NOT_IN",
                    "HAS_PROPERTY",
                    "NOT_HAS_PROPERTY",
                    "CONTAINS_TOKEN",
                    "NOT_CONTAINS_TOKEN",
                ],
            },
            "value": STRING,
            "highValue": STRING,
            "values": array(STRING),
        },
        ("propertyName", "operator"),
    ),
    "FilterGroup": obj({"filters": array(ref("Filter"), maxItems=6)}, ("filters",)),
    "Sort": obj(
        {
            "propertyName": STRING,
            "direction": {"type": "string", "enum": ["ASCENDING", "DESCENDING"]},
        },
        ("propertyName",),
    ),
    "PublicObjectSearchRequest": obj(
        {
            "query": {"type": "string", "maxLength": 3000},
            "filterGroups": array(ref("FilterGroup"), maxItems=5),
            "filters": array(ref("Filter"), maxItems=6),
            # One sort is honoured; the SDK types sorts as strings (`"-createdate"`).
            "sorts": array({"anyOf": [ref("Sort"), STRING]}),
            "properties": array(STRING),
            "limit": {"type": "integer", "minimum": 1, "maximum": 200},
            "after": {"type": "string", "pattern": "^[0-9]{1,5}$"},
        }
    )
    | {
        "example": {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "hs_pipeline_stage", "operator": "EQ", "value": "1"},
                        {
                            "propertyName": "hs_ticket_priority",
                            "operator": "IN",
                            "values": ["HIGH", "URGENT"],
                        },
                    ]
                }
            ],
            "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}],
            "properties": ["subject", "hs_pipeline_stage"],
            "limit": 20,
        }
    },
    "PublicMergeInput": obj(
        {"primaryObjectId": STRING, "objectIdToMerge": STRING},
        ("primaryObjectId", "objectIdToMerge"),
    ),
    "PublicGdprDeleteInput": obj({"objectId": STRING, "idProperty": STRING}, ("objectId",)),
}

_ASSOCIATION_TYPE = obj(
    {"category": STRING, "typeId": INTEGER, "label": NULLABLE_STRING}, ("category", "typeId")
)

ASSOCIATIONS = {
    "AssociationSpecWithLabel": _ASSOCIATION_TYPE,
    "MultiAssociatedObjectWithLabel": obj(
        {"toObjectId": ID, "associationTypes": array(ref("AssociationSpecWithLabel"))},
        ("toObjectId", "associationTypes"),
    ),
    "CollectionResponseMultiAssociatedObjectWithLabelForwardPaging": obj(
        {"results": array(ref("MultiAssociatedObjectWithLabel")), "paging": ref("ForwardPaging")},
        ("results",),
    ),
    "LabelsBetweenObjectPair": obj(
        {
            "fromObjectTypeId": STRING,
            "fromObjectId": ID,
            "toObjectTypeId": STRING,
            "toObjectId": ID,
            "labels": array(STRING),
        },
        ("fromObjectTypeId", "fromObjectId", "toObjectTypeId", "toObjectId", "labels"),
    ),
    "PublicDefaultAssociation": obj(
        {
            "from": ref("PublicObjectId"),
            "to": ref("PublicObjectId"),
            "associationSpec": ref("AssociationSpec"),
        },
        ("from", "to", "associationSpec"),
    ),
    "BatchResponsePublicDefaultAssociation": _batch_response(
        ref("PublicDefaultAssociation"), with_errors=True
    ),
    "BatchResponseLabelsBetweenObjectPair": _batch_response(
        ref("LabelsBetweenObjectPair"), with_errors=True
    ),
    "PublicAssociationMultiPost": obj(
        {
            "from": ref("PublicObjectId"),
            "to": ref("PublicObjectId"),
            "types": array(ref("AssociationSpec")),
        },
        ("from", "to", "types"),
    ),
    "BatchInputPublicAssociationMultiPost": _batch_input(ref("PublicAssociationMultiPost")),
    "PublicDefaultAssociationMultiPost": obj(
        {"from": ref("PublicObjectId"), "to": ref("PublicObjectId")}, ("from", "to")
    ),
    "BatchInputPublicDefaultAssociationMultiPost": _batch_input(
        ref("PublicDefaultAssociationMultiPost")
    ),
    "PublicFetchAssociationsBatchRequest": obj({"id": STRING, "after": NULLABLE_STRING}, ("id",)),
    "BatchInputPublicFetchAssociationsBatchRequest": _batch_input(
        ref("PublicFetchAssociationsBatchRequest"), max_items=1000
    ),
    "PublicAssociationMultiWithLabel": obj(
        {
            "from": ref("PublicObjectId"),
            "to": array(ref("MultiAssociatedObjectWithLabel")),
            "paging": {"allOf": [ref("Paging")], "nullable": True},
        },
        ("from", "to"),
    ),
    "BatchResponsePublicAssociationMultiWithLabel": _batch_response(
        ref("PublicAssociationMultiWithLabel"), with_errors=True
    ),
    "PublicAssociationMultiArchive": obj(
        {"from": ref("PublicObjectId"), "to": array(ref("PublicObjectId"))}, ("from", "to")
    ),
    "BatchInputPublicAssociationMultiArchive": _batch_input(
        ref("PublicAssociationMultiArchive"), max_items=2000
    ),
    "CollectionResponseAssociationSpecWithLabelNoPaging": obj(
        {"results": array(ref("AssociationSpecWithLabel"))}, ("results",)
    ),
    # v3 (legacy) batch associations.
    "PublicAssociation": obj(
        {"from": ref("PublicObjectId"), "to": ref("PublicObjectId"), "type": STRING},
        ("from", "to", "type"),
    ),
    "BatchInputPublicAssociation": _batch_input(ref("PublicAssociation"), max_items=2000),
    "BatchInputPublicObjectId": _batch_input(ref("PublicObjectId"), max_items=1000),
    "AssociatedIdV3": obj({"id": ID, "type": STRING}, ("id",)),
    "PublicAssociationMulti": obj(
        {"from": ref("PublicObjectId"), "to": array(ref("AssociatedIdV3")), "paging": {}},
        ("from", "to"),
    ),
    "BatchResponsePublicAssociation": _batch_response(ref("PublicAssociation"), with_errors=True),
    "BatchResponsePublicAssociationMulti": _batch_response(
        ref("PublicAssociationMulti"), with_errors=True
    ),
}

_STAGE_METADATA: Schema = {"type": "object", "additionalProperties": STRING}

PIPELINES = {
    "PipelineStage": obj(
        {
            "id": ID,
            "label": STRING,
            "displayOrder": INTEGER,
            "metadata": _STAGE_METADATA,
            "archived": BOOLEAN,
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archivedAt": NULLABLE_DATE_TIME,
            "writePermissions": {
                "type": "string",
                "enum": ["CRM_PERMISSIONS_ENFORCEMENT", "READ_ONLY", "INTERNAL_ONLY"],
            },
        },
        ("id", "label", "displayOrder", "metadata", "archived", "createdAt", "updatedAt"),
    ),
    "Pipeline": obj(
        {
            "id": ID,
            "label": STRING,
            "displayOrder": INTEGER,
            "stages": array(ref("PipelineStage")),
            "archived": BOOLEAN,
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archivedAt": NULLABLE_DATE_TIME,
        },
        ("id", "label", "displayOrder", "stages", "archived", "createdAt", "updatedAt"),
    ),
    "PipelineStageInput": obj(
        {
            "label": {"type": "string", "minLength": 1},
            "displayOrder": INTEGER,
            "metadata": _STAGE_METADATA,
            "stageId": STRING,
        },
        ("label", "displayOrder", "metadata"),
    ),
    "PipelineStagePatchInput": obj(
        {
            "label": STRING,
            "displayOrder": INTEGER,
            "archived": BOOLEAN,
            "metadata": _STAGE_METADATA,
        },
        ("metadata",),
    ),
    "PipelineInput": obj(
        {
            "label": {"type": "string", "minLength": 1},
            "displayOrder": INTEGER,
            "stages": array(ref("PipelineStageInput")),
            "pipelineId": STRING,
        },
        ("label", "displayOrder", "stages"),
    ),
    "PipelinePatchInput": obj({"label": STRING, "displayOrder": INTEGER, "archived": BOOLEAN}),
    "CollectionResponsePipelineNoPaging": obj({"results": array(ref("Pipeline"))}, ("results",)),
    "CollectionResponsePipelineStageNoPaging": obj(
        {"results": array(ref("PipelineStage"))}, ("results",)
    ),
}

_PROPERTY_TYPE: Schema = {
    "type": "string",
    "enum": ["string", "number", "date", "datetime", "enumeration", "bool", "phone_number"],
}
_FIELD_TYPE: Schema = {
    "type": "string",
    "enum": [
        "text",
        "textarea",
        "html",
        "number",
        "date",
        "file",
        "select",
        "radio",
        "checkbox",
        "booleancheckbox",
        "phonenumber",
        "calculation_equation",
    ],
}
_OPTION_INPUT = obj(
    {
        "label": STRING,
        "value": STRING,
        "description": STRING,
        "displayOrder": INTEGER,
        "hidden": BOOLEAN,
    },
    ("label", "value", "hidden"),
)

PROPERTIES = {
    "Option": obj(
        {
            "label": STRING,
            "value": STRING,
            "description": STRING,
            "displayOrder": INTEGER,
            "hidden": BOOLEAN,
        },
        ("label", "value", "hidden"),
    ),
    "OptionInput": _OPTION_INPUT,
    "PropertyModificationMetadata": obj(
        {
            "archivable": BOOLEAN,
            "readOnlyDefinition": BOOLEAN,
            "readOnlyValue": BOOLEAN,
            "readOnlyOptions": BOOLEAN,
        },
        ("archivable", "readOnlyDefinition", "readOnlyValue"),
    ),
    "Property": obj(
        {
            "name": STRING,
            "label": STRING,
            "type": STRING,
            "fieldType": STRING,
            "groupName": STRING,
            "description": STRING,
            "options": array(ref("Option")),
            "displayOrder": INTEGER,
            "hasUniqueValue": BOOLEAN,
            "hidden": BOOLEAN,
            "formField": BOOLEAN,
            "calculated": BOOLEAN,
            "externalOptions": BOOLEAN,
            "hubspotDefined": BOOLEAN,
            "modificationMetadata": ref("PropertyModificationMetadata"),
            "createdAt": NULLABLE_DATE_TIME,
            "updatedAt": NULLABLE_DATE_TIME,
            "archived": BOOLEAN,
            "archivedAt": NULLABLE_DATE_TIME,
            "createdUserId": NULLABLE_STRING,
            "updatedUserId": NULLABLE_STRING,
            "referencedObjectType": NULLABLE_STRING,
            "calculationFormula": NULLABLE_STRING,
            "dataSensitivity": NULLABLE_STRING,
        },
        ("name", "label", "type", "fieldType", "groupName", "description", "options"),
    ),
    "PropertyCreate": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "label": {"type": "string", "minLength": 1},
            "type": _PROPERTY_TYPE,
            "fieldType": _FIELD_TYPE,
            "groupName": STRING,
            "description": STRING,
            "options": array(_OPTION_INPUT),
            "displayOrder": INTEGER,
            "hasUniqueValue": BOOLEAN,
            "hidden": BOOLEAN,
            "formField": BOOLEAN,
            "calculationFormula": STRING,
            "externalOptions": BOOLEAN,
            "referencedObjectType": STRING,
            "dataSensitivity": STRING,
        },
        ("name", "label", "type", "fieldType", "groupName"),
    ),
    "PropertyUpdate": obj(
        {
            "label": STRING,
            "type": _PROPERTY_TYPE,
            "fieldType": _FIELD_TYPE,
            "groupName": STRING,
            "description": STRING,
            "options": array(_OPTION_INPUT),
            "displayOrder": INTEGER,
            "hidden": BOOLEAN,
            "formField": BOOLEAN,
            "calculationFormula": STRING,
        }
    ),
    "CollectionResponsePropertyNoPaging": obj({"results": array(ref("Property"))}, ("results",)),
    "PropertyName": obj({"name": STRING}, ("name",)),
    "BatchReadInputPropertyName": obj(
        {"inputs": array(ref("PropertyName")), "archived": BOOLEAN}, ("inputs",)
    ),
    "BatchInputPropertyCreate": _batch_input(ref("PropertyCreate")),
    "BatchInputPropertyName": _batch_input(ref("PropertyName")),
    "BatchResponseProperty": _batch_response(ref("Property"), with_errors=True),
    "PropertyGroup": obj(
        {"name": STRING, "label": STRING, "displayOrder": INTEGER, "archived": BOOLEAN},
        ("name", "label", "displayOrder", "archived"),
    ),
    "PropertyGroupCreate": obj(
        {
            "name": {"type": "string", "minLength": 1, "maxLength": 100},
            "label": {"type": "string", "minLength": 1},
            "displayOrder": INTEGER,
        },
        ("name", "label"),
    ),
    "PropertyGroupUpdate": obj({"label": STRING, "displayOrder": INTEGER}),
    "CollectionResponsePropertyGroupNoPaging": obj(
        {"results": array(ref("PropertyGroup"))}, ("results",)
    ),
}

OWNERS = {
    "PublicTeam": obj({"id": ID, "name": STRING, "primary": BOOLEAN}, ("id", "name", "primary")),
    "PublicOwner": obj(
        {
            "id": ID,
            "email": STRING,
            "firstName": STRING,
            "lastName": STRING,
            "userId": {"type": "integer", "nullable": True},
            "userIdIncludingInactive": {"type": "integer", "nullable": True},
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archived": BOOLEAN,
            "type": {"type": "string", "enum": ["PERSON", "QUEUE"]},
            "teams": array(ref("PublicTeam")),
        },
        ("id", "createdAt", "updatedAt", "archived", "type"),
    ),
    "CollectionResponsePublicOwnerForwardPaging": obj(
        {"results": array(ref("PublicOwner")), "paging": ref("ForwardPaging")}, ("results",)
    ),
}

_DELIVERY_IDENTIFIER = obj({"type": STRING, "value": STRING}, ("type", "value"))

CONVERSATIONS = {
    "PublicInbox": obj(
        {
            "id": ID,
            "name": STRING,
            "type": {"type": "string", "enum": ["INBOX", "HELP_DESK"]},
            "createdAt": DATE_TIME,
            "updatedAt": DATE_TIME,
            "archived": BOOLEAN,
            "archivedAt": NULLABLE_DATE_TIME,
        },
        ("id", "name", "type", "createdAt", "updatedAt", "archived"),
    ),
    "CollectionResponseWithTotalPublicInboxForwardPaging": obj(
        {"total": INTEGER, "results": array(ref("PublicInbox")), "paging": ref("ForwardPaging")},
        ("total", "results"),
    ),
    "PublicChannel": obj({"id": ID, "name": STRING}, ("id", "name")),
    "CollectionResponseWithTotalPublicChannelForwardPaging": obj(
        {
            "total": INTEGER,
            "results": array(ref("PublicChannel")),
            "paging": ref("ForwardPaging"),
        },
        ("total", "results"),
    ),
    "PublicDeliveryIdentifier": _DELIVERY_IDENTIFIER,
    "PublicChannelAccount": obj(
        {
            "id": ID,
            "channelId": ID,
            "inboxId": {"type": "string", "nullable": True},
            "name": STRING,
            "active": BOOLEAN,
            "authorized": BOOLEAN,
            "archived": BOOLEAN,
            "createdAt": DATE_TIME,
            "archivedAt": NULLABLE_DATE_TIME,
            "deliveryIdentifier": {"allOf": [_DELIVERY_IDENTIFIER], "nullable": True},
        },
        ("id", "channelId", "name", "active", "authorized", "archived", "createdAt"),
    ),
    "CollectionResponseWithTotalPublicChannelAccountForwardPaging": obj(
        {
            "total": INTEGER,
            "results": array(ref("PublicChannelAccount")),
            "paging": ref("ForwardPaging"),
        },
        ("total", "results"),
    ),
    "PublicThread": obj(
        {
            "id": ID,
            "createdAt": DATE_TIME,
            "status": {"type": "string", "enum": ["OPEN", "CLOSED"]},
            "closedAt": NULLABLE_DATE_TIME,
            "inboxId": ID,
            "associatedContactId": {"type": "string", "nullable": True},
            "originalChannelId": {"type": "string", "nullable": True},
            "originalChannelAccountId": {"type": "string", "nullable": True},
            "spam": BOOLEAN,
            "archived": BOOLEAN,
            "assignedTo": NULLABLE_STRING,
            "latestMessageTimestamp": NULLABLE_DATE_TIME,
            "latestMessageSentTimestamp": NULLABLE_DATE_TIME,
            "latestMessageReceivedTimestamp": NULLABLE_DATE_TIME,
            "threadAssociations": obj({"associatedTicketId": NULLABLE_STRING}),
        },
        # Only `id` is sure: `?property=` narrows a thread to the fields asked for.
        ("id",),
    ),
    "CollectionResponsePublicThreadForwardPaging": obj(
        {"results": array(ref("PublicThread")), "paging": ref("ForwardPaging")}, ("results",)
    ),
    "PublicThreadPatch": obj(
        {"status": {"type": "string", "enum": ["OPEN", "CLOSED"]}, "archived": BOOLEAN}
    ),
    "PublicAssigneeInput": obj({"actorId": {"type": "string", "example": "A-1"}}, ("actorId",)),
    "PublicSender": obj(
        {
            "actorId": STRING,
            "name": NULLABLE_STRING,
            "senderField": NULLABLE_STRING,
            "deliveryIdentifier": {"allOf": [_DELIVERY_IDENTIFIER], "nullable": True},
        },
        ("actorId",),
    ),
    "PublicRecipient": obj(
        {
            "actorId": NULLABLE_STRING,
            "name": NULLABLE_STRING,
            "recipientField": NULLABLE_STRING,
            "deliveryIdentifier": {"allOf": [_DELIVERY_IDENTIFIER], "nullable": True},
        }
    ),
    "PublicMessage": obj(
        {
            "id": STRING,
            "type": {
                "type": "string",
                "enum": [
                    "MESSAGE",
                    "COMMENT",
                    "WELCOME_MESSAGE",
                    "ASSIGNMENT",
                    "THREAD_STATUS_CHANGE",
                    "THREAD_INBOX_CHANGE",
                ],
            },
            "conversationsThreadId": ID,
            "createdAt": DATE_TIME,
            "updatedAt": NULLABLE_DATE_TIME,
            "createdBy": STRING,
            "client": obj(
                {
                    "clientType": {
                        "type": "string",
                        "enum": ["HUBSPOT", "SYSTEM", "INTEGRATION", "UNKNOWN"],
                    },
                    "integrationAppId": {"type": "integer", "nullable": True},
                },
                ("clientType",),
            ),
            "senders": array(ref("PublicSender")),
            "recipients": array(ref("PublicRecipient")),
            "archived": BOOLEAN,
            "text": STRING,
            "richText": NULLABLE_STRING,
            "subject": NULLABLE_STRING,
            "channelId": NULLABLE_STRING,
            "channelAccountId": NULLABLE_STRING,
            "direction": {"type": "string", "enum": ["INCOMING", "OUTGOING"]},
            "truncationStatus": STRING,
            "status": {"type": "object", "nullable": True},
            "inReplyToId": NULLABLE_STRING,
            "attachments": array({"type": "object"}),
            "newStatus": STRING,
            "assignedFrom": NULLABLE_STRING,
            "assignedTo": NULLABLE_STRING,
            "fromInboxId": STRING,
            "toInboxId": STRING,
        },
        ("id",),  # `?property=` narrows a message to the fields asked for
    ),
    "CollectionResponsePublicMessageForwardPaging": obj(
        {"results": array(ref("PublicMessage")), "paging": ref("ForwardPaging")}, ("results",)
    ),
    "PublicRecipientInput": obj(
        {
            "actorId": STRING,
            "name": STRING,
            "recipientField": {"type": "string", "enum": ["TO", "CC", "BCC"]},
            "deliveryIdentifiers": array(_DELIVERY_IDENTIFIER),
        },
        ("deliveryIdentifiers",),
    ),
    "PublicCommentInput": obj(
        {
            "type": {"type": "string", "enum": ["COMMENT"]},
            "text": {"type": "string", "minLength": 1},
            "richText": STRING,
            "attachments": array({"type": "object"}),
        },
        ("type", "text"),
    ),
    "PublicMessageInput": obj(
        {
            "type": {"type": "string", "enum": ["MESSAGE"]},
            "text": {"type": "string", "minLength": 1},
            "richText": STRING,
            "subject": STRING,
            "senderActorId": STRING,
            "channelId": STRING,
            "channelAccountId": STRING,
            "recipients": array(ref("PublicRecipientInput")),
            "attachments": array({"type": "object"}),
        },
        ("type", "text", "senderActorId", "channelId", "channelAccountId", "recipients"),
    ),
    "PublicOriginalContent": obj({"text": STRING, "richText": NULLABLE_STRING}, ("text",)),
    "PublicActor": obj(
        {
            "id": STRING,
            "type": {
                "type": "string",
                "enum": ["AGENT", "VISITOR", "EMAIL", "INTEGRATOR", "SYSTEM", "BOT", "LLM"],
            },
            "name": NULLABLE_STRING,
            "email": NULLABLE_STRING,
            "avatar": NULLABLE_STRING,
        },
        ("id", "type"),
    ),
    "BatchInputString": obj({"inputs": array(STRING, maxItems=100)}, ("inputs",)),
    "BatchResponsePublicActor": _batch_response(ref("PublicActor"), with_errors=True),
}


def components() -> dict[str, Schema]:
    schemas: dict[str, Schema] = {}
    for group in (
        PAGING,
        ERRORS,
        OBJECTS,
        ASSOCIATIONS,
        PIPELINES,
        PROPERTIES,
        OWNERS,
        CONVERSATIONS,
    ):
        schemas.update(group)
    return schemas
