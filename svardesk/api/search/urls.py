from django.urls import URLPattern, URLResolver, path

from svardesk.api.search import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("crm/v3/objects/<str:object_type>/search", views.search, name="api_search"),
]
