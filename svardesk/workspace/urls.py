from django.urls import path

from svardesk.workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
]
