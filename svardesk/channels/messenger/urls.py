"""/channels/messenger/…: the provider's webhooks (public, verified by signature)."""

from django.urls import path

from svardesk.channels.messenger import views

app_name = "messenger_channel"

urlpatterns = [
    path("<str:key>/webhook", views.webhook, name="webhook"),
]
