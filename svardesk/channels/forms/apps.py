from django.apps import AppConfig


class FormsChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.forms"
    label = "forms_channel"
    verbose_name = "Forms channel"

    def ready(self) -> None:
        from svardesk.channels.forms.adapter import FormAdapter
        from svardesk.conversations.registry import register

        register(FormAdapter())
