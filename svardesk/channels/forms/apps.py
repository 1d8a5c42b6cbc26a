from django.apps import AppConfig


class FormsChannelConfig(AppConfig):
    # "channels" is Django Channels' label; ours says which channel it is.
    name = "svardesk.channels.forms"
    label = "forms_channel"
    verbose_name = "Forms channel"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from svardesk.channels.forms.adapter import FormAdapter
        from svardesk.channels.forms.models import Form, FormField
        from svardesk.conversations.models import Channel
        from svardesk.conversations.registry import register
        from svardesk.core.local_cache import clear_local_cache

        register(FormAdapter())
        # Submissions read the form and its fields from core.local_cache (a few seconds).
        for signal in (post_save, post_delete):
            for model in (Form, FormField, Channel):
                signal.connect(clear_local_cache, sender=model, weak=False)
