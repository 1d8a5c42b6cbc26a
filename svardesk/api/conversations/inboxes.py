"""Inboxes, channels (HubSpot's generic channel ids) and channel accounts (connected
channels). Svardesk archives none of them, so `archived=true` lists nothing."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from svardesk.api.conversations import shapes
from svardesk.api.conversations.common import conversations_endpoint, object_id, query_id
from svardesk.api.conversations.paging import id_cursor, page, parse_id_cursor
from svardesk.api.errors import not_found, validation_error
from svardesk.api.http import json_response, list_param, parse_bool, parse_limit
from svardesk.conversations.queries import get_channel, list_channels, list_inboxes

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _descending(request: HttpRequest) -> bool:
    sort = request.GET.get("sort") or "id"
    if sort not in ("id", "-id"):
        raise validation_error(f"Invalid sort: {sort!r}; use id or -id.")
    return sort == "-id"


def _limit(request: HttpRequest) -> int:
    default = parse_limit(
        request.GET.get("defaultPageLength"),
        default=DEFAULT_LIMIT,
        maximum=MAX_LIMIT,
        name="defaultPageLength",
    )
    return parse_limit(request.GET.get("limit"), default=default, maximum=MAX_LIMIT)


@conversations_endpoint()
def inboxes(request: HttpRequest) -> HttpResponse:
    limit = _limit(request)
    descending = _descending(request)
    after = parse_id_cursor(request.GET.get("after"))
    if parse_bool(request.GET.get("archived"), name="archived"):
        return json_response({"total": 0, "results": []})
    rows = list_inboxes()
    total = rows.count()
    if descending:
        rows = rows.order_by("-pk")
    if after is not None:
        rows = rows.filter(pk__lt=after) if descending else rows.filter(pk__gt=after)
    found = list(rows[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    body = page([shapes.inbox_shape(i) for i in found], id_cursor(found[-1].pk) if more else None)
    return json_response({"total": total, **body})


@conversations_endpoint()
def inbox(request: HttpRequest, inbox_id: str) -> HttpResponse:
    pk = object_id(inbox_id)
    if parse_bool(request.GET.get("archived"), name="archived"):
        raise not_found(context={"id": [inbox_id]})
    found = list_inboxes().filter(pk=pk).first()
    if found is None:
        raise not_found(context={"id": [inbox_id]})
    return json_response(shapes.inbox_shape(found))


@conversations_endpoint()
def channels(request: HttpRequest) -> HttpResponse:
    limit = _limit(request)
    descending = _descending(request)
    after = parse_id_cursor(request.GET.get("after"))
    ids = sorted(shapes.CHANNEL_NAMES, key=int, reverse=descending)
    total = len(ids)
    if after is not None:
        ids = [i for i in ids if (int(i) < after if descending else int(i) > after)]
    more = len(ids) > limit
    ids = ids[:limit]
    body = page([shapes.channel_shape(i) for i in ids], ids[-1] if more else None)
    return json_response({"total": total, **body})


@conversations_endpoint()
def channel(request: HttpRequest, channel_id: str) -> HttpResponse:
    if channel_id not in shapes.CHANNEL_NAMES:
        raise not_found(context={"id": [channel_id]})
    return json_response(shapes.channel_shape(channel_id))


@conversations_endpoint()
def channel_accounts(request: HttpRequest) -> HttpResponse:
    limit = _limit(request)
    descending = _descending(request)
    after = parse_id_cursor(request.GET.get("after"))
    generic_ids = list_param(request, "channelId")
    inbox_ids = [query_id(raw, "inboxId") for raw in list_param(request, "inboxId")]
    if parse_bool(request.GET.get("archived"), name="archived"):
        return json_response({"total": 0, "results": []})
    found = sorted(list_channels(), key=lambda c: c.pk, reverse=descending)
    if generic_ids:
        kinds = {shapes.CHANNEL_KINDS[g] for g in generic_ids if g in shapes.CHANNEL_KINDS}
        found = [c for c in found if c.kind in kinds]
    if inbox_ids:
        found = [c for c in found if c.inbox_id in inbox_ids]
    total = len(found)
    if after is not None:
        found = [c for c in found if (c.pk < after if descending else c.pk > after)]
    more = len(found) > limit
    found = found[:limit]
    body = page(
        [shapes.channel_account_shape(c) for c in found],
        id_cursor(found[-1].pk) if more else None,
    )
    return json_response({"total": total, **body})


@conversations_endpoint()
def channel_account(request: HttpRequest, account_id: str) -> HttpResponse:
    pk = object_id(account_id)
    found = get_channel(pk)
    if found is None or parse_bool(request.GET.get("archived"), name="archived"):
        raise not_found(context={"id": [account_id]})
    return json_response(shapes.channel_account_shape(found))
