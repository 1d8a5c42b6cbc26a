"""Associations: v4 per record and in batches, their labels, and the legacy v3 batch."""

from django.urls import URLPattern, URLResolver, path

from svardesk.api.associations import views

_OBJECT = "crm/v4/objects/<str:object_type>/<str:object_id>/associations/"
_BATCH_V4 = "crm/v4/associations/<str:from_object_type>/<str:to_object_type>/"
_BATCH_V3 = "crm/v3/associations/<str:from_object_type>/<str:to_object_type>/batch/"

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        _OBJECT + "default/<str:to_object_type>/<str:to_object_id>",
        views.pair_default,
        name="api-association-default",
    ),
    path(_OBJECT + "<str:to_object_type>", views.list_associations, name="api-associations"),
    path(
        _OBJECT + "<str:to_object_type>/<str:to_object_id>",
        views.pair,
        name="api-association-pair",
    ),
    path(_BATCH_V4 + "batch/create", views.batch_create),
    path(_BATCH_V4 + "batch/associate/default", views.batch_default),
    path(_BATCH_V4 + "batch/read", views.batch_read),
    path(_BATCH_V4 + "batch/archive", views.batch_archive),
    path(_BATCH_V4 + "batch/labels/archive", views.batch_archive_labels),
    path(_BATCH_V4 + "labels", views.labels),
    path(_BATCH_V3 + "create", views.v3_batch_create),
    path(_BATCH_V3 + "read", views.v3_batch_read),
    path(_BATCH_V3 + "archive", views.v3_batch_archive),
]
