"""/demo/graph/…: a stand-in for Facebook's Graph API, so replies on the demo's Messenger page
can be tried without a Facebook app. `scripts/run.sh` points `SVARDESK_GRAPH_API_URL` here
(unless it is set); the Messenger channel then calls it exactly as it calls Graph: the Send
API (`POST /{version}/me/messages`) answers as Graph does, and a person's profile
(`GET /{version}/{psid}`) reads as a demo name. It keeps nothing and is served only once
`svardesk demo` has loaded (the DemoSite row); otherwise 404."""

from __future__ import annotations

import json
import uuid

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from svardesk.demo.models import DemoSite

_DEMO_NAMES = (("Elin", "Forsberg"), ("Noah", "Lindqvist"), ("Amira", "Haddad"), ("Erik", "Sund"))


def _require_demo() -> None:
    if not DemoSite.objects.exists():
        raise Http404("The demo has not been loaded")


def _graph_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse(
        {"error": {"message": message, "type": "OAuthException", "code": 100}}, status=status
    )


@csrf_exempt  # Graph's own API: called by the server with a page token, never by a browser
@require_POST
def send_message(request: HttpRequest, version: str) -> HttpResponse:
    _require_demo()
    if not request.GET.get("access_token"):
        return _graph_error("An access token is required to request this resource.")
    if request.content_type == "multipart/form-data":
        recipient = json.loads(request.POST.get("recipient") or "{}")
    else:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return _graph_error("Invalid JSON")
        recipient = payload.get("recipient") or {}
        if "message" not in payload:
            return _graph_error("The parameter message is required")
    if not isinstance(recipient, dict) or not recipient.get("id"):
        return _graph_error("The parameter recipient is required")
    return JsonResponse(
        {"recipient_id": str(recipient["id"]), "message_id": f"m_demo_{uuid.uuid4().hex}"}
    )


@require_GET
def profile(request: HttpRequest, version: str, psid: str) -> HttpResponse:
    _require_demo()
    if not request.GET.get("access_token"):
        return _graph_error("An access token is required to request this resource.")
    first, last = _DEMO_NAMES[sum(map(ord, psid)) % len(_DEMO_NAMES)]
    return JsonResponse({"first_name": first, "last_name": last, "id": psid})
