"""/settings/channels/calls/…: Connect a channel → Calls, and each number's settings."""

from django.urls import path

from svardesk.channels.calls import settings_views as views

app_name = "calls_channel_settings"

urlpatterns = [
    path("new/", views.connect, name="connect"),
    path("<int:channel_id>/", views.edit, name="edit"),
    path("<int:channel_id>/token/", views.replace_token, name="token"),
    path("<int:channel_id>/disconnect/", views.disconnect, name="disconnect"),
]
