"""The email channel's pages under /settings/channels/: connect and edit an address, Quarantine,
Conversation rules. `workspace/channel_settings_urls.py` puts them in the `channel_settings`
namespace beside the channel list (composed in the workspace from the registry)."""

from django.urls import path

from svardesk.channels.email import views

app_name = "channel_settings"

urlpatterns = [
    path("connect/email/", views.email_connect, name="email_connect"),
    path("email/<int:channel_id>/", views.email_edit, name="email_edit"),
    path("email/<int:channel_id>/disconnect/", views.email_disconnect, name="email_disconnect"),
    path("email/<int:channel_id>/reconnect/", views.email_reconnect, name="email_reconnect"),
    path("email/<int:channel_id>/token/", views.email_rotate_token, name="email_rotate_token"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("quarantine/<int:pk>/reprocess/", views.quarantine_reprocess, name="quarantine_reprocess"),
    path("quarantine/<int:pk>/raw/", views.quarantine_download, name="quarantine_download"),
    path("conversation-rules/", views.conversation_rules, name="conversation_rules"),
]
