from typing import Any

from django.apps import AppConfig


class TicketViewsConfig(AppConfig):
    name = "svardesk.ticket_views"
    label = "ticket_views"

    def ready(self) -> None:
        from svardesk.tickets.signals import ticket_changed

        ticket_changed.connect(_forget_actor_counts, dispatch_uid="ticket-views-counts")


def _forget_actor_counts(
    sender: Any, ticket_id: int, actor_id: int | None = None, **kwargs: Any
) -> None:
    from svardesk.ticket_views.queries import forget_counts_of

    if actor_id is not None:
        forget_counts_of(actor_id)
