"""The conversations inboxes in the workspace: `/inboxes/<id>/` lists an inbox's threads
(newest activity first, keyset paging), `/inboxes/<id>/conversations/<cid>/` shows one thread
with its "… → Move to another inbox" (`workspace.ticket_move`).

Who may see them: every workspace user (a super admin or a user with a help desk seat,
`workspace_required`) — a conversations inbox has no team or owner to scope it by, as the help
desk's tickets have. Moving needs Account access (403 otherwise)."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from svardesk.accounts.queries import request_user
from svardesk.conversations.models import Conversation, Inbox
from svardesk.conversations.moving import (
    PREVIEW_CHARS,
    ConversationMoveError,
    find_conversation,
    get_conversations_inbox,
    get_inbox_conversation,
    inbox_threads_page,
    may_move_conversations,
    move_conversation,
    thread_messages,
)
from svardesk.conversations.queries import adapter_of, display_message, is_in_help_desk
from svardesk.core.decorators import workspace_required
from svardesk.workspace.ticket_move import check_may_move, read_choices, render_dialog

PAGE_SIZE = 50


def _inbox(inbox_id: int) -> Inbox:
    inbox = get_conversations_inbox(inbox_id)
    if inbox is None:
        raise Http404("No such inbox")
    return inbox


@workspace_required
@require_GET
def inbox_threads(request: HttpRequest, inbox_id: int) -> HttpResponse:
    inbox = _inbox(inbox_id)
    cursor = request.GET.get("after", "")[:80]
    rows, next_cursor = inbox_threads_page(inbox, after=cursor, limit=PAGE_SIZE)
    for row in rows:
        adapter = adapter_of(row.channel)
        row.channel_label = str(adapter.label) if adapter else row.channel.get_kind_display()  # type: ignore[attr-defined]
        text = " ".join((row.preview_text or "").split())  # type: ignore[attr-defined]
        row.preview = text if len(text) < PREVIEW_CHARS - 1 else f"{text}…"  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "inbox": inbox,
        "threads": rows,
        "next_cursor": next_cursor,
        "is_later_page": bool(cursor),
        "current_view": f"inbox-{inbox.pk}",
    }
    return render(request, "workspace/inbox/list.html", context)


def _conversation(inbox: Inbox, conversation_id: int) -> Conversation | HttpResponse:
    """The inbox's conversation; one moved away since is followed to where it is now."""
    conversation = get_inbox_conversation(inbox, conversation_id)
    if conversation is not None:
        return conversation
    moved = find_conversation(conversation_id)
    if moved is None:
        raise Http404("No such conversation")
    if is_in_help_desk(moved):
        if moved.ticket_id is None:
            raise Http404("No such conversation")
        return redirect("tickets:detail", moved.ticket_id)
    return redirect("inboxes:conversation", moved.inbox_id, moved.pk)


@workspace_required
@require_GET
def inbox_conversation(request: HttpRequest, inbox_id: int, conversation_id: int) -> HttpResponse:
    inbox = _inbox(inbox_id)
    found = _conversation(inbox, conversation_id)
    if isinstance(found, HttpResponse):
        return found
    conversation = found
    messages = thread_messages(conversation)
    adapter = adapter_of(conversation.channel)
    label = str(adapter.label) if adapter else conversation.channel.get_kind_display()
    entries = []
    for message in messages:
        entry = display_message(message, list(message.attachments.all()))
        entry.channel_kind, entry.channel_label = conversation.channel.kind, label
        entries.append(entry)
    user = request_user(request)
    context: dict[str, Any] = {
        "inbox": inbox,
        "conversation": conversation,
        "entries": entries,
        "channel_label": label,
        "may_move": may_move_conversations(user),
        "current_view": f"inbox-{inbox.pk}",
    }
    return render(request, "workspace/inbox/conversation.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def move_from_inbox(request: HttpRequest, inbox_id: int, conversation_id: int) -> HttpResponse:
    actor = request_user(request)
    check_may_move(actor)
    inbox = _inbox(inbox_id)
    conversation = get_inbox_conversation(inbox, conversation_id)
    if conversation is None:
        raise Http404("No such conversation")
    post_url = reverse("inboxes:move", args=[inbox.pk, conversation.pk])
    cancel_url = reverse("inboxes:conversation", args=[inbox.pk, conversation.pk])
    if request.method == "GET":
        return render_dialog(
            request, post_url=post_url, cancel_url=cancel_url, conversations=[conversation]
        )
    _chosen, to_inbox, assignee, comment, errors = read_choices(request, [conversation])
    values = {"to_inbox": to_inbox, "assignee": assignee, "comment": comment}
    if not errors:
        try:
            moved = move_conversation(
                conversation, to_inbox=to_inbox, actor=actor, assignee=assignee, comment=comment
            )
        except ConversationMoveError as exc:
            errors = exc.errors
    if errors:
        return render_dialog(
            request,
            post_url=post_url,
            cancel_url=cancel_url,
            conversations=[conversation],
            values=values,
            errors=errors,
            status=422,
        )
    # Where the conversation is now: its ticket in the help desk, or its new inbox.
    if moved.ticket_id is not None and is_in_help_desk(moved):
        url = reverse("tickets:detail", args=[moved.ticket_id])
    else:
        url = reverse("inboxes:conversation", args=[moved.inbox_id, moved.pk])
    if request.htmx:  # type: ignore[attr-defined]
        return HttpResponseClientRedirect(url)
    return redirect(url)


app_name = "inboxes"

urlpatterns: list[URLPattern] = [
    path("<int:inbox_id>/", inbox_threads, name="threads"),
    path(
        "<int:inbox_id>/conversations/<int:conversation_id>/",
        inbox_conversation,
        name="conversation",
    ),
    path(
        "<int:inbox_id>/conversations/<int:conversation_id>/move/",
        move_from_inbox,
        name="move",
    ),
]
