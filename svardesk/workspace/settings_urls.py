"""The settings area (super admins): users, teams, pipelines, properties, the create form."""

from django.urls import path

from svardesk.workspace import settings_views

app_name = "settings"

urlpatterns = [
    path("", settings_views.settings_home, name="home"),
]
