"""/forms/…: the public form page and the embed script."""

from django.urls import path

from svardesk.channels.forms import views

app_name = "forms_channel"

urlpatterns = [
    path("<str:key>/", views.form_page, name="page"),
    path("<str:key>/embed.js", views.embed_js, name="embed"),
]
