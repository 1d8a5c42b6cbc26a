"""/channels/calls/…: the provider's webhooks (public, verified by signature)."""

from django.urls import path

from svardesk.channels.calls import views

app_name = "calls_channel"

urlpatterns = [
    path("<str:key>/voice/", views.voice, name="voice"),
    path("<str:key>/status/", views.status, name="status"),
    path("<str:key>/recording/", views.recording, name="recording"),
    path("<str:key>/transcription/", views.transcription, name="transcription"),
]
