"""CRM objects v3 (`tickets`, `contacts`, `companies`, `deals`, or `0-5`, `0-1`, `0-2`,
`0-3`). The fixed segments (`batch/…`, `gdpr-delete`) come before `{objectId}`."""

from django.urls import URLPattern, URLResolver, path

from svardesk.api.objects import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("crm/v3/objects/<str:object_type>", views.collection),
    path("crm/v3/objects/<str:object_type>/batch/<str:action>", views.batch_action),
    path("crm/v3/objects/<str:object_type>/gdpr-delete", views.gdpr_delete),
    path("crm/v3/objects/<str:object_type>/<str:object_id>", views.item),
]
