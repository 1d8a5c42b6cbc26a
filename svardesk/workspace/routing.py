from django.urls import path

from svardesk.workspace.consumers import WorkspaceConsumer

websocket_urlpatterns = [path("ws/workspace/", WorkspaceConsumer.as_asgi())]
