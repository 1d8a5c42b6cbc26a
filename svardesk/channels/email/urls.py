"""/channels/email/…: the raw-MIME endpoint for forwarding services."""

from django.urls import path

from svardesk.channels.email import views

app_name = "email_channel"

urlpatterns = [
    path("<int:channel_id>/raw", views.receive_raw, name="raw"),
]
