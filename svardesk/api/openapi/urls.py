from django.urls import URLPattern, URLResolver, path

from svardesk.api.openapi.views import openapi_document

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/openapi.json", openapi_document, name="api-openapi"),
]
