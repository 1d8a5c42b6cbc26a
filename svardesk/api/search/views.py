"""`POST /crm/v3/objects/{objectType}/search` (hubspot-api.md §3.4): tickets, contacts,
companies and deals (or `0-5`, `0-1`, `0-2`, `0-3`) the token's user may see, filtered by
the workspace's filter engine, one page at a numeric offset."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from svardesk.api import scopes
from svardesk.api.http import api_endpoint, json_response
from svardesk.api.objects.serialize import object_type_from_path, serialize_objects
from svardesk.api.search.compiler import run_search
from svardesk.api.search.request import parse_search_request


@api_endpoint(methods=("POST",), search=True)
def search(request: HttpRequest, object_type: str) -> HttpResponse:
    api_type = object_type_from_path(object_type)
    scopes.require(request.api_token.scopes, api_type, write=False)  # type: ignore[attr-defined]
    wanted = parse_search_request(request.body)
    page = run_search(api_type, wanted, user=request.user)  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "total": page.total,
        "results": serialize_objects(
            api_type,
            page.records,
            properties=list(wanted.properties) if wanted.properties else None,
            user=request.user,
        ),
    }
    if page.next_after is not None:
        body["paging"] = {"next": {"after": str(page.next_after)}}
    return json_response(body)
