"""A thread's messages: list, read, the original content, and posting a COMMENT (an internal
note, through `conversations.services.add_comment`) or a MESSAGE (a reply, through
`conversations.services.send_reply`: the channel's adapter delivers it, as from the
workspace). Messages are never archived, so `archived=true` lists none.

A MESSAGE goes out on the thread's own channel account, from the token's user: its
`senderActorId` must be `A-<that user's id>`. Recipients come from the body's
`deliveryIdentifiers` (HS_EMAIL_ADDRESS) or actor ids (`E-<address>`, `V-<contact id>`),
else the thread's contact. `subject` is the channel's to choose (email keeps its thread's
subject so the customer's mail client threads the reply). File attachments are refused:
there is no files API to take them from."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from svardesk.accounts.models import User
from svardesk.api.conversations import shapes
from svardesk.api.conversations.common import conversations_endpoint, object_id, select_fields
from svardesk.api.conversations.paging import page, parse_time_cursor, time_cursor
from svardesk.api.errors import ApiError, not_found, validation_error
from svardesk.api.http import (
    json_object,
    json_response,
    list_param,
    parse_bool,
    parse_limit,
    read_json,
)
from svardesk.conversations.editor import text_as_html
from svardesk.conversations.models import Conversation, Message
from svardesk.conversations.queries import (
    access_conversation,
    access_conversation_message,
    list_conversation_messages,
    message_ids_by_rfc_id,
)
from svardesk.conversations.services import (
    NoReplyChannelError,
    ReplyValidationError,
    add_comment,
    send_reply,
)
from svardesk.core.addresses import format_address
from svardesk.core.parsing import parse_id
from svardesk.tickets.queries import access_ticket, visible_contacts

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
FIELDS = ("TO", "CC", "BCC")


def _shapes(conversation: Conversation, messages: list[Message], request: HttpRequest) -> list[Any]:
    replied = message_ids_by_rfc_id(conversation, (m.in_reply_to for m in messages))
    fields = list_param(request, "property")
    return [select_fields(shapes.message_shape(m, replied_ids=replied), fields) for m in messages]


def _list(request: HttpRequest, conversation: Conversation) -> HttpResponse:
    limit = parse_limit(request.GET.get("limit"), default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    sort = request.GET.get("sort") or "-createdAt"
    if sort not in ("createdAt", "-createdAt"):
        raise validation_error(f"Invalid sort: {sort!r}; use createdAt or -createdAt.")
    cursor = parse_time_cursor(request.GET.get("after"))
    if parse_bool(request.GET.get("archived"), name="archived"):
        return json_response(page([], None))
    rows = list_conversation_messages(conversation)
    if sort == "-createdAt":
        rows = rows.order_by("-created_at", "-id")
    else:
        rows = rows.order_by("created_at", "id")
    if cursor is not None:
        moment, pk = cursor
        if moment is None:
            raise validation_error("Invalid after.")
        if sort == "-createdAt":
            rows = rows.filter(created_at__lte=moment).exclude(created_at=moment, id__gte=pk)
        else:
            rows = rows.filter(created_at__gte=moment).exclude(created_at=moment, id__lte=pk)
    found = list(rows[: limit + 1])
    more = len(found) > limit
    found = found[:limit]
    after = time_cursor(found[-1].created_at, found[-1].pk) if more else None
    return json_response(page(_shapes(conversation, found, request), after))


# --- Posting -----------------------------------------------------------------------------------


def _text(body: dict[str, Any]) -> tuple[str, str]:
    text = body.get("text")
    rich = body.get("richText")
    if text is not None and not isinstance(text, str):
        raise validation_error("text must be a string.")
    if rich is not None and not isinstance(rich, str):
        raise validation_error("richText must be a string.")
    if not (text or "").strip() and not (rich or "").strip():
        raise validation_error("A message needs text.", context={"text": ["required"]})
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise validation_error("attachments must be a list.")
    if attachments:
        raise validation_error(
            "File attachments are not supported through the API; send a link instead."
        )
    return text or "", rich or ""


def _address_of(recipient: dict[str, Any], user: User) -> str:
    name = recipient.get("name") if isinstance(recipient.get("name"), str) else ""
    identifiers = recipient.get("deliveryIdentifiers") or []
    if not isinstance(identifiers, list):
        raise validation_error("deliveryIdentifiers must be a list.")
    for identifier in identifiers:
        if (
            isinstance(identifier, dict)
            and identifier.get("type") == shapes.EMAIL_ADDRESS
            and isinstance(identifier.get("value"), str)
            and identifier["value"].strip()
        ):
            return format_address(name or "", identifier["value"].strip())
    actor_id = recipient.get("actorId")
    if isinstance(actor_id, str) and actor_id.startswith("E-") and actor_id[2:].strip():
        return format_address(name or "", actor_id[2:].strip())
    if isinstance(actor_id, str) and actor_id.startswith("V-"):
        contact_id = parse_id(actor_id[2:])
        contact = visible_contacts(user).filter(pk=contact_id).first() if contact_id else None
        if contact is not None and contact.email:
            full = f"{contact.first_name} {contact.last_name}".strip()
            return format_address(name or full, contact.email)
    raise validation_error(
        "Each recipient needs an HS_EMAIL_ADDRESS delivery identifier (or an E- or V- actor "
        "id with an address).",
        context={"recipients": [str(actor_id or "")]},
    )


def _recipients(body: dict[str, Any], user: User) -> dict[str, list[str]] | None:
    """{TO/CC/BCC: addresses}, or None when the body names no one (the channel's default:
    the thread's customer)."""
    raw = body.get("recipients")
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise validation_error("recipients must be a list.")
    chosen: dict[str, list[str]] = {f: [] for f in FIELDS}
    for recipient in raw:
        if not isinstance(recipient, dict):
            raise validation_error("Each recipient must be an object.")
        field = recipient.get("recipientField") or "TO"
        if field not in FIELDS:
            raise validation_error(f"Invalid recipientField: {field!r}; use TO, CC or BCC.")
        chosen[field].append(_address_of(recipient, user))
    return chosen


def _default_recipient(conversation: Conversation) -> list[str]:
    contact = conversation.contact or (
        conversation.ticket.contact if conversation.ticket is not None else None
    )
    if contact is None or not contact.email:
        return []
    name = f"{contact.first_name} {contact.last_name}".strip()
    return [format_address(name, contact.email)]


def _check_channel(body: dict[str, Any], conversation: Conversation) -> None:
    channel_id = body.get("channelId")
    account_id = body.get("channelAccountId")
    expected = shapes.channel_id_of(conversation.channel.kind)
    if channel_id is not None and str(channel_id) != expected:
        raise validation_error(
            f"channelId {channel_id} is not this thread's channel ({expected}).",
            context={"channelId": [str(channel_id)]},
        )
    if account_id is not None and str(account_id) != str(conversation.channel_id):
        raise validation_error(
            f"channelAccountId {account_id} is not this thread's channel account "
            f"({conversation.channel_id}).",
            context={"channelAccountId": [str(account_id)]},
        )


def _reply_error(exc: ReplyValidationError) -> ApiError:
    return validation_error(
        "; ".join(exc.errors.values()),
        errors=[{"message": message, "in": field} for field, message in exc.errors.items()],
    )


def _post(request: HttpRequest, conversation: Conversation) -> Message:
    user: User = request.user  # type: ignore[assignment]
    body = json_object(read_json(request))
    kind = body.get("type")
    if kind not in ("COMMENT", "MESSAGE"):
        raise validation_error(f"Invalid type: {kind!r}; use MESSAGE or COMMENT.")
    text, rich = _text(body)
    if conversation.ticket_id is None:
        raise validation_error("This thread has no ticket to reply on or comment on.")
    ticket = access_ticket(conversation.ticket_id, actor=user)
    if kind == "COMMENT":
        try:
            return add_comment(
                ticket, actor=user, html=rich or text_as_html(text), conversation=conversation
            )
        except ReplyValidationError as exc:
            raise _reply_error(exc) from None
    sender = body.get("senderActorId")
    if sender != shapes.agent_actor(user.pk):
        raise validation_error(
            f"senderActorId must be {shapes.agent_actor(user.pk)}: a message is sent as the "
            "token's user.",
            context={"senderActorId": [str(sender)]},
        )
    _check_channel(body, conversation)
    chosen = _recipients(body, user)
    to = chosen["TO"] if chosen else _default_recipient(conversation)
    try:
        return send_reply(
            ticket,
            actor=user,
            html=rich,
            text=text,
            to=to,
            cc=chosen["CC"] if chosen else [],
            bcc=chosen["BCC"] if chosen else [],
            conversation=conversation,
        )
    except ReplyValidationError as exc:
        raise _reply_error(exc) from None
    except NoReplyChannelError as exc:
        raise validation_error(str(exc)) from None


def _one(conversation: Conversation, message_id: str) -> Message:
    pk = object_id(message_id)
    found = list_conversation_messages(conversation).filter(pk=pk).first()
    if found is None:
        raise not_found(context={"id": [message_id]})
    return found


@conversations_endpoint(methods=("GET", "POST"))
def thread_messages(request: HttpRequest, thread_id: str) -> HttpResponse:
    pk = object_id(thread_id)
    user: User = request.user  # type: ignore[assignment]
    if request.method == "GET":
        # An archived thread's messages stay readable by its id.
        return _list(request, access_conversation(pk, actor=user, archived=None))
    conversation = access_conversation(pk, actor=user)
    stored = _post(request, conversation)
    message = list_conversation_messages(conversation).get(pk=stored.pk)
    return json_response(_shapes(conversation, [message], request)[0], status=201)


@conversations_endpoint()
def thread_message(request: HttpRequest, thread_id: str, message_id: str) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    conversation = access_conversation(object_id(thread_id), actor=user, archived=None)
    message = _one(conversation, message_id)
    return json_response(_shapes(conversation, [message], request)[0])


@conversations_endpoint()
def original_content(request: HttpRequest, thread_id: str, message_id: str) -> HttpResponse:
    """The whole message, with the quoted earlier mail a MESSAGE's `text` leaves out."""
    user: User = request.user  # type: ignore[assignment]
    conversation = access_conversation(object_id(thread_id), actor=user, archived=None)
    return json_response(shapes.original_content_shape(_one(conversation, message_id)))


@conversations_endpoint()
def message_original_content(request: HttpRequest, message_id: str) -> HttpResponse:
    """`…/messages/{id}/original-content` without the thread in the path."""
    user: User = request.user  # type: ignore[assignment]
    message = access_conversation_message(object_id(message_id), actor=user)
    return json_response(shapes.original_content_shape(message))
