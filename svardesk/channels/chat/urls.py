"""/chat/…: the widget and its config (public), closing a chat (agents)."""

from django.urls import path

from svardesk.channels.chat import views

app_name = "chat_channel"

urlpatterns = [
    path("widget.js", views.widget_js, name="widget_js"),
    path("<str:key>/config", views.widget_config, name="config"),
    path("conversations/<int:conversation_id>/close/", views.close_chat, name="close"),
]
