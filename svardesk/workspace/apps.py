from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "svardesk.workspace"
    label = "workspace"

    def ready(self) -> None:
        from svardesk.accounts.signals import access_changed
        from svardesk.tickets.signals import ticket_changed
        from svardesk.workspace.live import broadcast_access_changed, broadcast_ticket_changed

        ticket_changed.connect(broadcast_ticket_changed, dispatch_uid="workspace-live")
        access_changed.connect(broadcast_access_changed, dispatch_uid="workspace-live-access")
