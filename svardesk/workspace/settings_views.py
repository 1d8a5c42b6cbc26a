from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from svardesk.core.decorators import super_admin_required


@super_admin_required
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("settings:users")
