"""Settings → Import."""

from django.urls import path

from svardesk.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.import_home, name="home"),
    path("<int:pk>/", views.import_job, name="job"),
    path("<int:pk>/check/", views.import_check, name="check"),
    path("<int:pk>/progress/", views.import_progress, name="progress"),
    path("<int:pk>/errors.csv", views.import_errors, name="errors"),
]
