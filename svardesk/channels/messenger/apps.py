from django.apps import AppConfig


class MessengerChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.messenger"
    label = "messenger_channel"
    verbose_name = "Facebook Messenger channel"

    def ready(self) -> None:
        from svardesk.channels.messenger.adapter import MessengerAdapter
        from svardesk.conversations.registry import register

        register(MessengerAdapter())
