"""/settings/channels/messenger/…: Connect a channel → this channel, and its settings."""

from django.urls import path

from svardesk.channels.messenger import views

app_name = "messenger_channel_settings"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("<int:channel_id>/", views.edit, name="edit"),
    path("<int:channel_id>/disconnect/", views.disconnect, name="disconnect"),
]
