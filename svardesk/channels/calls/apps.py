from django.apps import AppConfig


class CallsChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.calls"
    label = "calls_channel"
    verbose_name = "Calls channel"

    def ready(self) -> None:
        from svardesk.channels.calls.adapter import CallsAdapter
        from svardesk.conversations.registry import register

        register(CallsAdapter())
