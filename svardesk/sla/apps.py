from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class SlaConfig(AppConfig):
    name = "svardesk.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from svardesk.conversations.signals import message_exchanged
        from svardesk.sla import merging, properties, receivers
        from svardesk.sla.models import PropertyGoal, Schedule, SlaRule, SlaSettings
        from svardesk.sla.policy import forget_config
        from svardesk.tickets.signals import (
            ticket_updated,
            tickets_created,
            tickets_merging,
            tickets_moved,
        )

        tickets_created.connect(receivers.tickets_created, dispatch_uid="sla-created")
        ticket_updated.connect(receivers.ticket_updated, dispatch_uid="sla-updated")
        tickets_moved.connect(receivers.tickets_moved, dispatch_uid="sla-moved")
        message_exchanged.connect(receivers.message_exchanged, dispatch_uid="sla-message")
        tickets_merging.connect(merging.tickets_merging, dispatch_uid="sla-merging")
        # The timers read the SLA configuration from core.local_cache (only its own entry is
        # forgotten: clearing everything would cost every page its cached rows).
        for signal in (post_save, post_delete):
            for model in (SlaSettings, Schedule, PropertyGoal, SlaRule):
                signal.connect(forget_config, sender=model, weak=False)
        m2m_changed.connect(forget_config, sender=SlaSettings.pausing_stages.through, weak=False)
        properties.register()
