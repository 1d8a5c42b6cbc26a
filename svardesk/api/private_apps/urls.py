from django.urls import path

from svardesk.api.private_apps import views

app_name = "private_apps"
urlpatterns = [
    path("", views.app_list, name="list"),
    path("new/", views.app_create, name="create"),
    path("<int:pk>/revoke/", views.app_revoke, name="revoke"),
]
