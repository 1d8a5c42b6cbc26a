from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect
from django.templatetags.static import static

from svardesk.core.decorators import workspace_required


@workspace_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("ticket_views:view", key="unassigned")


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own (pages without a <link rel=icon>, bookmarks):
    point them at the static icon instead of answering 404."""
    return HttpResponsePermanentRedirect(static("workspace/favicon.svg"))
