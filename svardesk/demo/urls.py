from django.urls import path

from svardesk.demo import views

app_name = "demo"

urlpatterns = [path("website/", views.website, name="website")]
