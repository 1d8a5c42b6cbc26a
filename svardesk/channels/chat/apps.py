from django.apps import AppConfig


class ChatChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.chat"
    label = "chat_channel"
    verbose_name = "Chat channel"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from svardesk.channels.chat.adapter import ChatAdapter
        from svardesk.channels.chat.models import ChatChannel
        from svardesk.conversations.models import Channel
        from svardesk.conversations.registry import register
        from svardesk.core.local_cache import clear_local_cache

        register(ChatAdapter())
        # The widget's config and handshake read the channel through core.local_cache.
        for signal in (post_save, post_delete):
            for model in (ChatChannel, Channel):
                signal.connect(clear_local_cache, sender=model, weak=False)
