"""The pickers' search endpoint (`records:pick`)."""

from django.urls import URLPattern, path

from svardesk.records import picker_views

urlpatterns: list[URLPattern] = [
    path("records/pick/<slug:object_type>/", picker_views.pick, name="pick"),
]
