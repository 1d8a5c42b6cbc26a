"""/settings/channels/form/…: Connect a channel → Form, and the form builder."""

from django.urls import path

from svardesk.channels.forms import settings_views as views

app_name = "forms_channel_settings"

urlpatterns = [
    path("new/", views.connect, name="connect"),
    path("<int:form_id>/", views.edit, name="edit"),
    path("<int:form_id>/submissions/", views.submissions, name="submissions"),
    path("<int:form_id>/disconnect/", views.disconnect, name="disconnect"),
    path("<int:form_id>/reconnect/", views.reconnect, name="reconnect"),
]
