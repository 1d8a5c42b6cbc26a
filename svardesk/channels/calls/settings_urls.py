"""/settings/channels/calls/…: Connect a channel → this channel, and its settings."""

from django.urls import URLPattern

app_name = "calls_channel_settings"

urlpatterns: list[URLPattern] = []
