from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from svardesk.core.decorators import workspace_required


@workspace_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("ticket_views:view", key="unassigned")
