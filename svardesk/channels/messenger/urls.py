"""/channels/messenger/…: the provider's webhooks (public, verified by signature)."""

from django.urls import URLPattern

app_name = "messenger_channel"

urlpatterns: list[URLPattern] = []
