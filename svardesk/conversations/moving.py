"""Moving one conversation between inboxes ("… → Move to another inbox", SPEC §4).

Out of the help desk, the conversation goes to a conversations inbox and its ticket stays in
the help desk, keeping the conversation as history (`conversation.ticket` is kept): the
ticket's thread no longer shows it, no reply leaves on it from the ticket, and a new message
on it no longer continues, reopens or moves the ticket (`queries.is_in_help_desk`). Back into
the help desk it joins its ticket again, or a new ticket made for it. Only super admins and
users with Account access move conversations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from svardesk.accounts.models import User
from svardesk.conversations.editor import text_as_html
from svardesk.conversations.inbound import (
    DESCRIPTION_LENGTH,
    first_stage,
    ticket_name,
    ticket_source,
)
from svardesk.conversations.models import (
    Conversation,
    DeliveryStatus,
    Inbox,
    InboxKind,
    Message,
    MessageDirection,
)
from svardesk.conversations.services import may_manage_channels
from svardesk.core.exceptions import PermissionDeniedError, SvardeskError
from svardesk.core.local_cache import cached, forget
from svardesk.core.on_commit import after_commit
from svardesk.core.parsing import parse_id
from svardesk.tickets.forms import assignable_users
from svardesk.tickets.models import Ticket, TicketEvent, TicketEventKind
from svardesk.tickets.services import create_ticket, ensure_default_pipeline, update_ticket
from svardesk.tickets.signals import ticket_changed

MAX_COMMENT = 10_000
PREVIEW_CHARS = 160  # of a thread's latest message read for its row in the list


class ConversationMoveError(SvardeskError):
    """The move cannot be made as asked; `errors` maps a form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


def may_move_conversations(user: User) -> bool:
    """Super admins and users with Account access (the same people who connect channels)."""
    return may_manage_channels(user)


# --- Reads -------------------------------------------------------------------------------------


def list_target_inboxes(conversation: Conversation) -> list[Inbox]:
    """Every inbox but the conversation's own, the help desk first."""
    return sorted(
        Inbox.objects.exclude(pk=conversation.inbox_id),
        key=lambda inbox: (inbox.kind != InboxKind.HELP_DESK, inbox.name.lower(), inbox.pk),
    )


def list_conversations_inboxes() -> list[Inbox]:
    """The conversations inboxes (not the help desk), by name, each with `thread_count`."""
    return list(
        Inbox.objects.filter(kind=InboxKind.CONVERSATIONS)
        .annotate(thread_count=Count("conversations"))
        .order_by("name", "pk")
    )


SIDEBAR_INBOXES_KEY = "conversations:sidebar-inboxes"


def sidebar_inboxes() -> list[Inbox]:
    """`list_conversations_inboxes` as every full workspace page's sidebar shows it: kept a
    few seconds per process (core.local_cache), so a page pays no statement for it; a move
    forgets it at once in its own process."""
    return cached(SIDEBAR_INBOXES_KEY, list_conversations_inboxes)


def get_conversations_inbox(inbox_id: int) -> Inbox | None:
    return Inbox.objects.filter(pk=inbox_id, kind=InboxKind.CONVERSATIONS).first()


def list_inbox_threads(inbox: Inbox) -> QuerySet[Conversation]:
    """The inbox's conversations, newest activity first (ties: newest id), with what a list
    row shows; paging is the caller's (keyset on `last_message_at`, `id`)."""
    return (
        Conversation.objects.filter(inbox=inbox)
        .select_related("channel", "contact", "assignee")
        .order_by(F("last_message_at").desc(nulls_last=True), "-id")
    )


def get_inbox_conversation(inbox: Inbox, conversation_id: int) -> Conversation | None:
    return (
        Conversation.objects.filter(pk=conversation_id, inbox=inbox)
        .select_related("channel", "contact", "assignee", "ticket", "inbox")
        .first()
    )


def _with_row_fields(threads: QuerySet[Conversation]) -> QuerySet[Conversation]:
    """Each thread's latest message (not a comment), shortened, and its latest customer
    sender: read in the list's one statement."""
    latest = Message.objects.filter(conversation_id=OuterRef("pk")).exclude(
        direction=MessageDirection.COMMENT
    )
    inbound = Message.objects.filter(
        conversation_id=OuterRef("pk"), direction=MessageDirection.INBOUND
    ).order_by("-created_at", "-id")
    return threads.annotate(
        preview_text=Subquery(
            latest.order_by("-created_at", "-id")
            .annotate(short=Substr("body_text", 1, PREVIEW_CHARS))
            .values("short")[:1]
        ),
        sender_name=Subquery(inbound.values("sender_name")[:1]),
        sender_address=Subquery(inbound.values("sender_address")[:1]),
    )


def _cursor(conversation: Conversation) -> str:
    at = conversation.last_message_at
    return f"{at.isoformat() if at else ''}~{conversation.pk}"


def _after(threads: QuerySet[Conversation], cursor: str) -> QuerySet[Conversation]:
    """The threads after `cursor` in the list's order (last message desc, nulls last; id desc)."""
    raw_at, _sep, raw_id = cursor.rpartition("~")
    pk = parse_id(raw_id)
    if pk is None:
        return threads
    at = parse_datetime(raw_at) if raw_at else None
    if at is None:
        return threads.filter(last_message_at__isnull=True, pk__lt=pk)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return threads.filter(
        Q(last_message_at__lt=at)
        | Q(last_message_at=at, pk__lt=pk)
        | Q(last_message_at__isnull=True)
    )


def inbox_threads_page(
    inbox: Inbox, *, after: str = "", limit: int
) -> tuple[list[Conversation], str]:
    """One page of `list_inbox_threads` after the opaque cursor `after` (a malformed one
    gives the first page), each row with `preview_text`, `sender_name`, `sender_address`;
    and the cursor of the next page ("" on the last)."""
    threads = _with_row_fields(list_inbox_threads(inbox))
    if after:
        threads = _after(threads, after)
    rows = list(threads[: limit + 1])
    next_cursor = _cursor(rows[limit - 1]) if len(rows) > limit else ""
    return rows[:limit], next_cursor


def find_conversation(conversation_id: int) -> Conversation | None:
    """Any conversation by id, with its inbox (to follow one moved away since)."""
    return Conversation.objects.filter(pk=conversation_id).select_related("inbox").first()


def thread_messages(conversation: Conversation) -> list[Message]:
    """The conversation's messages, oldest first, with what the thread draws."""
    return list(
        Message.objects.filter(conversation=conversation)
        .select_related("author", "contact", "channel")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


# --- Moving ------------------------------------------------------------------------------------


def _clean(
    conversation: Conversation, to_inbox: Inbox | None, assignee: User | None, comment: str
) -> Inbox:
    errors: dict[str, str] = {}
    target = Inbox.objects.filter(pk=to_inbox.pk).first() if to_inbox is not None else None
    if target is None:
        errors["to_inbox"] = _("Choose the inbox to move the conversation to.")
    elif target.pk == conversation.inbox_id:
        errors["to_inbox"] = _("The conversation is already in this inbox. Choose another.")
    if assignee is not None and not assignable_users().filter(pk=assignee.pk).exists():
        errors["assignee"] = _("This user cannot be assigned conversations.")
    if len(comment) > MAX_COMMENT:
        errors["comment"] = _("The comment is too long.")
    if errors or target is None:
        raise ConversationMoveError(errors)
    return target


def _first_text(conversation: Conversation) -> str:
    return (
        Message.objects.filter(conversation=conversation, direction=MessageDirection.INBOUND)
        .order_by("created_at", "id")
        .values_list("body_text", flat=True)
        .first()
    ) or ""


def _new_ticket(conversation: Conversation, *, actor: User) -> Ticket:
    """A ticket for a conversation that never had one (or lost it): the one way in."""
    text = _first_text(conversation)
    stage = first_stage()
    return create_ticket(
        actor=actor,
        name=ticket_name(conversation.subject, text),
        pipeline=stage.pipeline if stage else ensure_default_pipeline(),
        stage=stage,
        description=" ".join(text.split())[:DESCRIPTION_LENGTH],
        contact=conversation.contact,
        source=ticket_source(conversation.channel),
    )


def _announce(ticket_id: int, actor_id: int) -> None:
    ticket_changed.send(sender=Ticket, ticket_id=ticket_id, actor_id=actor_id)


@transaction.atomic
def move_conversation(
    conversation: Conversation,
    *,
    to_inbox: Inbox | None,
    actor: User,
    assignee: User | None = None,
    comment: str = "",
) -> Conversation:
    """Move `conversation` to `to_inbox`, optionally reassigning it (in the help desk: the
    ticket's owner, through `update_ticket`, so the timeline records it; in a conversations
    inbox: `conversation.assignee`) and adding an internal comment. The ticket, when there is
    one, records the move on its timeline. PermissionDeniedError for a user who may not move
    conversations; ConversationMoveError for an unknown inbox, the inbox it is already in, an
    assignee who cannot own tickets or a comment too long."""
    if not may_move_conversations(actor):
        raise PermissionDeniedError(_("Moving conversations needs the Account access permission."))
    comment = comment.strip()
    # Locked, so two moves of one conversation happen one after the other.
    conversation = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("inbox", "channel", "contact")
        .get(pk=conversation.pk)
    )
    target = _clean(conversation, to_inbox, assignee, comment)
    from_inbox = conversation.inbox
    ticket = (
        Ticket.objects.filter(pk=conversation.ticket_id).first()
        if conversation.ticket_id is not None
        else None
    )
    if target.kind == InboxKind.HELP_DESK:
        if ticket is None:
            ticket = _new_ticket(conversation, actor=actor)
        conversation.ticket = ticket
        conversation.assignee = None  # in the help desk the ticket's owner answers
    elif assignee is not None or from_inbox.kind == InboxKind.HELP_DESK:
        conversation.assignee = assignee
    conversation.inbox = target
    now = timezone.now()  # after a new ticket's creation: the move follows it on its timeline
    conversation.save(update_fields=["inbox", "ticket", "assignee", "updated_at"])
    if ticket is not None and target.kind == InboxKind.HELP_DESK and assignee is not None:
        update_ticket(ticket.pk, actor=actor, changes={"owner": assignee.pk}, now=now)
    if ticket is not None:
        TicketEvent.objects.create(
            ticket=ticket,
            actor=actor,
            kind=TicketEventKind.CONVERSATION_MOVED,
            data=_event_data(conversation, from_inbox, target, assignee),
            created_at=now,
        )
        after_commit(_announce, ticket.pk, actor.pk)
    after_commit(forget, SIDEBAR_INBOXES_KEY)
    if comment:
        Message.objects.create(
            conversation=conversation,
            channel=conversation.channel,
            direction=MessageDirection.COMMENT,
            author=actor,
            sender_name=actor.display_name,
            body_text=comment,
            body_html=text_as_html(comment),
            delivery_status=DeliveryStatus.RECEIVED,
            # Just after the move, so the thread reads "moved", then the note.
            created_at=now + dt.timedelta(microseconds=1),
        )
    return conversation


def _event_data(
    conversation: Conversation, from_inbox: Inbox, to_inbox: Inbox, assignee: User | None
) -> dict[str, Any]:
    """Names as they read at the time of the move (an inbox renamed later keeps them), and the
    ids, so the line can link to the conversation."""
    return {
        "conversation": conversation.subject or None,
        "conversation_id": conversation.pk,
        "channel": conversation.channel.name,
        "from_inbox": from_inbox.name,
        "from_inbox_id": from_inbox.pk,
        "to_inbox": to_inbox.name,
        "to_inbox_id": to_inbox.pk,
        "to_help_desk": to_inbox.kind == InboxKind.HELP_DESK,
        "assignee": assignee.display_name if assignee is not None else None,
    }
