"""/settings/channels/chat/…: Connect a channel → Chat, edit, snippet, disconnect."""

from django.urls import path

from svardesk.channels.chat import views

app_name = "chat_settings"

urlpatterns = [
    path("connect/", views.connect, name="connect"),
    path("<int:channel_id>/", views.edit, name="edit"),
    path("<int:channel_id>/snippet/", views.snippet, name="snippet"),
    path("<int:channel_id>/disconnect/", views.disconnect, name="disconnect"),
    path("<int:channel_id>/reconnect/", views.reconnect, name="reconnect"),
]
