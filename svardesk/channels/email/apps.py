from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class EmailChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.email"
    label = "email_channel"
    verbose_name = "Email channel"

    def ready(self) -> None:
        from svardesk.channels.email.adapter import EmailAdapter
        from svardesk.channels.email.models import BlockedSender, EmailChannel
        from svardesk.conversations.models import Channel, Inbox
        from svardesk.conversations.registry import register
        from svardesk.core.local_cache import clear_local_cache

        # Replies on email conversations are composed and sent through this adapter.
        register(EmailAdapter())

        # Ingest keeps channels and the blocked senders for a few seconds (core.local_cache).
        for signal in (post_save, post_delete):
            for model in (BlockedSender, EmailChannel, Channel, Inbox):
                signal.connect(clear_local_cache, sender=model, weak=False)
