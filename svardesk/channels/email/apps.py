from django.apps import AppConfig


class EmailChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"
