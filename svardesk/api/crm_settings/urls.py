"""Pipelines, properties and owners: the settings the workspace edits, in HubSpot's shapes."""

from django.urls import URLPattern, URLResolver, path

from svardesk.api.crm_settings import owners, pipelines, properties

_PIPELINES = "crm/v3/pipelines/<str:object_type>"
_PROPERTIES = "crm/v3/properties/<str:object_type>"

urlpatterns: list[URLPattern | URLResolver] = [
    path("crm/v3/owners", owners.owner_list),
    path("crm/v3/owners/", owners.owner_list, name="api-owners"),
    path("crm/v3/owners/<str:owner_id>", owners.owner_detail, name="api-owner"),
    path(_PIPELINES, pipelines.pipeline_list, name="api-pipelines"),
    path(_PIPELINES + "/<str:pipeline_id>", pipelines.pipeline_detail),
    path(_PIPELINES + "/<str:pipeline_id>/stages", pipelines.stage_list),
    path(_PIPELINES + "/<str:pipeline_id>/stages/<str:stage_id>", pipelines.stage_detail),
    path(_PROPERTIES, properties.property_list, name="api-properties"),
    path(_PROPERTIES + "/batch/read", properties.batch_read),
    path(_PROPERTIES + "/batch/create", properties.batch_create),
    path(_PROPERTIES + "/batch/archive", properties.batch_archive),
    path(_PROPERTIES + "/groups", properties.group_list),
    path(_PROPERTIES + "/groups/<str:group_name_raw>", properties.group_detail),
    path(_PROPERTIES + "/<str:property_name>", properties.property_detail),
]
