"""/channels/calls/…: the provider's webhooks (public, verified by signature)."""

from django.urls import URLPattern

app_name = "calls_channel"

urlpatterns: list[URLPattern] = []
