"""`GET /api/openapi.json`: public, like HubSpot's published specs; it holds no data."""

from __future__ import annotations

import json
from functools import lru_cache

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from svardesk.api.http import JSON_CONTENT_TYPE
from svardesk.api.openapi.document import build_document


@lru_cache(maxsize=8)
def _document_bytes(server_url: str) -> bytes:
    return json.dumps(build_document(server_url), ensure_ascii=False, indent=1).encode()


@require_GET
def openapi_document(request: HttpRequest) -> HttpResponse:
    # `servers` names the host the client reached, so tools pointed at this URL call it.
    server_url = request.build_absolute_uri("/").rstrip("/")
    response = HttpResponse(_document_bytes(server_url), content_type=JSON_CONTENT_TYPE)
    response["Cache-Control"] = "public, max-age=300"
    return response
