"""/settings/channels/messenger/…: Connect a channel → this channel, and its settings."""

from django.urls import URLPattern

app_name = "messenger_channel_settings"

urlpatterns: list[URLPattern] = []
