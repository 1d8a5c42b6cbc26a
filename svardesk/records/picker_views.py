"""The pickers' options: `GET /records/pick/<type>/?q=` answers with the list items the
combobox shows (records/static/records/picker.js)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from svardesk.accounts.queries import request_user
from svardesk.core.decorators import workspace_required
from svardesk.records.pickers import MAX_QUERY, PICKABLE_TYPES, pick_options


@workspace_required
@require_GET
def pick(request: HttpRequest, object_type: str) -> HttpResponse:
    """The options matching `q` among the records the user may see; with `create=1` and some
    text, a last option offers to create a record of that name."""
    if object_type not in PICKABLE_TYPES:
        raise Http404("Nothing to pick of this type")
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    options = pick_options(object_type, query, user=request_user(request))
    may_create = request.GET.get("create") == "1" and object_type != "user" and bool(query)
    return render(
        request,
        "records/picker/_options.html",
        {"options": options, "query": query, "may_create": may_create, "type": object_type},
    )
