"""Threads: list, read, change status (the ticket's open/closed state), archive and restore,
and the assignee (the ticket's owner). See the package docstring for what a status means."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from svardesk.accounts.models import User
from svardesk.api.conversations import shapes
from svardesk.api.conversations.common import (
    conversations_endpoint,
    object_id,
    query_id,
    select_fields,
)
from svardesk.api.conversations.paging import (
    id_cursor,
    page,
    parse_id_cursor,
    parse_time_cursor,
    time_cursor,
)
from svardesk.api.errors import ApiError, not_found, validation_error
from svardesk.api.http import (
    json_object,
    json_response,
    list_param,
    no_content,
    parse_bool,
    parse_limit,
    read_json,
)
from svardesk.conversations.models import Conversation
from svardesk.conversations.queries import (
    access_conversation,
    list_conversations,
    users_by_ids,
    with_latest_message_times,
)
from svardesk.conversations.services import archive_conversation, restore_conversation
from svardesk.core.parsing import parse_ascii_int, parse_aware_datetime
from svardesk.tickets.exceptions import TicketValidationError
from svardesk.tickets.merge import resolve_ticket_id
from svardesk.tickets.queries import access_ticket, list_stages_cached
from svardesk.tickets.services import move_to_stage, update_ticket

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
STATUSES = ("OPEN", "CLOSED")
SORTS = ("id", "-id", "latestMessageTimestamp", "-latestMessageTimestamp")


def _timestamp(raw: str, name: str) -> dt.datetime:
    """ISO-8601 (with an offset, or `Z`) or epoch milliseconds."""
    millis = parse_ascii_int(raw, maximum=253_402_300_799_999)
    if millis is not None:
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=millis)
    moment = parse_aware_datetime(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    if moment is None:
        raise validation_error(f"Invalid {name}: {raw!r}")
    return moment


def _with_ticket(request: HttpRequest) -> bool:
    wanted = list_param(request, "association")
    unknown = [a for a in wanted if a != "TICKET"]
    if unknown:
        raise validation_error(f"Invalid association: {unknown[0]!r}; only TICKET is supported.")
    return bool(wanted)


def _shape(conversation: Conversation, request: HttpRequest, with_ticket: bool) -> dict[str, Any]:
    data = shapes.thread_shape(conversation, with_ticket=with_ticket)
    return select_fields(data, list_param(request, "property"))


def _reread(conversation_id: int, user: User, *, archived: bool | None) -> Conversation:
    """The thread as the actor may read it (`archived` as `access_conversation` takes it),
    with its latest sent and received times."""
    plain = access_conversation(conversation_id, actor=user, archived=archived)
    rows = list_conversations(user, archived=plain.archived_at is not None)
    found = with_latest_message_times(rows).filter(pk=plain.pk).first()
    if found is None:
        raise not_found()
    return found


# --- List --------------------------------------------------------------------------------------


def _ordered_page(
    rows: QuerySet[Conversation], sort: str, after: str | None, limit: int
) -> tuple[list[Conversation], str | None]:
    descending = sort.startswith("-")
    if sort.lstrip("-") == "id":
        position = parse_id_cursor(after)
        rows = rows.order_by("-pk" if descending else "pk")
        if position is not None:
            rows = rows.filter(pk__lt=position) if descending else rows.filter(pk__gt=position)
        found = list(rows[: limit + 1])
        more = len(found) > limit
        found = found[:limit]
        return found, (id_cursor(found[-1].pk) if more else None)
    cursor = parse_time_cursor(after)
    if descending:
        rows = rows.order_by("-last_message_at", "-pk")
    else:
        rows = rows.order_by("last_message_at", "pk")
    if cursor is not None:
        moment, pk = cursor
        if moment is None:
            raise validation_error(f"Invalid after: {after!r}")
        if descending:
            rows = rows.filter(Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk))
        else:
            rows = rows.filter(Q(last_message_at__gt=moment) | Q(last_message_at=moment, pk__gt=pk))
    found = list(rows[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    last = found[-1] if found else None
    return found, (time_cursor(last.last_message_at, last.pk) if more and last else None)


def _list(request: HttpRequest) -> HttpResponse:
    query = request.GET
    limit = parse_limit(query.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    archived = parse_bool(query.get("archived"), name="archived")
    inbox_values = list_param(request, "inboxId")
    if len(inbox_values) > 1:
        raise validation_error("inboxId takes a single value.")
    inbox_id = query_id(inbox_values[0], "inboxId") if inbox_values else None
    status = query.get("threadStatus") or None
    if status is not None and status not in STATUSES:
        raise validation_error(f"Invalid threadStatus: {status!r}; use OPEN or CLOSED.")
    contact_raw = query.get("associatedContactId") or None
    contact_id = query_id(contact_raw, "associatedContactId") if contact_raw else None
    if contact_id is not None and status is None:
        raise validation_error("associatedContactId requires threadStatus.")
    if contact_id is not None and inbox_id is not None:
        raise validation_error("associatedContactId cannot be combined with inboxId.")
    ticket_raw = query.get("associatedTicketId") or None
    ticket_id = query_id(ticket_raw, "associatedTicketId") if ticket_raw else None
    if ticket_id is not None:
        # A merged ticket's id means the ticket it was merged into.
        ticket_id = resolve_ticket_id(ticket_id) or ticket_id
    sort = query.get("sort") or "id"
    if sort not in SORTS:
        raise validation_error(f"Invalid sort: {sort!r}; use id or latestMessageTimestamp.")
    if sort.startswith("-") and contact_id is None:
        raise validation_error("A descending sort requires associatedContactId.")
    after_raw = query.get("latestMessageTimestampAfter") or None
    after_moment = _timestamp(after_raw, "latestMessageTimestampAfter") if after_raw else None
    if sort.lstrip("-") == "latestMessageTimestamp" and after_moment is None:
        raise validation_error(
            "Sorting by latestMessageTimestamp requires latestMessageTimestampAfter."
        )
    with_ticket = _with_ticket(request)

    rows = list_conversations(
        request.user,  # type: ignore[arg-type]
        archived=archived,
        inbox_id=inbox_id,
        is_open=None if status is None else status == "OPEN",
        contact_id=contact_id,
        ticket_id=ticket_id,
        last_message_after=after_moment,
    )
    found, next_after = _ordered_page(rows, sort, query.get("after"), limit)
    # The latest sent / received times are read for this page's rows only.
    order = {c.pk: i for i, c in enumerate(found)}
    annotated = sorted(
        with_latest_message_times(
            list_conversations(request.user, archived=archived)  # type: ignore[arg-type]
        ).filter(pk__in=list(order)),
        key=lambda c: order[c.pk],
    )
    return json_response(page([_shape(c, request, with_ticket) for c in annotated], next_after))


@conversations_endpoint()
def threads(request: HttpRequest) -> HttpResponse:
    return _list(request)


# --- One thread --------------------------------------------------------------------------------


def _move(conversation: Conversation, status: str, user: User) -> None:
    """CLOSED: the ticket to its pipeline's first closed stage; OPEN: its first open one."""
    if conversation.ticket_id is None:
        raise validation_error(
            "This thread has no ticket; a thread's status is its ticket's, so it cannot change."
        )
    ticket = access_ticket(conversation.ticket_id, actor=user)
    if ticket.is_open == (status == "OPEN"):
        return
    closing = status == "CLOSED"
    stage = next(
        (s for s in list_stages_cached(ticket.pipeline_id) if s.is_closed == closing), None
    )
    if stage is None:
        kind = "closed" if closing else "open"
        raise validation_error(f"The ticket's pipeline has no {kind} stage.")
    move_to_stage([ticket.pk], stage, actor=user)


def _patch(request: HttpRequest, pk: int, archived_param: bool) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    body = json_object(read_json(request))
    unknown = sorted(set(body) - {"status", "archived"})
    if unknown or not body:
        raise validation_error(
            "Only a thread's status and archived state can be updated.",
            context={"properties": unknown} if unknown else None,
        )
    status = body.get("status")
    if "status" in body and status not in STATUSES:
        raise validation_error(f"Invalid status: {status!r}; use OPEN or CLOSED.")
    if "archived" in body and body["archived"] is not False:
        raise validation_error('Only {"archived": false} (restore) is supported; DELETE archives.')
    conversation = access_conversation(pk, actor=user, archived=None if archived_param else False)
    if "archived" in body and conversation.archived_at is not None:
        restore_conversation(conversation, actor=user)
    if status is not None:
        _move(conversation, status, user)
    return json_response(_shape(_reread(pk, user, archived=None), request, _with_ticket(request)))


@conversations_endpoint(methods=("GET", "PATCH", "DELETE"))
def thread(request: HttpRequest, thread_id: str) -> HttpResponse:
    pk = object_id(thread_id)
    user: User = request.user  # type: ignore[assignment]
    archived = parse_bool(request.GET.get("archived"), name="archived")
    if request.method == "PATCH":
        return _patch(request, pk, archived)
    if request.method == "DELETE":
        conversation = access_conversation(pk, actor=user, archived=None)
        archive_conversation(conversation, actor=user)
        return no_content()
    found = _reread(pk, user, archived=None if archived else False)
    return json_response(_shape(found, request, _with_ticket(request)))


# --- Assignee ----------------------------------------------------------------------------------


def _assignee_id(body: Any) -> int:
    actor_id = json_object(body).get("actorId")
    if not isinstance(actor_id, str) or not actor_id.startswith("A-"):
        raise validation_error('actorId must be an agent\'s actor id, "A-<userId>".')
    user_id = query_id(actor_id[2:], "actorId")
    if user_id not in users_by_ids([user_id]):
        raise validation_error(f"No agent {actor_id}.", context={"actorId": [actor_id]})
    return user_id


@conversations_endpoint(methods=("POST", "PUT", "DELETE"))
def thread_assignee(request: HttpRequest, thread_id: str) -> HttpResponse:
    """The ticket's owner: POST (HubSpot's guide) and PUT (its newer spec) assign, DELETE
    unassigns."""
    pk = object_id(thread_id)
    user: User = request.user  # type: ignore[assignment]
    owner = None if request.method == "DELETE" else _assignee_id(read_json(request))
    conversation = access_conversation(pk, actor=user)
    if conversation.ticket_id is None:
        raise validation_error("This thread has no ticket; its assignee is its ticket's owner.")
    ticket = access_ticket(conversation.ticket_id, actor=user)
    try:
        update_ticket(ticket.pk, actor=user, changes={"owner": owner})
    except TicketValidationError as exc:
        raise ApiError(
            400,
            "VALIDATION_ERROR",
            "; ".join(exc.errors.values()),
            context={"actorId": [shapes.agent_actor(owner)] if owner else []},
        ) from None
    if request.method == "DELETE":
        return no_content()
    return json_response(_shape(_reread(pk, user, archived=False), request, False))
