"""/settings/channels/…: Settings → Channels and Connect a channel (composed here from the
channel registry) and the email channel's own settings pages, in one namespace
(`channel_settings:`) so every existing reverse keeps working."""

from django.urls import path

from svardesk.channels.email import settings_urls as email_settings_urls
from svardesk.workspace.settings import channels

app_name = "channel_settings"

urlpatterns = [
    path("", channels.channel_list, name="channels"),
    path("connect/", channels.connect_choose, name="connect"),
    path("<int:channel_id>/disconnect/", channels.channel_disconnect, name="disconnect"),
    *email_settings_urls.urlpatterns,
]
